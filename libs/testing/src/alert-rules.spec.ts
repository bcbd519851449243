// The alerting rules in deploy/ against what the gateway exports, with no Prometheus: every
// metric an expr reads is one the registry defines, read as its type allows (a counter
// through rate/increase, a gauge as it is, a histogram through _bucket/_sum/_count), every
// label it names is the metric's; every rule says how long, how bad and what to do; and the
// PrometheusRule in the kustomize base holds the plain rules file's groups, unchanged.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { parseDocument } from 'yaml';
import { parseGatewayConfig } from '@aigw/config';
import {
  bornInWindow,
  countersBornAtFirstEvent,
  exportedMetricTypes,
  groupingLabels,
  metricNames,
  TARGET_LABELS,
  typeProblems,
} from './promql-metrics';

const root = join(__dirname, '..', '..', '..');
const read = (...path: string[]): string => readFileSync(join(root, ...path), 'utf8');
const RULES_FILE = 'deploy/prometheus/ai-gateway-alerts.yaml';
const OPERATOR_FILE = 'deploy/k8s/base/prometheusrule.yaml';

interface Rule {
  alert: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}
interface RuleGroup {
  name: string;
  rules: Rule[];
}

/** One YAML document of the project's parser, refused if it has errors or warnings. */
function parseYaml(file: string): unknown {
  const doc = parseDocument(read(file));
  assert.deepEqual(doc.errors, [], `${file}: YAML errors`);
  assert.deepEqual(doc.warnings, [], `${file}: YAML warnings`);
  return doc.toJS();
}

const plain = parseYaml(RULES_FILE) as { groups: RuleGroup[] };
const operator = parseYaml(OPERATOR_FILE) as {
  apiVersion: string;
  kind: string;
  metadata: { name: string };
  spec: { groups: RuleGroup[] };
};
const rules = plain.groups.flatMap((group) => group.rules);
const exported = exportedMetricTypes();

const RULE_KEYS = new Set(['alert', 'expr', 'for', 'labels', 'annotations']);
const SEVERITIES = new Set(['critical', 'warning']);
/** What is wrong with one rule's expr and annotations (empty: nothing). */
function problemsOf(rule: Rule): string[] {
  const problems: string[] = [];
  const names = metricNames(rule.expr);
  if (names.length === 0) problems.push('reads no metric');
  for (const name of names) {
    if (!exported.has(name)) problems.push(`${name} is not a metric the gateway exports`);
  }
  problems.push(...typeProblems(rule.expr, exported));
  // Matchers: each label on the metric it selects (or one Prometheus adds at the scrape).
  const noStrings = rule.expr.replace(/"(?:[^"\\]|\\.)*"/g, '""');
  for (const [, name, matchers] of noStrings.matchAll(/([A-Za-z_:][A-Za-z0-9_:]*)\{([^}]*)\}/g)) {
    const labels = exported.get(name)?.labels ?? [];
    for (const [, label] of matchers.matchAll(/([A-Za-z_][A-Za-z0-9_]*)\s*(?:=~|!~|!=|=)/g)) {
      if (!labels.includes(label) && !TARGET_LABELS.includes(label)) {
        problems.push(`${name} has no label ${label}`);
      }
    }
  }
  // Grouping: each label on one of the metrics the expr reads.
  const known = new Set([...TARGET_LABELS, ...names.flatMap((n) => exported.get(n)?.labels ?? [])]);
  const grouped = groupingLabels(rule.expr);
  for (const label of grouped) {
    if (!known.has(label)) problems.push(`no metric of the expr has the label ${label}`);
  }
  // An annotation can print only a label the alert keeps: one the expr groups by.
  for (const [key, text] of Object.entries(rule.annotations ?? {})) {
    for (const [, label] of text.matchAll(/\$labels\.([A-Za-z_][A-Za-z0-9_]*)/g)) {
      if (!grouped.includes(label)) problems.push(`${key} prints ${label}, which is not kept`);
    }
  }
  return problems;
}

