export const OVERFLOW_LABEL_VALUE = '__other__';

/**
 * Caps how many distinct values one label may take. The first `limit` values seen keep
 * their own series; later ones share `__other__`, so a flood of new users or invented
 * model names cannot grow Prometheus memory without bound. The cap lasts for the process.
 */
export class LabelCardinalityGuard {
  readonly #seen = new Set<string>();

  constructor(
    readonly label: string,
    readonly limit: number,
    private readonly onOverflow: (label: string) => void = () => undefined,
  ) {
    if (!Number.isInteger(limit) || limit < 0) {
      throw new Error(`label limit for "${label}" must be a whole number >= 0; got ${limit}`);
    }
  }

  /** The value to put on the series for `value`. */
  admit(value: string): string {
    if (this.#seen.has(value)) return value;
    if (this.#seen.size < this.limit) {
      this.#seen.add(value);
      return value;
    }
    this.onOverflow(this.label);
    return OVERFLOW_LABEL_VALUE;
  }

  get size(): number {
    return this.#seen.size;
  }
}
