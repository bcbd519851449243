import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LabelCardinalityGuard, LabelPairGuard, OVERFLOW_LABEL_VALUE } from './label-guard';
import {
  MetricsRegistry,
  metricsOptionsFromEnv,
  toSnakeCase,
  type BackendLoadSample,
} from './metrics-registry';
import { PROMETHEUS_PATHS, renderPrometheus } from './prometheus-text';

const fresh = (maxUsers = 1000) => new MetricsRegistry({ maxUsers, collectDefaultMetrics: false });

const genAi = {
  operation: 'chat',
  requestModel: 'gpt-4',
  responseModel: 'gpt-4-0613',
  provider: 'openai',
};

describe('MetricsRegistry', () => {
  it('exports the spec metrics with exactly its names and labels', async () => {
    const m = fresh();
    m.recordTokens(
      { user: 'alice', model: 'gpt-4' },
      {
        input: 120,
        output: 40,
        cached: 100,
        cache_write: 15,
        cache_write_1h: 5,
        image_input: 7,
        image_output: 30,
      },
    );
    m.observeRequestDuration({ provider: 'openai', model: 'gpt-4' }, 0.8);
    m.recordFallback({ from: 'openai', to: 'anthropic', reason: 'rateLimit' });
    m.addCost({ user: 'alice', model: 'gpt-4' }, 0.0048);
    m.recordCacheHit('gpt-4');
    m.recordCacheMiss('gpt-4');
    const text = await m.metrics();
    for (const line of [
      'ai_gateway_tokens_total{user="alice",model="gpt-4",type="input"} 120',
      'ai_gateway_tokens_total{user="alice",model="gpt-4",type="output"} 40',
      'ai_gateway_tokens_total{user="alice",model="gpt-4",type="cached"} 100',
      'ai_gateway_tokens_total{user="alice",model="gpt-4",type="cache_write"} 15',
      'ai_gateway_tokens_total{user="alice",model="gpt-4",type="cache_write_1h"} 5',
      'ai_gateway_tokens_total{user="alice",model="gpt-4",type="image_input"} 7',
      'ai_gateway_tokens_total{user="alice",model="gpt-4",type="image_output"} 30',
      'ai_gateway_request_duration_seconds_count{provider="openai",model="gpt-4"} 1',
      'ai_gateway_fallback_total{from="openai",to="anthropic",reason="rate_limit"} 1',
      'ai_gateway_cost_dollars{user="alice",model="gpt-4"} 0.0048',
      'ai_gateway_cache_hits_total{model="gpt-4"} 1',
      'ai_gateway_cache_misses_total{model="gpt-4"} 1',
      '# TYPE ai_gateway_request_duration_seconds histogram',
      '# TYPE ai_gateway_cost_dollars counter',
    ]) {
      assert.ok(text.includes(line), `missing: ${line}`);
    }
  });

  it('counts the calls metered without a price, by model, within the model cap', async () => {
    const m = new MetricsRegistry({ maxModels: 1, collectDefaultMetrics: false });
    m.recordUnpricedCall('llama-3');
    m.recordUnpricedCall('llama-3');
    m.recordUnpricedCall('invented-by-a-client');
    const text = await m.metrics();
    assert.ok(text.includes('# TYPE ai_gateway_unpriced_calls_total counter'));
    assert.ok(text.includes('ai_gateway_unpriced_calls_total{model="llama-3"} 2'));
    assert.ok(text.includes('ai_gateway_unpriced_calls_total{model="__other__"} 1'));
  });

  it("exports backends' cooldowns, and which are cooling, read afresh at each scrape", async () => {
    const m = fresh();
    m.recordBackendCooldown({ backend: 'primary', reason: 'failures' });
    m.recordBackendCooldown({ backend: 'primary', reason: 'failures' });
    m.recordBackendCooldown({ backend: 'secondary', reason: 'retry_after' });
    let states = [
      { backend: 'primary', cooling: true },
      { backend: 'secondary', cooling: false },
    ];
    m.watchBackendStates(() => states);
    let text = await m.metrics();
    for (const line of [
      'ai_gateway_backend_cooldowns_total{backend="primary",reason="failures"} 2',
      'ai_gateway_backend_cooldowns_total{backend="secondary",reason="retry_after"} 1',
      'ai_gateway_backend_cooling{backend="primary"} 1',
      'ai_gateway_backend_cooling{backend="secondary"} 0',
    ]) {
      assert.ok(text.includes(line), `missing: ${line}`);
    }
    // A reload removed the secondary; the primary is back in rotation.
    states = [{ backend: 'primary', cooling: false }];
    text = await m.metrics();
    assert.ok(text.includes('ai_gateway_backend_cooling{backend="primary"} 0'));
    assert.ok(!text.includes('ai_gateway_backend_cooling{backend="secondary"}'));
  });

  it("exports each backend origin's connections and the calls waiting for one", async () => {
    const m = fresh();
    let pools = [{ origin: 'https://api.openai.com', open: 8, busy: 5, waiting: 2 }];
    m.watchUpstreamPools(() => pools);
    let text = await m.metrics();
    for (const line of [
      'ai_gateway_upstream_connections{origin="https://api.openai.com",state="open"} 8',
      'ai_gateway_upstream_connections{origin="https://api.openai.com",state="busy"} 5',
      'ai_gateway_upstream_requests_waiting{origin="https://api.openai.com"} 2',
    ]) {
      assert.ok(text.includes(line), `missing: ${line}`);
    }
    pools = [];
    text = await m.metrics();
    assert.ok(!text.includes('ai_gateway_upstream_requests_waiting{'));
  });

  it("exports each backend's calls in flight and latency estimate from the router", async () => {
    const m = fresh();
    let loads: { backend: string; inFlight: number; latencyMs?: number }[] = [
      { backend: 'fast', inFlight: 2, latencyMs: 150 },
      { backend: 'new', inFlight: 1 },
    ];
    m.watchBackendLoads(() => loads);
    let text = await m.metrics();
    for (const line of [
      'ai_gateway_backend_in_flight{backend="fast"} 2',
      'ai_gateway_backend_in_flight{backend="new"} 1',
      'ai_gateway_backend_latency_ewma_seconds{backend="fast"} 0.15',
    ]) {
      assert.ok(text.includes(line), `missing: ${line}`);
    }
    assert.ok(
      !text.includes('ai_gateway_backend_latency_ewma_seconds{backend="new"}'),
      'unmeasured',
    );
    loads = [{ backend: 'new', inFlight: 0, latencyMs: 40 }];
    text = await m.metrics();
    assert.ok(
      !text.includes('ai_gateway_backend_in_flight{backend="fast"}'),
      'removed by a reload',
    );
    assert.ok(text.includes('ai_gateway_backend_latency_ewma_seconds{backend="new"} 0.04'));
  });

  it("exports the age of each kind of a backend's latency figure, absent before it answered", async () => {
    const m = fresh();
    let loads: BackendLoadSample[] = [
      {
        backend: 'old',
        inFlight: 0,
        latencyAges: [
          { kind: 'json', seconds: 12.5 },
          { kind: 'stream', seconds: 400 },
        ],
      },
      { backend: 'new', inFlight: 1 },
    ];
    m.watchBackendLoads(() => loads);
    let text = await m.metrics();
    for (const line of [
      'ai_gateway_backend_latency_age_seconds{backend="old",kind="json"} 12.5',
      'ai_gateway_backend_latency_age_seconds{backend="old",kind="stream"} 400',
    ]) {
      assert.ok(text.includes(line), `missing: ${line}`);
    }
    assert.ok(!text.includes('ai_gateway_backend_latency_ewma_seconds{backend="old"}'), 'stale');
    assert.ok(!text.includes('ai_gateway_backend_latency_age_seconds{backend="new"'));
    loads = [];
    text = await m.metrics();
    assert.ok(!text.includes('ai_gateway_backend_latency_age_seconds{'), 'removed by a reload');
  });

  it('exports the OpenTelemetry GenAI metrics and the operations metrics', async () => {
    const m = fresh();
    m.recordGenAiTokenUsage(genAi, { input: 120, output: 40 });
    m.observeGenAiRequestDuration(genAi, 1.2);
    m.observeGenAiRequestDuration(genAi, 30, 'timeout');
    m.observeTimeToFirstToken(genAi, 0.2);
    m.observeTimePerOutputToken(genAi, 0.02);
    m.recordRequest({ route: '/v1/chat/completions', status: 200 });
    m.setBudgetRemaining({ budgetKey: 'alice', limit: 'tokenBudget.perUser' }, 5000);
    m.recordReservationOvershoot({ limit: 'tokenBudget.perUser' }, 12);
    m.recordBudgetHoldsLapsed('call', 2);
    m.recordBudgetHoldsLapsed('batch', 1);
    m.setSpoolDepth(3);
    m.setConsumerLag({ group: 'budget', topic: 'gateway.usage.recorded.v1', partition: 4 }, 17);
    m.recordConfigReload(false, 'poll', 'a'.repeat(64), false);
    m.recordEventLogPruned({ deleted: 12 });
    m.recordEventLogPruned({ deleted: 3 });
    m.recordEventLogPruned({ error: new Error('disk full') });
    m.recordAnalyticsRetention({ expiredRows: 40 });
    m.recordAnalyticsRetention({ error: new Error('database is locked') });
    m.recordEventRejected({
      topic: 'gateway.usage.recorded.v1',
      code: 'CONTRACTS.UNKNOWN_VERSION',
    });
    const text = await m.metrics();
    const labels =
      'gen_ai_operation_name="chat",gen_ai_request_model="gpt-4",gen_ai_response_model="gpt-4-0613",gen_ai_provider_name="openai"';
    for (const line of [
      `gen_ai_client_token_usage_sum{${labels},gen_ai_token_type="input"} 120`,
      `gen_ai_client_token_usage_sum{${labels},gen_ai_token_type="output"} 40`,
      `gen_ai_server_request_duration_count{${labels}} 1`,
      `gen_ai_server_request_duration_count{${labels},error_type="timeout"} 1`,
      `gen_ai_server_time_to_first_token_count{${labels}} 1`,
      `gen_ai_server_time_per_output_token_count{${labels}} 1`,
      'ai_gateway_requests_total{route="/v1/chat/completions",status="200"} 1',
      'ai_gateway_budget_remaining{budget_key="alice",limit="tokenBudget.perUser"} 5000',
      'ai_gateway_reservation_overshoot_tokens_total{limit="tokenBudget.perUser"} 12',
      'ai_gateway_budget_holds_lapsed_total{kind="call"} 2',
      'ai_gateway_budget_holds_lapsed_total{kind="batch"} 1',
      'ai_gateway_kafka_producer_spool_depth 3',
      'ai_gateway_kafka_consumer_lag{group="budget",topic="gateway.usage.recorded.v1",partition="4"} 17',
      'ai_gateway_config_reloads_total{result="success",trigger="poll"} 0',
      'ai_gateway_config_reloads_total{result="failure",trigger="poll"} 1',
      'ai_gateway_config_reloads_total{result="failure",trigger="signal"} 0',
      'ai_gateway_event_log_pruned_events_total 15',
      'ai_gateway_event_log_prune_failures_total 1',
      'ai_gateway_analytics_expired_rows_total 40',
      'ai_gateway_analytics_retention_failures_total 1',
      'ai_gateway_events_rejected_total{topic="gateway.usage.recorded.v1",code="CONTRACTS.UNKNOWN_VERSION"} 1',
    ]) {
      assert.ok(text.includes(line), `missing: ${line}`);
    }
  });

  it('folds users past the cap into __other__ and counts the overflow', async () => {
    const m = fresh(2);
    for (const user of ['alice', 'bob', 'carol', 'dave', 'alice']) {
      m.recordTokens({ user, model: 'gpt-4' }, { input: 10 });
    }
    m.addCost({ user: 'erin', model: 'gpt-4' }, 1);
    const text = await m.metrics();
    assert.ok(text.includes('ai_gateway_tokens_total{user="alice",model="gpt-4",type="input"} 20'));
    assert.ok(text.includes('ai_gateway_tokens_total{user="bob",model="gpt-4",type="input"} 10'));
    assert.ok(
      text.includes(
        `ai_gateway_tokens_total{user="${OVERFLOW_LABEL_VALUE}",model="gpt-4",type="input"} 20`,
      ),
    );
    assert.ok(
      text.includes(`ai_gateway_cost_dollars{user="${OVERFLOW_LABEL_VALUE}",model="gpt-4"} 1`),
    );
    assert.ok(!/carol|dave|erin/.test(text));
    assert.ok(text.includes('ai_gateway_metrics_label_overflow_total{label="user"} 3'));
  });

  it('caps (user, model) pairs: users each under the user cap cannot multiply the series by every model', async () => {
    const m = new MetricsRegistry({ maxUserModels: 3, collectDefaultMetrics: false });
    for (const [user, model] of [
      ['alice', 'a'],
      ['alice', 'b'],
      ['bob', 'a'],
      ['bob', 'b'], // the fourth pair: bob's calls of b are __other__'s
      ['alice', 'a'],
    ]) {
      m.recordTokens({ user, model }, { input: 1, output: 2 });
      m.addCost({ user, model }, 1);
    }
    const text = await m.metrics();
    const tokens = (user: string, model: string) =>
      text.includes(`ai_gateway_tokens_total{user="${user}",model="${model}",type="output"}`);
    assert.ok(tokens('alice', 'a') && tokens('alice', 'b') && tokens('bob', 'a'));
    assert.ok(!tokens('bob', 'b'));
    assert.ok(
      text.includes(
        `ai_gateway_tokens_total{user="${OVERFLOW_LABEL_VALUE}",model="b",type="output"} 2`,
      ),
    );
    assert.ok(text.includes(`ai_gateway_cost_dollars{user="${OVERFLOW_LABEL_VALUE}",model="b"} 1`));
    assert.ok(text.includes('ai_gateway_tokens_total{user="alice",model="a",type="input"} 2'));
    // Counted once per observation folded: the tokens and the cost of bob's call of b.
    assert.ok(text.includes('ai_gateway_metrics_label_overflow_total{label="user_model"} 2'));
  });

  it("caps budget keys apart from users, so a user's qualified budget key takes no user's place", async () => {
    const m = fresh(2);
    m.recordTokens({ user: 'alice', model: 'gpt-4' }, { input: 1 });
    // Identified by a JWT where the config identifies users more than one way.
    m.setBudgetRemaining({ budgetKey: 'jwt:auth0:sub:alice', limit: 'tokenBudget.perUser' }, 5);
    m.recordTokens({ user: 'bob', model: 'gpt-4' }, { input: 1 });
    m.setBudgetRemaining({ budgetKey: 'jwt:auth0:sub:bob', limit: 'tokenBudget.perUser' }, 5);
    const text = await m.metrics();
    assert.ok(text.includes('ai_gateway_tokens_total{user="bob",model="gpt-4",type="input"} 1'));
    assert.ok(text.includes('ai_gateway_budget_remaining{budget_key="jwt:auth0:sub:bob"'));
    assert.ok(!text.includes(`="${OVERFLOW_LABEL_VALUE}"`));
  });

  it('reads the caps from the environment and rejects nonsense', () => {
    assert.deepEqual(metricsOptionsFromEnv({}), {
      maxUsers: 1000,
      maxModels: 500,
      maxUserModels: 10_000,
    });
    assert.equal(
      metricsOptionsFromEnv({ AI_GATEWAY_METRICS_MAX_USER_MODELS: '7' }).maxUserModels,
      7,
    );
    assert.equal(metricsOptionsFromEnv({ AI_GATEWAY_METRICS_MAX_USERS: '5' }).maxUsers, 5);
    assert.throws(
      () => metricsOptionsFromEnv({ AI_GATEWAY_METRICS_MAX_USERS: 'lots' }),
      /AI_GATEWAY_METRICS_MAX_USERS/,
    );
    const m = MetricsRegistry.fromEnv(
      { AI_GATEWAY_METRICS_MAX_USERS: '1' },
      { collectDefaultMetrics: false },
    );
    assert.equal(m.users.limit, 1);
  });

  it('gives each instance its own registry, process metrics included by default', async () => {
    const a = new MetricsRegistry();
    const b = new MetricsRegistry({ collectDefaultMetrics: false });
    a.recordCacheHit('m');
    assert.ok((await a.metrics()).includes('process_cpu_user_seconds_total'));
    assert.ok(!(await b.metrics()).includes('ai_gateway_cache_hits_total{model="m"}'));
  });

  it('renders Prometheus text for the admin endpoints', async () => {
    const m = fresh();
    m.recordCacheHit('gpt-4');
    const response = await renderPrometheus(m);
    assert.match(response.contentType, /^text\/plain; version=0\.0\.4/);
    assert.ok(response.body.includes('ai_gateway_cache_hits_total{model="gpt-4"} 1'));
    assert.deepEqual([...PROMETHEUS_PATHS], ['/metrics', '/stats/prometheus']);
  });

  it('prints default labels, resets, and rejects non-finite observations', async () => {
    const m = new MetricsRegistry({
      collectDefaultMetrics: false,
      defaultLabels: { service: 'ingress' },
    });
    m.observeRequestDuration({ provider: 'openai', model: 'gpt-4' }, 0.005);
    m.recordRequest({ route: '/v1/embeddings', status: 429 });
    m.observeBudgetBroadcastLag(-3);
    let text = await m.metrics();
    for (const line of [
      'ai_gateway_request_duration_seconds_bucket{le="0.005",service="ingress",provider="openai",model="gpt-4"} 1',
      'ai_gateway_request_duration_seconds_bucket{le="+Inf",service="ingress",provider="openai",model="gpt-4"} 1',
      'ai_gateway_requests_total{route="/v1/embeddings",status="429",service="ingress"} 1',
      'ai_gateway_budget_broadcast_lag_seconds_sum{service="ingress"} 0',
    ]) {
      assert.ok(text.includes(line), `missing: ${line}`);
    }
    assert.throws(() => m.observeRequestDuration({ provider: 'p', model: 'm' }, NaN), TypeError);
    assert.throws(() => m.recordTokens({ user: 'u', model: 'm' }, { input: Infinity }), TypeError);
    m.registry.resetMetrics();
    text = await m.metrics();
    assert.ok(!text.includes('ai_gateway_requests_total{'));
    assert.ok(!text.includes('ai_gateway_budget_broadcast_lag_seconds_count'));
  });

  it('has finite buckets up to the default timeouts, so quantiles of slow calls are not capped', async () => {
    const m = fresh();
    // Under firstByteTimeout's default (15 s) and requestTimeout's (5 min): a quantile landing
    // in +Inf reads as the top finite bucket, whatever the calls really took.
    m.observeTimeToFirstToken(genAi, 14);
    m.observeGenAiRequestDuration(genAi, 290);
    m.observeRequestDuration({ provider: 'openai', model: 'gpt-4' }, 290);
    const text = await m.metrics();
    for (const name of [
      'gen_ai_server_time_to_first_token',
      'gen_ai_server_request_duration',
      'ai_gateway_request_duration_seconds',
    ]) {
      const finite = text
        .split('\n')
        .filter((l) => l.startsWith(`${name}_bucket{`) && !l.includes('le="+Inf"'));
      assert.ok(
        finite.some((l) => l.endsWith(' 1')),
        `${name}: the slow call is in a finite bucket`,
      );
    }
  });

  it('spells reasons the way the spec does', () => {
    assert.equal(toSnakeCase('rateLimit'), 'rate_limit');
    assert.equal(toSnakeCase('budgetExceeded'), 'budget_exceeded');
    assert.equal(toSnakeCase('rate_limit'), 'rate_limit');
  });
});