test('the rules file is a plain Prometheus rules file: groups of rules, nothing else', () => {
  assert.deepEqual(Object.keys(plain), ['groups']);
  assert.ok(plain.groups.length > 0 && rules.length > 0);
  const groupNames = plain.groups.map((group) => group.name);
  assert.equal(
    new Set(groupNames).size,
    groupNames.length,
    `group names repeat: ${groupNames.join(', ')}`,
  );
  for (const group of plain.groups) {
    assert.deepEqual(Object.keys(group).sort(), ['name', 'rules'], group.name);
    assert.match(group.name, /^ai-gateway\.[a-z-]+$/);
  }
});

test('alert names are unique', () => {
  const names = rules.map((rule) => rule.alert);
  const repeated = names.filter((name, i) => names.indexOf(name) !== i);
  assert.deepEqual(repeated, []);
});

test('every rule alerts for a while, with a severity, a summary and a description that says what to do', () => {
  for (const rule of rules) {
    const where = rule.alert ?? JSON.stringify(rule).slice(0, 60);
    for (const key of Object.keys(rule)) {
      assert.ok(RULE_KEYS.has(key), `${where}: unknown key ${key}`);
    }
    assert.match(rule.alert, /^AiGateway[A-Z][A-Za-z0-9]+$/, `${where}: an alert named AiGateway…`);
    assert.match(rule.for ?? '', /^[1-9]\d*[smh]$/, `${where}: for: a duration`);
    assert.ok(SEVERITIES.has(rule.labels?.severity ?? ''), `${where}: severity critical/warning`);
    const { summary, description } = rule.annotations ?? {};
    assert.ok(summary && summary.trim().length > 10, `${where}: a summary`);
    assert.ok(!summary.includes('\n'), `${where}: a one-line summary`);
    assert.ok(description && description.length > 80, `${where}: a description`);
    assert.match(description, /Runbook: \S/, `${where}: the description says what to do`);
  }
  // Something should page: not every alert a warning.
  assert.ok(rules.some((rule) => rule.labels?.severity === 'critical'));
});

test('every expr reads metrics the registry exports, as their types allow, with their labels', () => {
  for (const rule of rules) {
    assert.deepEqual(problemsOf(rule), [], `${rule.alert}: ${rule.expr}`);
  }
});

test('a rule on increase() of a counter born at its first event also counts the series born in its window', async () => {
  // prom-client creates a labelled series at its first inc(), with that count: increase()
  // needs a sample before, so one dead-lettered event, one batch left running unbilled or
  // one refused event (each born with its series) never raised its alert.
  const born = await countersBornAtFirstEvent();
  assert.ok(born.has('ai_gateway_events_rejected_total'), 'the registry is read');
  assert.ok(!born.has('ai_gateway_config_reloads_total'), 'set to 0 at start, so not born later');
  const increases = /increase\(([A-Za-z_:][A-Za-z0-9_:]*)(\{[^}]*\})?\[(\d+[smhd])\]\)/g;
  const missing: string[] = [];
  for (const rule of rules) {
    const births = bornInWindow(rule.expr);
    for (const [, name, matchers = '', window] of rule.expr.matchAll(increases)) {
      const selector = `${name}${matchers}[${window}]`;
      if (born.has(name) && !births.includes(selector)) missing.push(`${rule.alert}: ${selector}`);
    }
  }
  assert.deepEqual(missing, []);
  // The whole-series term is no counter read as is.
  const guard = (window: string, seconds: number) =>
    `and on (namespace, instance) (process_start_time_seconds offset ${window} or process_start_time_seconds > time() - ${seconds})`;
  assert.deepEqual(
    bornInWindow(
      `sum((x_total{a="b"} unless x_total{a="b"} offset 15m) ${guard('15m', 900)} or increase(x_total{a="b"}[15m]))`,
    ),
    ['x_total{a="b"}[15m]'],
  );
  // Another series, no pod check (a gap in scraping would count old series), or windows apart.
  assert.deepEqual(bornInWindow(`(x_total unless y_total offset 15m) ${guard('15m', 900)}`), []);
  assert.deepEqual(
    bornInWindow('(x_total unless x_total offset 15m) or increase(x_total[15m])'),
    [],
  );
  assert.deepEqual(bornInWindow(`(x_total unless x_total offset 15m) ${guard('15m', 300)}`), []);
  assert.deepEqual(bornInWindow(`(x_total unless x_total offset 15m) ${guard('5m', 900)}`), []);
});

