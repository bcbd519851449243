export const OVERFLOW_LABEL_VALUE = '__other__';

function assertLabelLimit(label: string, limit: number): void {
  if (!Number.isInteger(limit) || limit < 0) {
    throw new Error(`label limit for "${label}" must be a whole number >= 0; got ${limit}`);
  }
}

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
    assertLabelLimit(label, limit);
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

/**
 * Caps the distinct (user, model) pairs of the series that carry both labels. Each label
 * has its own cap, but their product does not: 1,000 users × 500 models, times the seven
 * token types, is millions of series, which a client trusted to name its user (`x-user-id`)
 * on a wildcard route can make by itself. The first `limit` pairs keep their user; a new
 * pair past the cap is counted under `__other__` for its model, so the series stay within
 * `limit` plus one per model.
 */
export class LabelPairGuard {
  readonly #modelsOfUser = new Map<string, Set<string>>();
  #size = 0;

  constructor(
    readonly label: string,
    readonly limit: number,
    private readonly onOverflow: (label: string) => void = () => undefined,
  ) {
    assertLabelLimit(label, limit);
  }

  /** The user label to put on the series of `user` calling `model` (both already admitted). */
  admitUser(user: string, model: string): string {
    if (user === OVERFLOW_LABEL_VALUE) return user;
    const models = this.#modelsOfUser.get(user);
    if (models?.has(model)) return user;
    if (this.#size >= this.limit) {
      this.onOverflow(this.label);
      return OVERFLOW_LABEL_VALUE;
    }
    if (models) models.add(model);
    else this.#modelsOfUser.set(user, new Set([model]));
    this.#size++;
    return user;
  }

  get size(): number {
    return this.#size;
  }
}