describe('LabelCardinalityGuard', () => {
  it('keeps the first N values and folds the rest', () => {
    const overflows: string[] = [];
    const guard = new LabelCardinalityGuard('user', 2, (label) => overflows.push(label));
    assert.deepEqual(
      ['a', 'b', 'c', 'a', 'b', 'd'].map((v) => guard.admit(v)),
      ['a', 'b', '__other__', 'a', 'b', '__other__'],
    );
    assert.equal(guard.size, 2);
    assert.deepEqual(overflows, ['user', 'user']);
  });

  it('gives the values it keeps their own series, outside the limit', () => {
    const guard = new LabelCardinalityGuard('model', 1);
    guard.keep(['gpt-4o']);
    assert.deepEqual(
      ['invented', 'other', 'gpt-4o'].map((v) => guard.admit(v)),
      ['invented', '__other__', 'gpt-4o'],
    );
    // Another set replaces it; what was admitted stays.
    guard.keep(['o3']);
    assert.deepEqual(
      ['o3', 'gpt-4o', 'invented'].map((v) => guard.admit(v)),
      ['o3', '__other__', 'invented'],
    );
  });

  it('with a limit of 0 folds everything', () => {
    assert.equal(new LabelCardinalityGuard('user', 0).admit('a'), '__other__');
  });
});

describe('LabelPairGuard', () => {
  it('keeps the first N pairs, folds the user of later ones, and passes __other__ through', () => {
    const overflows: string[] = [];
    const guard = new LabelPairGuard('user_model', 2, (label) => overflows.push(label));
    assert.deepEqual(
      [
        ['u1', 'm1'],
        ['u1', 'm2'],
        ['u2', 'm1'],
        ['u1', 'm1'],
        ['__other__', 'm3'],
      ].map(([user, model]) => guard.admitUser(user, model)),
      ['u1', 'u1', '__other__', 'u1', '__other__'],
    );
    assert.equal(guard.size, 2);
    assert.deepEqual(overflows, ['user_model']);
  });
});
