import { type Aggregator } from 'prom-client';
import {
  type ExportedMetric,
  type ExportedSample,
  type FastMetricConfig,
  type RegistrableMetric,
  registerInAll,
  validateMetricConfig,
} from './registry-contract';
import { type LabelValuesOf, SeriesIndex, type SeriesLabels } from './series-index';

export type { LabelValue, LabelValuesOf } from './series-index';

/*
 * Counter and histogram for the per-request hot path. They print exactly what prom-client's
 * Counter and Histogram print for the same observations, from the same Registry, but take
 * label values positionally (in label-name order) instead of as an object: no label object,
 * closure, validation pass or sorted hash string per call, just one Map lookup per label.
 */

function assertFinite(value: number): void {
  if (!Number.isFinite(value)) throw new TypeError(`Value is not a valid number: ${value}`);
}

class CounterSeries {
  value = 0;
  constructor(readonly labels: SeriesLabels) {}
}

export class FastCounter<
  const Names extends readonly string[] = readonly [],
> implements RegistrableMetric {
  readonly type = 'counter';
  // Not readonly: an OpenMetrics Registry renames counters (drops `_total`) when it renders.
  name: string;
  readonly help: string;
  readonly labelNames: Names;
  readonly aggregator: Aggregator;
  readonly #series: SeriesIndex<CounterSeries>;

  constructor(config: FastMetricConfig<Names>) {
    validateMetricConfig(config);
    this.name = config.name;
    this.help = config.help;
    this.labelNames = config.labelNames ?? ([] as readonly string[] as Names);
    this.aggregator = config.aggregator ?? 'sum';
    this.#series = new SeriesIndex(this.labelNames, (labels) => new CounterSeries(labels));
    this.reset();
    registerInAll(this, config.registers);
  }

  /** Adds `value` (default 1) to the series of `labelValues`; 0 creates the series. */
  inc(labelValues: LabelValuesOf<Names>, value = 1): void {
    // prom-client lets NaN through and the series prints `Nan` forever; refuse it instead.
    assertFinite(value);
    if (value < 0) throw new Error('It is not possible to decrease a counter');
    this.#series.seriesFor(labelValues).value += value;
  }

  reset(): void {
    this.#series.clear();
    // Like prom-client, a counter without labels always shows its one series, 0 included.
    if (this.labelNames.length === 0) this.#series.seriesFor([]);
  }

  async get(): Promise<ExportedMetric> {
    return {
      help: this.help,
      name: this.name,
      type: this.type,
      values: this.#series.all().map((series) => ({ value: series.value, labels: series.labels })),
      aggregator: this.aggregator,
    };
  }
}

class HistogramSeries {
  count = 0;
  sum = 0;
  /** Observations per bucket, not cumulative (summed only when scraped). */
  readonly bucketCounts: number[];

  constructor(
    readonly labels: SeriesLabels,
    bucketCount: number,
  ) {
    this.bucketCounts = Array.from({ length: bucketCount }, () => 0);
  }
}

export interface FastHistogramConfig<
  Names extends readonly string[],
> extends FastMetricConfig<Names> {
  /** Upper bounds, strictly increasing; `+Inf` is implied. */
  readonly buckets: readonly number[];
}

export class FastHistogram<
  const Names extends readonly string[] = readonly [],
> implements RegistrableMetric {
  readonly type = 'histogram';
  readonly name: string;
  readonly help: string;
  readonly labelNames: Names;
  readonly aggregator: Aggregator;
  readonly upperBounds: readonly number[];
  readonly #series: SeriesIndex<HistogramSeries>;

  constructor(config: FastHistogramConfig<Names>) {
    validateMetricConfig(config);
    this.name = config.name;
    this.help = config.help;
    this.labelNames = config.labelNames ?? ([] as readonly string[] as Names);
    if (this.labelNames.includes('le')) throw new Error('le is a reserved label keyword');
    this.upperBounds = validBuckets(config.buckets);
    this.aggregator = config.aggregator ?? 'sum';
    const bucketCount = this.upperBounds.length;
    this.#series = new SeriesIndex(
      this.labelNames,
      (labels) => new HistogramSeries(labels, bucketCount),
    );
    // prom-client shows a label-less histogram's zero series from the start, but not again
    // after reset() (until the next observation); mirror both.
    if (this.labelNames.length === 0) this.#series.seriesFor([]);
    registerInAll(this, config.registers);
  }

  observe(labelValues: LabelValuesOf<Names>, value: number): void {
    assertFinite(value);
    const series = this.#series.seriesFor(labelValues);
    series.count += 1;
    series.sum += value;
    const bounds = this.upperBounds;
    for (let i = 0; i < bounds.length; i++) {
      if (value <= bounds[i]) {
        series.bucketCounts[i] += 1;
        return;
      }
    }
  }

  reset(): void {
    this.#series.clear();
  }

  /** Series labels apart from `le`, so the Registry prints `le` first, as for prom-client's. */
  async getForPromString(): Promise<ExportedMetric> {
    const bucketName = `${this.name}_bucket`;
    const sumName = `${this.name}_sum`;
    const countName = `${this.name}_count`;
    const values: ExportedSample[] = [];
    for (const series of this.#series.all()) {
      const shared = series.labels;
      let cumulative = 0;
      for (let i = 0; i < this.upperBounds.length; i++) {
        cumulative += series.bucketCounts[i];
        values.push(sample({ le: this.upperBounds[i] }, shared, cumulative, bucketName, null));
      }
      values.push(sample({ le: '+Inf' }, shared, series.count, bucketName, null));
      values.push(sample({}, shared, series.sum, sumName, undefined));
      values.push(sample({}, shared, series.count, countName, undefined));
    }
    return {
      name: this.name,
      help: this.help,
      type: this.type,
      values,
      aggregator: this.aggregator,
    };
  }

  /** Same samples with each series' labels folded in after `le` (what getMetricsAsJSON shows). */
  async get(): Promise<ExportedMetric> {
    const metric = await this.getForPromString();
    const values = metric.values.map(({ value, metricName, exemplar, labels, sharedLabels }) => ({
      value,
      metricName,
      exemplar,
      labels: { ...labels, ...sharedLabels },
    }));
    return { ...metric, values };
  }
}

/** Key order and `exemplar` (null on buckets, undefined on _sum/_count) as prom-client's. */
function sample(
  labels: ExportedSample['labels'],
  sharedLabels: SeriesLabels,
  value: number,
  metricName: string,
  exemplar: null | undefined,
): ExportedSample {
  return { labels, sharedLabels, value, metricName, exemplar };
}

function validBuckets(buckets: readonly number[]): readonly number[] {
  for (let i = 0; i < buckets.length; i++) {
    if (!Number.isFinite(buckets[i]) || (i > 0 && buckets[i] <= buckets[i - 1])) {
      throw new Error(
        `Histogram buckets must be finite and strictly increasing: ${buckets.join(', ')}`,
      );
    }
  }
  // A plain copy, not frozen: V8 reads frozen arrays through a slower path in the hot loop.
  return [...buckets];
}
