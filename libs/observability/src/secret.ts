import { inspect } from 'node:util';

export const REDACTED = '[REDACTED]';

// A registry-wide symbol so a Secret created by another copy of this module (or another
// lib that brands its own wrapper) is still recognised by the redactor.
export const SECRET_BRAND: unique symbol = Symbol.for('aigw.secret') as never;

/**
 * Wraps a credential so it cannot leak by accident: string conversion, JSON, util.inspect
 * and the logger all print `[REDACTED]`. Only `reveal()` gives the value, at the point of use.
 */
export class Secret<T = string> {
  readonly [SECRET_BRAND] = true;
  readonly #value: T;

  constructor(value: T) {
    this.#value = value;
  }

  reveal(): T {
    return this.#value;
  }

  toString(): string {
    return REDACTED;
  }

  toJSON(): string {
    return REDACTED;
  }

  [inspect.custom](): string {
    return `Secret(${REDACTED})`;
  }

  static isSecret(value: unknown): boolean {
    return typeof value === 'object' && value !== null && SECRET_BRAND in value;
  }
}
