import {
  type Aggregator,
  type Metric,
  type OpenMetricsContentType,
  type PrometheusContentType,
  type Registry,
} from 'prom-client';
import { type SeriesLabels } from './series-index';

export type PromRegistry = Registry<PrometheusContentType> | Registry<OpenMetricsContentType>;

/** One sample line as prom-client's Registry reads it from `get()` / `getForPromString()`. */
export interface ExportedSample {
  readonly value: number;
  readonly labels: Readonly<Record<string, string | number>>;
  /** Series labels printed after `labels` (histograms: `le` comes first). */
  readonly sharedLabels?: SeriesLabels;
  /** Suffixed name (`_bucket`, `_sum`, `_count`); the metric's name when absent. */
  readonly metricName?: string;
  readonly exemplar?: null;
}

export interface ExportedMetric {
  readonly name: string;
  readonly help: string;
  readonly type: 'counter' | 'histogram';
  readonly values: ExportedSample[];
  readonly aggregator: Aggregator;
}

/**
 * What prom-client 15's Registry uses of a registered metric (lib/registry.js): `name` to key
 * it, `get()` for `getMetricsAsJSON()` and for the text when there is no `getForPromString()`,
 * `reset()` for `resetMetrics()`, `type` and `aggregator` for the text and cluster merging.
 */
export interface RegistrableMetric {
  readonly name: string;
  readonly help: string;
  readonly type: 'counter' | 'histogram';
  readonly aggregator: Aggregator;
  get(): Promise<ExportedMetric>;
  getForPromString?(): Promise<ExportedMetric>;
  reset(): void;
}

export interface FastMetricConfig<Names extends readonly string[]> {
  readonly name: string;
  readonly help: string;
  readonly labelNames?: Names;
  readonly registers: readonly PromRegistry[];
  readonly aggregator?: Aggregator;
}

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/** The same construction-time checks prom-client makes, with the same messages. */
export function validateMetricConfig(config: FastMetricConfig<readonly string[]>): void {
  if (!config.help) throw new Error('Missing mandatory help parameter');
  if (!config.name) throw new Error('Missing mandatory name parameter');
  if (!METRIC_NAME.test(config.name)) throw new Error('Invalid metric name');
  if (!(config.labelNames ?? []).every((label) => LABEL_NAME.test(label))) {
    throw new Error('Invalid label name');
  }
}

export function registerInAll(
  metric: RegistrableMetric,
  registries: readonly PromRegistry[],
): void {
  for (const registry of registries) {
    // prom-client's typings accept only its own metric classes, but at runtime the Registry
    // needs just the members of RegistrableMetric.
    registry.registerMetric(metric as unknown as Metric);
  }
}
