// A secret value that refuses to be printed. Anything that stringifies, serialises or
// inspects it sees "[REDACTED]"; the value is reachable only through reveal().

const REDACTED = '[REDACTED]';
const inspectCustom = Symbol.for('nodejs.util.inspect.custom');

export class Secret {
  readonly #value: string;

  constructor(value: string) {
    this.#value = value;
    Object.freeze(this);
  }

  /** The secret itself. Call it only where the value is sent on (e.g. an upstream header). */
  reveal(): string {
    return this.#value;
  }

  toString(): string {
    return REDACTED;
  }

  toJSON(): string {
    return REDACTED;
  }

  [inspectCustom](): string {
    return REDACTED;
  }
}