test('a rule that reads a metric the gateway does not export, or reads one wrongly, fails', () => {
  const rule = (expr: string, description = 'Runbook: x'): Rule => ({
    alert: 'AiGatewayProbe',
    expr,
    for: '1m',
    labels: { severity: 'warning' },
    annotations: { summary: 'a probe of the checks', description },
  });
  assert.deepEqual(problemsOf(rule('sum(rate(ai_gateway_no_such_thing_total[5m])) > 0')), [
    'ai_gateway_no_such_thing_total is not a metric the gateway exports',
  ]);
  // A histogram's own name is no series; a counter as is; rate() of a gauge.
  assert.deepEqual(problemsOf(rule('ai_gateway_request_duration_seconds > 1')), [
    'ai_gateway_request_duration_seconds is a histogram: read its _bucket, _sum or _count',
  ]);
  assert.deepEqual(problemsOf(rule('ai_gateway_budget_holds_lapsed_total > 0')), [
    'ai_gateway_budget_holds_lapsed_total is a counter: read it through rate() or increase(), not as is',
  ]);
  assert.deepEqual(
    problemsOf(rule('sum by (le) (ai_gateway_request_duration_seconds_bucket) > 0')),
    [
      'ai_gateway_request_duration_seconds_bucket is a histogram_bucket: read it through rate() or increase(), not as is',
    ],
  );
  assert.deepEqual(problemsOf(rule('rate(ai_gateway_kafka_producer_spool_depth[5m]) > 0')), [
    'ai_gateway_kafka_producer_spool_depth is a gauge: rate() of it means nothing',
  ]);
  // The second use of a metric counts too.
  assert.deepEqual(
    problemsOf(rule('rate(ai_gateway_fallback_total[5m]) > 0 and ai_gateway_fallback_total > 0')),
    ['ai_gateway_fallback_total is a counter: read it through rate() or increase(), not as is'],
  );
  // Labels the metric does not have, and an annotation printing one the alert drops.
  assert.deepEqual(
    problemsOf(
      rule(
        'sum by (route) (ai_gateway_backend_cooling{region="eu"}) > 0',
        'Runbook: {{ $labels.backend }}',
      ),
    ),
    [
      'ai_gateway_backend_cooling has no label region',
      'no metric of the expr has the label route',
      'description prints backend, which is not kept',
    ],
  );
  // And a well-formed one passes, so the checks above fail for their reason alone.
  assert.deepEqual(
    problemsOf(
      rule(
        'sum by (backend) (rate(ai_gateway_backend_requests_total{result="error"}[5m])) > 0',
        'Runbook: {{ $labels.backend }}',
      ),
    ),
    [],
  );
});

test('the consumer groups the lag alerts watch are the budget settler’s and the usage-sink’s', () => {
  const settlerGroup = /readonly group = '([\w-]+)'/.exec(
    read('libs/budget/src/budget-settler.ts'),
  );
  const sinkGroup = /USAGE_SINK_GROUP = '([\w-]+)'/.exec(
    read('libs/usage-sink/src/usage-sink.consumer.ts'),
  );
  assert.ok(settlerGroup && sinkGroup, 'the groups are named in the sources');
  const watched = new Set(
    rules.flatMap((rule) => [...rule.expr.matchAll(/\bgroup="([\w-]+)"/g)].map((m) => m[1])),
  );
  assert.deepEqual([...watched].sort(), [settlerGroup[1], sinkGroup[1]].sort());
});

