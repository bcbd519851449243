/** One label's value on a series; `undefined` leaves the label off that series. */
export type LabelValue = string | undefined;

/** Label values in the metric's label-name order, one per name. */
export type LabelValuesOf<Names extends readonly string[]> = {
  readonly [K in keyof Names]: LabelValue;
};

/** A series' labels as prom-client's Registry prints them (absent labels left out). */
export type SeriesLabels = Readonly<Record<string, string>>;

/** One level of the index per label; the node at the last level holds the series. */
class IndexNode<Series> {
  children: Map<LabelValue, IndexNode<Series>> | undefined = undefined;
  series: Series | undefined = undefined;
}

/**
 * Finds a metric's series from its label values without building anything per call:
 * nested Maps keyed by each value in turn, so a lookup is one `Map.get` per label on strings
 * the caller already holds (no joined key to hash, no separator that a value could contain).
 * Remembers series in creation order, the order prom-client prints them in.
 */
export class SeriesIndex<Series> {
  #root = new IndexNode<Series>();
  #inOrder: Series[] = [];

  constructor(
    private readonly labelNames: readonly string[],
    private readonly createSeries: (labels: SeriesLabels) => Series,
  ) {}

  /** The series for `values`, created on first use. */
  seriesFor(values: readonly LabelValue[]): Series {
    if (values.length !== this.labelNames.length) this.throwArityError(values);
    let node = this.#root;
    for (let i = 0; i < values.length; i++) {
      const next = node.children?.get(values[i]);
      node = next ?? this.addChild(node, values[i]);
    }
    return node.series ?? this.addSeries(node, values);
  }

  all(): readonly Series[] {
    return this.#inOrder;
  }

  clear(): void {
    this.#root = new IndexNode<Series>();
    this.#inOrder = [];
  }

  // The cold paths live in their own methods so the lookup loop stays small enough to inline.
  private addChild(node: IndexNode<Series>, value: LabelValue): IndexNode<Series> {
    const child = new IndexNode<Series>();
    (node.children ??= new Map()).set(value, child);
    return child;
  }

  private addSeries(node: IndexNode<Series>, values: readonly LabelValue[]): Series {
    const labels: Record<string, string> = {};
    for (let i = 0; i < values.length; i++) {
      const value = values[i];
      if (value !== undefined) labels[this.labelNames[i]] = value;
    }
    // Frozen: the Registry caches a histogram series' formatted labels by object identity.
    const series = this.createSeries(Object.freeze(labels));
    node.series = series;
    this.#inOrder.push(series);
    return series;
  }

  private throwArityError(values: readonly LabelValue[]): never {
    throw new Error(
      `Expected ${this.labelNames.length} label values (${this.labelNames.join(', ')}); got ${values.length}`,
    );
  }
}
