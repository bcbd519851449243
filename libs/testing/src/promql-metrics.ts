// What PromQL in deploy/ (dashboard queries, alerting rules) reads, checked against what
// the gateway's MetricsRegistry exports. Shared by the specs that hold deploy/ to the code.
import { MetricsRegistry } from '@aigw/observability';

// PromQL words that are not metric names.
const PROMQL_WORDS = new Set([
  'by',
  'without',
  'on',
  'ignoring',
  'group_left',
  'group_right',
  'bool',
  'and',
  'or',
  'unless',
  'offset',
  'inf',
  'nan',
]);

/** The metric names a PromQL expression reads. */
export function metricNames(expr: string): string[] {
  const stripped = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, '""')
    .replace(/\{[^}]*\}/g, '')
    .replace(/\[[^\]]*\]/g, '')
    .replace(/\boffset\s+-?(?:\d+[smhdwy])+/g, '')
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, '');
  return [...stripped.matchAll(/[A-Za-z_:][A-Za-z0-9_:]*(?!\s*\(|[A-Za-z0-9_:])/g)]
    .map((m) => m[0])
    .filter((word) => !PROMQL_WORDS.has(word.toLowerCase()) && !/^\d/.test(word))
    .filter((word, i, words) => {
      // Exponents like 1e-9 leave an `e` behind.
      return !(word === 'e' && /\de-?\d/.test(expr)) && words.indexOf(word) === i;
    });
}

/** The label names a PromQL expression groups by (`by`/`without` lists only). */
export function groupingLabels(expr: string): string[] {
  const noStrings = expr.replace(/"(?:[^"\\]|\\.)*"/g, '""');
  const labels = new Set<string>();
  for (const [, list] of noStrings.matchAll(/\b(?:by|without)\s*\(([^)]*)\)/g)) {
    for (const label of list.split(',')) if (label.trim()) labels.add(label.trim());
  }
  return [...labels];
}

/** The label names a PromQL expression groups by, matches on, or (legend) prints. */
export function labelNames(expr: string, legendFormat = ''): string[] {
  const noStrings = expr.replace(/"(?:[^"\\]|\\.)*"/g, '""');
  const labels = new Set<string>(groupingLabels(expr));
  for (const [, matchers] of noStrings.matchAll(/\{([^}]*)\}/g)) {
    for (const [, label] of matchers.matchAll(/([A-Za-z_][A-Za-z0-9_]*)\s*(?:=~|!~|!=|=)/g)) {
      labels.add(label);
    }
  }
  for (const [, label] of legendFormat.matchAll(/\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}/g)) {
    labels.add(label);
  }
  return [...labels];
}

// Labels Prometheus adds to every series it scrapes through the ServiceMonitor.
export const TARGET_LABELS = [
  'job',
  'instance',
  'namespace',
  'service',
  'pod',
  'container',
  'endpoint',
];

export interface ExportedMetric {
  readonly type: string;
  readonly labels: readonly string[];
}

/** Every metric the registry exports (process metrics included), with its type and labels. */
export function exportedMetricTypes(): Map<string, ExportedMetric> {
  const metrics = new MetricsRegistry();
  const exported = new Map<string, ExportedMetric>();
  for (const metric of metrics.registry.getMetricsAsArray()) {
    const {
      name,
      type,
      labelNames = [],
    } = metric as unknown as {
      name: string;
      type: string;
      labelNames?: readonly string[];
    };
    exported.set(name, { type, labels: labelNames });
    if (type === 'histogram') {
      for (const suffix of ['_bucket', '_sum', '_count']) {
        const labels = suffix === '_bucket' ? [...labelNames, 'le'] : labelNames;
        exported.set(name + suffix, { type: `histogram${suffix}`, labels });
      }
    }
  }
  return exported;
}

/** Every metric the registry exports (process metrics included), with its label names. */
export function exportedMetrics(): Map<string, readonly string[]> {
  return new Map([...exportedMetricTypes()].map(([name, { labels }]) => [name, labels]));
}

// Functions that turn a counter's running total into a per-second or per-window figure.
const COUNTER_FUNCTIONS = new Set(['rate', 'irate', 'increase']);

/** The strings and label matchers of an expr blanked to spaces, so indices stay put. */
function blankStringsAndMatchers(expr: string): string {
  const blank = (text: string) => ' '.repeat(text.length);
  return expr.replace(/"(?:[^"\\]|\\.)*"/g, blank).replace(/\{[^}]*\}/g, blank);
}

/** The function whose parentheses directly hold `index` (undefined: an aggregation or none). */
function enclosingFunction(expr: string, index: number): string | undefined {
  let depth = 0;
  for (let i = index - 1; i >= 0; i--) {
    if (expr[i] === ')') depth++;
    else if (expr[i] === '(' && depth > 0) depth--;
    else if (expr[i] === '(') return /([A-Za-z_][A-Za-z0-9_]*)\s*$/.exec(expr.slice(0, i))?.[1];
  }
  return undefined;
}