test('the rules cover what pages an operator', () => {
  const read = (metric: string) =>
    rules.filter((rule) => metricNames(rule.expr).includes(metric)).map((rule) => rule.alert);
  for (const metric of [
    'ai_gateway_requests_total',
    'ai_gateway_request_duration_seconds_bucket',
    'ai_gateway_kafka_producer_spool_depth',
    'ai_gateway_events_rejected_total',
    'ai_gateway_kafka_consumer_lag',
    'ai_gateway_backend_requests_total',
    'ai_gateway_backend_cooling',
    'ai_gateway_internal_auth_failures_total',
    'ai_gateway_config_reloads_total',
    'ai_gateway_reservation_overshoot_tokens_total',
    'ai_gateway_budget_holds_lapsed_total',
    'ai_gateway_provider_token_refreshes_total',
    // Budgets reset and usage counted twice, with no error, when Redis may evict keys.
    'ai_gateway_redis_eviction_policy_safe',
    // A shared per-model limit refusing: load shed for every caller of a model.
    'ai_gateway_budget_refusals_total',
    // Budget alerts that reach no one.
    'ai_gateway_budget_alert_webhooks_total',
    // Failover storms, the provider's 429s among them.
    'ai_gateway_fallback_total',
    // A saturated process: every request on it waits.
    'nodejs_eventloop_lag_p99_seconds',
  ]) {
    assert.ok(read(metric).length > 0, `no alert reads ${metric}`);
  }
  const errors = rules.find((rule) => /status=~"5\.\."/.test(rule.expr));
  assert.equal(errors?.labels?.severity, 'critical', 'a 5xx error rate pages');
  const p99 = rules.find((rule) => /histogram_quantile\(0\.99,/.test(rule.expr));
  assert.ok(p99, 'a p99 latency alert');
});

test('a runbook that drains or resets a backend says each router replica keeps its own', () => {
  // The router's backend state is per process (GET /admin/backends answers scope: process):
  // an operator who drains one pod of several has drained nothing for the rest.
  const adminSource = read('libs/router/src/admin/backend-admin-routes.ts');
  assert.match(adminSource, /scope: 'process'/, 'the backend admin routes act per process');
  const sending = rules.filter((rule) =>
    /\/admin\/backends\//.test(rule.annotations?.description ?? ''),
  );
  assert.ok(sending.length > 0, 'some runbook drains or resets a backend');
  for (const rule of sending) {
    const text = (rule.annotations?.description ?? '').replace(/\s+/g, ' ');
    assert.match(text, /every router pod/, `${rule.alert}: names every router pod`);
    assert.match(text, /each replica keeps its own/, `${rule.alert}: says why`);
    assert.doesNotMatch(text, /on the router's admin port/, `${rule.alert}: one pod is not enough`);
  }
});

test('the PrometheusRule in the kustomize base holds the rules file’s groups, unchanged', () => {
  assert.equal(operator.apiVersion, 'monitoring.coreos.com/v1');
  assert.equal(operator.kind, 'PrometheusRule');
  assert.equal(operator.metadata.name, 'ai-gateway');
  assert.deepEqual(Object.keys(operator.spec), ['groups']);
  assert.deepEqual(
    operator.spec.groups,
    plain.groups,
    `${OPERATOR_FILE} differs from ${RULES_FILE}: run node scripts/deploy/prometheus-rule.mjs`,
  );
  const kustomization = parseYaml('deploy/k8s/base/kustomization.yaml') as { resources: string[] };
  assert.ok(kustomization.resources.includes('prometheusrule.yaml'), 'kubectl apply -k ships it');
});

test('the gateway’s config loader sets the PrometheusRule aside when it sits beside the config', () => {
  const config = read('deploy/k8s/base/config/gateway.yaml');
  const alone = parseGatewayConfig(config, { missingSecrets: 'not-needed', env: {} });
  const beside = parseGatewayConfig(`${config}\n---\n${read(OPERATOR_FILE)}`, {
    missingSecrets: 'not-needed',
    env: {},
  });
  assert.ok(alone.ok && beside.ok, 'both load');
  assert.equal(beside.skippedDocuments, alone.skippedDocuments + 1);
  assert.ok(beside.notes.some((note) => /PrometheusRule "ai-gateway"\): skipped/.test(note)));
});
