// Checks the alerting rules with Prometheus's own promtool, which the unit specs cannot run
// (no Go toolchain in CI): the rules file parses as Prometheus parses it, and a few rules'
// expressions, taken from the file as they are, answer as they should on made-up series.
//   PROMTOOL=/path/to/promtool node scripts/deploy/promtool-check.mjs
// promtool: `go install github.com/prometheus/prometheus/cmd/promtool@latest`.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parse } from 'yaml';

const promtool = process.env.PROMTOOL ?? 'promtool';
const rulesFile = resolve('deploy/prometheus/ai-gateway-alerts.yaml');
const rules = parse(readFileSync(rulesFile, 'utf8')).groups.flatMap((group) => group.rules);
const exprOf = (alert) => {
  const rule = rules.find((candidate) => candidate.alert === alert);
  if (!rule) throw new Error(`no rule ${alert}`);
  return rule.expr;
};

// A pod's labels as the scrape gives them; `pod` is the one most cases need.
const podAt = (ip) => `namespace="ns",service="svc",instance="${ip}:9901"`;
const pod = podAt('10.0.0.1');
// The series the cases feed in, one sample a minute.
const deadLetters = (labels, values) => ({
  series: `ai_gateway_events_rejected_total{${labels},topic="usage",code="DECODE.INVALID"}`,
  values,
});
const startedAt = (labels, values) => ({ series: `process_start_time_seconds{${labels}}`, values });
const tokenRefreshes = (labels, result, values) => ({
  series: `ai_gateway_provider_token_refreshes_total{${labels},backend="vertex",source="metadata",result="${result}"}`,
  values,
});
const chatRequests = (status, values) => ({
  series: `ai_gateway_requests_total{${pod},route="/v1/chat/completions",status="${status}"}`,
  values,
});
// What AiGatewayEventsDeadLettered answers for DECODE.INVALID dead letters.
const deadLettered = (value) => [
  { labels: '{namespace="ns",topic="usage",code="DECODE.INVALID"}', value },
];
// Each case: the series, when to evaluate, what the expr returns there.
const cases = [
  {
    name: 'one event dead-lettered, its series born with it, still counts',
    alert: 'AiGatewayEventsDeadLettered',
    series: [
      deadLetters(pod, '_x24 1x20'),
      // A pod up long before, scraped throughout.
      startedAt(pod, '-100000x50'),
    ],
    eval_time: '30m',
    exp_samples: deadLettered(1),
  },
  {
    name: 'old dead letters are not born again when scraping resumes after a gap',
    alert: 'AiGatewayEventsDeadLettered',
    series: [deadLetters(pod, '1x5 _x25 1x10'), startedAt(pod, '-100000x5 _x25 -100000x10')],
    eval_time: '35m',
    exp_samples: [],
  },
  {
    // Each pod answers for its own series: another pod scraped throughout vouches for none.
    name: 'across replicas, one pod back from a gap counts nothing again, another its new series',
    alert: 'AiGatewayEventsDeadLettered',
    series: [
      deadLetters(pod, '1x5 _x25 1x10'),
      startedAt(pod, '-100000x5 _x25 -100000x10'),
      deadLetters(podAt('10.0.0.2'), '_x25 3x15'),
      startedAt(podAt('10.0.0.2'), '-100000x40'),
    ],
    eval_time: '35m',
    exp_samples: deadLettered(3),
  },
  {
    name: 'a pod started within the window counts what it dead-lettered since',
    alert: 'AiGatewayEventsDeadLettered',
    series: [
      deadLetters(podAt('10.0.0.9'), '_x22 2x10'),
      startedAt(podAt('10.0.0.9'), '_x20 1200x12'),
    ],
    eval_time: '25m',
    exp_samples: deadLettered(2),
  },
  {
    name: 'an event dead-lettered long ago is not counted again',
    alert: 'AiGatewayEventsDeadLettered',
    series: [deadLetters(pod, '1x60')],
    eval_time: '40m',
    exp_samples: [],
  },
  {
    name: 'events refused on a series that existed count their increase',
    alert: 'AiGatewayEventsRefused',
    series: [
      {
        series: `ai_gateway_events_rejected_total{${pod},topic="usage",code="PRODUCER.SPOOL_FULL"}`,
        values: '0+1x60',
      },
    ],
    eval_time: '35m',
    exp_samples: [
      {
        labels: `{${pod},topic="usage",code="PRODUCER.SPOOL_FULL"}`,
        value: 15,
      },
    ],
  },
  {
    name: 'a token mint that failed once and then worked is no credentials failure',
    alert: 'AiGatewayProviderCredentialsFailing',
    series: [
      tokenRefreshes(pod, 'ok', '1x10 2x20'),
      // One failure long before, then the blip at 10m.
      tokenRefreshes(pod, 'failed', '1x9 2x21'),
    ],
    eval_time: '15m',
    exp_samples: [],
  },
  {
    name: 'mints that keep failing on one pod are, whatever the others mint',
    alert: 'AiGatewayProviderCredentialsFailing',
    series: [
      tokenRefreshes(pod, 'ok', '1x30'),
      tokenRefreshes(pod, 'failed', '0+1x30'),
      tokenRefreshes(podAt('10.0.0.2'), 'ok', '1+1x30'),
    ],
    eval_time: '20m',
    exp_samples: [{ labels: `{${pod},backend="vertex",source="metadata"}`, value: 15 }],
  },
  {
    name: "the split deployment's router refusing at a per-model limit (limit unknown) sheds load",
    alert: 'AiGatewayModelLimitRefusing',
    series: [
      {
        series: `ai_gateway_budget_refusals_total{${pod},route="/v1/chat/completions",limit="unknown"}`,
        values: '0+6x30',
      },
      chatRequests('429', '0+6x30'),
      chatRequests('200', '0+54x30'),
    ],
    eval_time: '20m',
    exp_samples: [{ labels: '{namespace="ns",service="svc",limit="unknown"}', value: 0.1 }],
  },
  {
    name: 'failovers the router counts against the requests the ingress counts',
    alert: 'AiGatewayFailoverStorm',
    series: [
      {
        series: `ai_gateway_fallback_total{namespace="ns",service="router",instance="10.0.0.3:9901",from="openai",to="anthropic",reason="rate_limit"}`,
        values: '0+12x30',
      },
      chatRequests('200', '0+60x30'),
    ],
    eval_time: '20m',
    exp_samples: [{ labels: '{namespace="ns",from="openai",reason="rate_limit"}', value: 0.2 }],
  },
];

const dir = mkdtempSync(join(tmpdir(), 'aigw-promtool-'));
try {
  execFileSync(promtool, ['check', 'rules', rulesFile], { stdio: 'inherit' });
  const tests = cases.map((testCase) => ({
    interval: '1m',
    input_series: testCase.series,
    promql_expr_test: [
      {
        expr: exprOf(testCase.alert),
        eval_time: testCase.eval_time,
        exp_samples: testCase.exp_samples,
      },
    ],
  }));
  const testFile = join(dir, 'alerts.test.yaml');
  writeFileSync(testFile, JSON.stringify({ tests }, null, 2));
  execFileSync(promtool, ['test', 'rules', testFile], { stdio: 'inherit' });
  console.log(`promtool-check: ${cases.length} expression cases pass`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