/** How `metric` must be read: counters (and histogram series) through rate or increase. */
function typeProblem(name: string, metric: ExportedMetric, around: string | undefined): string {
  const throughCounterFunction = around !== undefined && COUNTER_FUNCTIONS.has(around);
  if (metric.type === 'histogram')
    return `${name} is a histogram: read its _bucket, _sum or _count`;
  const cumulative = metric.type === 'counter' || metric.type.startsWith('histogram_');
  if (cumulative && !throughCounterFunction) {
    return `${name} is a ${metric.type}: read it through rate() or increase(), not ${around ?? 'as is'}`;
  }
  if (metric.type === 'gauge' && throughCounterFunction) {
    return `${name} is a gauge: ${around}() of it means nothing`;
  }
  return '';
}

const SELECTOR = String.raw`[A-Za-z_:][A-Za-z0-9_:]*(?:\{[^}]*\})?`;
const DURATION = String.raw`(\d+)([smhd])`;
/**
 * `(M{…} unless M{…} offset 15m) and on (namespace, instance) (process_start_time_seconds
 * offset 15m or process_start_time_seconds > time() - 900)`: the series of M born in the
 * last 15m, each whole, on pods scraped 15m ago or started since (a gap in scraping would
 * otherwise pass every old series off as born).
 */
const BORN_IN_WINDOW = new RegExp(
  String.raw`\(\s*(${SELECTOR})\s+unless\s+(${SELECTOR})\s+offset\s+${DURATION}\s*\)` +
    String.raw`\s+and\s+on\s*\(\s*namespace\s*,\s*instance\s*\)\s*` +
    String.raw`\(\s*process_start_time_seconds\s+offset\s+${DURATION}\s+or\s+` +
    String.raw`process_start_time_seconds\s*>\s*time\(\)\s*-\s*(\d+)\s*\)`,
  'g',
);
const SECONDS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400 };

/** Whether a match of BORN_IN_WINDOW names one selector and one window throughout. */
function consistentBirth(match: RegExpMatchArray): boolean {
  const [, selector, again, amount, unit, guardAmount, guardUnit, seconds] = match;
  return (
    selector === again &&
    amount === guardAmount &&
    unit === guardUnit &&
    Number(amount) * SECONDS[unit] === Number(seconds)
  );
}

/**
 * The series an expr counts whole from their birth within a window: a counter created at
 * its first event is born with that event's count, which increase() never sees (it needs
 * a sample before), so a rule alerting on such an event reads those series whole beside
 * increase() of the rest. Each entry is the selector and its window: `M{…}[15m]`.
 */
export function bornInWindow(expr: string): string[] {
  return [...expr.matchAll(BORN_IN_WINDOW)]
    .filter(consistentBirth)
    .map(([, selector, , amount, unit]) => `${selector}[${amount}${unit}]`);
}

/**
 * Every place `expr` reads an exported metric against its type: a counter (or a histogram's
 * series) as is restarts from 0 with each pod and only grows, so it is read through rate()
 * or increase(), or whole only as the series born in a window (bornInWindow); rate() of a
 * gauge means nothing. Metrics the registry lacks are not here.
 */
export function typeProblems(
  expr: string,
  exported: ReadonlyMap<string, ExportedMetric>,
): string[] {
  const problems: string[] = [];
  const withoutBirths = [...expr.matchAll(BORN_IN_WINDOW)]
    .filter(consistentBirth)
    .reduce(
      (text, { 0: term, index }) =>
        text.slice(0, index) + ' '.repeat(term.length) + text.slice(index + term.length),
      expr,
    );
  const blanked = blankStringsAndMatchers(withoutBirths);
  for (const name of metricNames(expr)) {
    const metric = exported.get(name);
    if (!metric) continue;
    // Every place the expr reads it, not only the first.
    const uses = [
      ...blanked.matchAll(new RegExp(`(?<![A-Za-z0-9_:])${name}(?![A-Za-z0-9_:])`, 'g')),
    ];
    for (const use of uses) {
      const problem = typeProblem(name, metric, enclosingFunction(blanked, use.index));
      if (problem) problems.push(problem);
    }
  }
  return problems;
}

/**
 * Counters the registry holds no series of until their first event (those with labels not
 * set to 0 at start): the first count of each series is invisible to increase().
 */
export async function countersBornAtFirstEvent(): Promise<Set<string>> {
  const metrics = new MetricsRegistry({ collectDefaultMetrics: false });
  const born = new Set<string>();
  for (const metric of await metrics.registry.getMetricsAsJSON()) {
    if (String(metric.type) === 'counter' && metric.values.length === 0) born.add(metric.name);
  }
  return born;
}
