export const OVERFLOW_LABEL_VALUE = '__other__';

/**
 * Caps how many distinct values one label may take. The first `limit` values seen keep
 * their own series; later ones share `__other__`, so a flood of new users or invented
 * model names cannot grow Prometheus memory without bound. The cap lasts for the process.
 * Values the operator named (`keep`) always have their own series and take no room under
 * the cap, so values invented first cannot push them into `__other__`.
 */
export class LabelCardinalityGuard {
  readonly #seen = new Set<string>();
  #kept: ReadonlySet<string> = new Set();

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
    if (this.#seen.has(value) || this.#kept.has(value)) return value;
    if (this.#seen.size < this.limit) {
      this.#seen.add(value);
      return value;
    }
    this.onOverflow(this.label);
    return OVERFLOW_LABEL_VALUE;
  }

  /**
   * The values that always keep their own series, replacing those given before (a config
   * reload names its own): one dropped from them is then admitted as any other value.
   */
  keep(values: Iterable<string>): void {
    this.#kept = new Set(values);
  }

  get size(): number {
    return this.#seen.size;
  }
}
