import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseGatewayConfig } from '@aigw/config';
import { ExhaustionView, LocalBudgetStore, type BudgetStore } from '@aigw/budget-core';
import {
  encodeEvent,
  GatewayEndpoint,
  LimitKind,
  RejectReason,
  type EventPublisher,
  type GatewayEvent,
} from '@aigw/contracts';
import {
  DataPlaneError,
  DataPlaneErrorCode,
  type GatewayRequest,
} from '@aigw/contracts/data-plane';
import { MetricsRegistry } from '@aigw/observability';
import { metricSum } from '@aigw/testing';
import { BudgetAdmission } from './admission/budget-admission';
import {
  conflictingCredentials,
  keysUnavailable,
  tierNotGranted,
  unauthenticated,
} from './identity/identity.errors';
import { IngressTelemetry } from './ingress-telemetry';

const parsed = parseGatewayConfig(
  `kind: AIGatewayRoute
metadata: {name: r}
spec:
  backends: [{name: b, provider: openai, model: m}]
  tokenBudget: {perMinute: {limit: 300}}
`,
  { missingSecrets: 'warn', env: {} },
);
if (!parsed.ok) throw new Error('config');
const config = parsed.config;

const request: GatewayRequest = {
  requestId: 'r',
  operation: 'chat',
  requestedModel: 'm',
  stream: false,
  clientWantsStreamUsage: false,
  body: { model: 'm', messages: [], max_tokens: 250 },
  caller: { userKey: 'u' },
  allowedModels: [],
  forwardHeaders: {},
};

function telemetry() {
  const events: GatewayEvent[] = [];
  const publisher: EventPublisher = {
    publish: (event) => events.push(event),
    flush: async () => {},
  };
  const metrics = {
    recordRequest: () => {},
    recordBudgetRefusal: () => {},
  } as unknown as MetricsRegistry;
  return { events, telemetry: new IngressTelemetry(publisher, metrics) };
}

function reject(error: DataPlaneError) {
  const { events, telemetry: observer } = telemetry();
  observer.failed({
    requestId: 'r',
    endpoint: GatewayEndpoint.ChatCompletions,
    request,
    error,
    timings: { startedAt: performance.now() },
    accepted: false,
  });
  assert.equal(events.length, 1);
  return events[0] as GatewayEvent & { reason?: string; limitKind?: string };
}

describe('IngressTelemetry: request.rejected', () => {
  it('names the limit that refused a budget admission', async () => {
    const admission = new BudgetAdmission(
      () => config,
      new LocalBudgetStore(':memory:'),
      new ExhaustionView(),
      { defaultMaxOutputTokens: 100, holdMs: 600_000, now: () => Date.UTC(2026, 0, 1) },
    );
    await admission.admit(request);
    const refusal = await admission.admit(request).then(
      () => assert.fail('admitted past the per-minute budget'),
      (error: unknown) => error,
    );
    assert.ok(refusal instanceof DataPlaneError);
    const event = reject(refusal);
    assert.equal(event.type, 'request.rejected');
    assert.equal(event.reason, RejectReason.BudgetExhausted);
    assert.equal(event.limitKind, LimitKind.TokenBudgetPerMinute);
  });

  it('sets no limit kind on a rejection no limit made', () => {
    const event = reject(new DataPlaneError(DataPlaneErrorCode.InvalidRequest, 'bad'));
    assert.equal(event.reason, RejectReason.InvalidRequest);
    assert.equal(event.limitKind, undefined);
  });
});

describe('failures of our own', () => {
  const fail = (error: DataPlaneError) => {
    const reported: Array<{ error: unknown; requestId: string }> = [];
    const publisher: EventPublisher = { publish: () => undefined, flush: async () => {} };
    const metrics = {
      recordRequest: () => {},
      recordBudgetRefusal: () => {},
    } as unknown as MetricsRegistry;
    const observer = new IngressTelemetry(publisher, metrics, (cause, requestId) =>
      reported.push({ error: cause, requestId }),
    );
    observer.failed({
      requestId: 'req-7',
      endpoint: GatewayEndpoint.ChatCompletions,
      request,
      error,
      timings: { startedAt: performance.now() },
      accepted: true,
    });
    return reported;
  };

  it('reports an internal failure with its cause and request id', () => {
    const bug = new RangeError('Maximum call stack size exceeded');
    const reported = fail(
      new DataPlaneError(DataPlaneErrorCode.Internal, 'The gateway failed', { cause: bug }),
    );
    assert.deepEqual(reported, [{ error: bug, requestId: 'req-7' }]);
  });

  it('does not report bad input or a failing provider', () => {
    assert.deepEqual(fail(new DataPlaneError(DataPlaneErrorCode.InvalidRequest, 'bad')), []);
    assert.deepEqual(fail(new DataPlaneError(DataPlaneErrorCode.UpstreamError, '502')), []);
  });
});

describe('a client that hung up', () => {
  const hangUp = (accepted: boolean, statusSent?: number) => {
    const events: GatewayEvent[] = [];
    const statuses: number[] = [];
    const reported: unknown[] = [];
    const publisher: EventPublisher = {
      publish: (event) => events.push(event),
      flush: async () => {},
    };
    const metrics = {
      recordRequest: ({ status }: { status: number }) => statuses.push(status),
    } as unknown as MetricsRegistry;
    new IngressTelemetry(publisher, metrics, (error) => reported.push(error)).failed({
      requestId: 'req-9',
      endpoint: GatewayEndpoint.ChatCompletions,
      request,
      // What the edge makes of the abort: an error of unknown kind.
      error: new DataPlaneError(DataPlaneErrorCode.Internal, 'failed', {
        cause: new Error('client disconnected'),
      }),
      timings: { startedAt: performance.now() },
      accepted,
      clientGone: true,
      statusSent,
    });
    return { events, statuses, reported };
  };

  it('is recorded as cancelled with 499 in the metrics, and not reported as our failure', () => {
    const { events, statuses, reported } = hangUp(true);
    assert.deepEqual(reported, []);
    assert.deepEqual(statuses, [499]);
    const completed = events[0] as GatewayEvent & { status: string; httpStatus: number };
    assert.equal(completed.status, 'clientCancelled');
    assert.equal(completed.httpStatus, 0);
  });

  it('carries no error code: the abort it caused is not a gateway error', () => {
    // It had been recorded as GATEWAY.INTERNAL, so every hang-up counted as an internal
    // error to anyone reading the completed events by error code.
    const completed = hangUp(true).events[0] as GatewayEvent & { errorCode?: string };
    assert.equal(completed.errorCode, undefined);
  });

  it('keeps the status a stream had already sent', () => {
    const completed = hangUp(true, 200).events[0] as GatewayEvent & { httpStatus: number };
    assert.equal(completed.httpStatus, 200);
  });

  it('before admission, publishes no rejection: nothing was refused', () => {
    const { events, statuses, reported } = hangUp(false);
    assert.deepEqual(events, []);
    assert.deepEqual(statuses, [499]);
    assert.deepEqual(reported, []);
  });
});

describe('the endpoint a request came in on', () => {
  it("is the events' endpoint and the metrics' route, apart from its operation", () => {
    const events: GatewayEvent[] = [];
    const routes: string[] = [];
    const publisher: EventPublisher = {
      publish: (event) => events.push(event),
      flush: async () => {},
    };
    const metrics = {
      recordRequest: ({ route }: { route: string }) => routes.push(route),
    } as unknown as MetricsRegistry;
    const observer = new IngressTelemetry(publisher, metrics);
    // A Messages API call is a chat operation, counted as the Messages endpoint.
    observer.accepted(GatewayEndpoint.Messages, request);
    observer.completed(
      GatewayEndpoint.Messages,
      request,
      { provider: 'openai', backend: 'b', model: 'm' },
      { inputTokens: 1, outputTokens: 1, cachedInputTokens: 0, source: 'reported' },
      { startedAt: performance.now() },
    );
    assert.deepEqual(
      events.map((event) => [event.type, (event as { endpoint?: string }).endpoint]),
      [
        ['request.accepted', 'messages'],
        ['request.completed', 'messages'],
      ],
    );
    assert.deepEqual(routes, ['messages']);
  });
});

describe('the time to first token of a stream', () => {
  it("is the provider's only when it made the call: a reused answer's is not observed", () => {
    const observed: { provider: string; seconds: number }[] = [];
    const metrics = {
      recordRequest: () => undefined,
      observeTimeToFirstToken: (labels: { provider: string }, seconds: number) =>
        observed.push({ provider: labels.provider, seconds }),
    } as unknown as MetricsRegistry;
    const observer = new IngressTelemetry({ publish: () => 0, flush: async () => {} }, metrics);
    const streamed = { ...request, stream: true };
    const servedBy = { provider: 'openai', backend: 'b', model: 'm' };
    const usage = { inputTokens: 1, outputTokens: 1, cachedInputTokens: 0, source: 'reported' };
    const startedAt = performance.now();
    const timings = { startedAt, firstByteAt: startedAt + 1 };
    for (const cached of [true, false]) {
      observer.completed(
        GatewayEndpoint.ChatCompletions,
        streamed,
        servedBy,
        usage as never,
        timings,
        {
          cached,
        },
      );
    }
    // A cache hit or a shared call's follower: its first chunk came from no provider.
    assert.equal(observed.length, 1, JSON.stringify(observed));
    assert.equal(observed[0].provider, 'openai');
  });
});

describe('the time per output token of a stream', () => {
  it('counts the tokens after the first over the time after it, not the wait for the first', async () => {
    const metrics = new MetricsRegistry({ collectDefaultMetrics: false });
    const observer = new IngressTelemetry({ publish: () => 0, flush: async () => {} }, metrics);
    const servedBy = { provider: 'openai', backend: 'b', model: 'm' };
    const usage = { inputTokens: 1, outputTokens: 11, cachedInputTokens: 0, source: 'reported' };
    // A reasoning model: a minute to its first token, then its 11 tokens within 0.1 s.
    const now = performance.now();
    const timings = { startedAt: now - 60_000, firstByteAt: now - 100 };
    for (const cached of [true, false]) {
      observer.completed(
        GatewayEndpoint.ChatCompletions,
        { ...request, stream: true },
        servedBy,
        usage as never,
        timings,
        { cached },
      );
    }
    const text = await metrics.metrics();
    // A reused answer's tokens came from no provider: one observation, the provider's.
    assert.equal(metricSum(text, 'gen_ai_server_time_per_output_token_count', {}), 1);
    const perToken = metricSum(text, 'gen_ai_server_time_per_output_token_sum', {});
    // 0.1 s over 10 tokens, and whatever this test took; never 60 s over 11 (5.5 s).
    assert.ok(perToken > 0 && perToken < 1, String(perToken));
  });
});

describe('IngressTelemetry payloads', () => {
  it('publishes a valid request.payload event and counts it, truncated or not', () => {
    const events: GatewayEvent[] = [];
    const counted: [string, boolean][] = [];
    const publisher: EventPublisher = {
      publish: (event) => events.push(event),
      flush: async () => {},
    };
    const metrics = {
      recordPayloadLogged: (route: string, truncated: boolean) => counted.push([route, truncated]),
    } as unknown as MetricsRegistry;
    new IngressTelemetry(publisher, metrics).payloadLogged({
      route: 'r',
      endpoint: GatewayEndpoint.ChatCompletions,
      request,
      servedBy: { provider: 'openai', backend: 'b', model: '' },
      httpStatus: 200,
      startedAt: Date.parse('2026-03-01T10:00:00.000Z'),
      latencyMs: 12,
      requestBody: { text: '{"model":"m"}', truncated: false, bytes: 13 },
      responseBody: { text: '{"cho', truncated: true, bytes: 900 },
    });
    assert.equal(events.length, 1);
    const [event] = events;
    assert.equal(event.type, 'request.payload');
    assert.doesNotThrow(() => encodeEvent(event, { validate: true }));
    assert.deepEqual(
      {
        ...event,
        eventId: undefined,
        occurredAt: undefined,
      },
      {
        ...event,
        eventId: undefined,
        occurredAt: undefined,
        requestId: 'r',
        userId: 'u',
        partitionKey: 'u',
        backend: 'b',
        modelServed: undefined,
        startedAt: '2026-03-01T10:00:00.000Z',
        responseTruncated: true,
        responseBytes: 900,
      },
    );
    assert.deepEqual(counted, [['r', true]]);
  });
});

describe('IngressTelemetry answer checks', () => {
  it("counts an answer's masks and withheld choices by the part they matched in", async () => {
    const publisher: EventPublisher = { publish: () => {}, flush: async () => {} };
    const metrics = new MetricsRegistry({ collectDefaultMetrics: false });
    const observer = new IngressTelemetry(publisher, metrics);
    observer.answerRedacted('g', { part: 'content', counts: new Map([['email', 2]]) });
    observer.answerRedacted('g', { part: 'reasoning', counts: new Map([['email', 1]]) });
    observer.answerBlocked('g', { rule: 'usSsn', part: 'reasoning' });
    observer.redacted('g', new Map([['email', 3]]));
    const text = await metrics.metrics();
    for (const line of [
      'ai_gateway_redactions_total{detector="email",route="g",direction="answer",part="content"} 2',
      'ai_gateway_redactions_total{detector="email",route="g",direction="answer",part="reasoning"} 1',
      'ai_gateway_redactions_total{detector="email",route="g",direction="prompt",part="content"} 3',
      'ai_gateway_answers_blocked_total{rule="usSsn",route="g",part="reasoning"} 1',
    ]) {
      assert.ok(text.split('\n').includes(line), `${line} in\n${text}`);
    }
  });
});

// ai_gateway_budget_store_unavailable_total: a refusal because the budget store could not be
// reached is counted apart from the other 503s (no backend available), by route.
const publisher: EventPublisher = { publish: () => undefined, flush: async () => {} };

/** A store whose reservations fail as an unreachable Redis's do. */
function unreachableStore(): BudgetStore {
  const store = new LocalBudgetStore(':memory:');
  return new Proxy(store, {
    get(target, property, receiver) {
      if (property === 'reserve') return () => Promise.reject(new Error('ECONNREFUSED'));
      return Reflect.get(target, property, receiver) as unknown;
    },
  });
}

function refuse(metrics: MetricsRegistry, error: DataPlaneError, clientGone = false): void {
  new IngressTelemetry(publisher, metrics).failed({
    requestId: 'r',
    endpoint: GatewayEndpoint.ChatCompletions,
    request,
    error,
    timings: { startedAt: performance.now() },
    accepted: false,
    ...(clientGone ? { clientGone: true } : {}),
  });
}

const line = (text: string, name: string) => text.split('\n').find((l) => l.startsWith(name));

describe('IngressTelemetry: budget store unavailable', () => {
  it('counts an admission refused by an unreachable budget store, apart from other 503s', async () => {
    const metrics = new MetricsRegistry({ collectDefaultMetrics: false });
    const admission = new BudgetAdmission(() => config, unreachableStore(), new ExhaustionView(), {
      defaultMaxOutputTokens: 100,
      holdMs: 600_000,
      now: () => Date.UTC(2026, 0, 1),
    });
    const refusal = await admission.admit(request).then(
      () => assert.fail('admitted without a budget store'),
      (error: unknown) => error as DataPlaneError,
    );
    assert.equal(refusal.code, DataPlaneErrorCode.BudgetUnavailable);
    refuse(metrics, refusal);
    // The same status for another reason is not counted.
    refuse(metrics, new DataPlaneError(DataPlaneErrorCode.NoBackendAvailable, 'none left'));

    const text = await metrics.metrics();
    assert.equal(
      line(text, 'ai_gateway_budget_store_unavailable_total{'),
      `ai_gateway_budget_store_unavailable_total{route="${GatewayEndpoint.ChatCompletions}"} 1`,
    );
    assert.equal(
      line(text, 'ai_gateway_requests_total{'),
      `ai_gateway_requests_total{route="${GatewayEndpoint.ChatCompletions}",status="503"} 2`,
    );
  });

  it('does not count a client that left first (recorded as 499)', async () => {
    const metrics = new MetricsRegistry({ collectDefaultMetrics: false });
    refuse(metrics, new DataPlaneError(DataPlaneErrorCode.BudgetUnavailable, 'down'), true);
    const text = await metrics.metrics();
    assert.equal(line(text, 'ai_gateway_budget_store_unavailable_total{'), undefined);
  });
});

// ai_gateway_budget_refusals_total: a request a budget or rate limit refused (429
// budget_exceeded), by route and the limit that refused it, apart from a provider's 429s.
describe('IngressTelemetry: budget refusals', () => {
  it('counts a refusal by route and limit, not a rate limit of the provider nor a client gone', async () => {
    const metrics = new MetricsRegistry({ collectDefaultMetrics: false });
    const admission = new BudgetAdmission(
      () => config,
      new LocalBudgetStore(':memory:'),
      new ExhaustionView(),
      {
        defaultMaxOutputTokens: 100,
        holdMs: 600_000,
        now: () => Date.UTC(2026, 0, 1),
      },
    );
    await admission.admit(request);
    const refusal = await admission.admit(request).then(
      () => assert.fail('admitted past the per-minute budget'),
      (error: unknown) => error as DataPlaneError,
    );
    refuse(metrics, refusal);
    refuse(metrics, refusal, true);
    // A budget refusal that lost its limit on the way (the split router's, over the wire).
    refuse(metrics, new DataPlaneError(DataPlaneErrorCode.BudgetExceeded, 'no room'));
    refuse(metrics, new DataPlaneError(DataPlaneErrorCode.UpstreamRateLimited, '429'));

    const counted = (await metrics.metrics())
      .split('\n')
      .filter((l) => l.startsWith('ai_gateway_budget_refusals_total{'));
    assert.deepEqual(counted, [
      `ai_gateway_budget_refusals_total{route="${GatewayEndpoint.ChatCompletions}",limit="${LimitKind.TokenBudgetPerMinute}"} 1`,
      `ai_gateway_budget_refusals_total{route="${GatewayEndpoint.ChatCompletions}",limit="unknown"} 1`,
    ]);
  });
});

describe('IngressTelemetry: JWT provider keys that could not be fetched', () => {
  it('counts the refusal by reason, apart from the other 503s', async () => {
    const metrics = new MetricsRegistry({ collectDefaultMetrics: false });
    const telemetry = new IngressTelemetry(publisher, metrics);
    telemetry.identityRefused(keysUnavailable('timeout'));
    telemetry.identityRefused(keysUnavailable('timeout'));
    telemetry.identityRefused(keysUnavailable('bad_response'));
    telemetry.identityRefused(new DataPlaneError(DataPlaneErrorCode.NoBackendAvailable, 'none'));
    // A model call's failure is not counted again: identity told it when it refused.
    refuse(metrics, keysUnavailable('unreachable'));

    const text = await metrics.metrics();
    const counted = text
      .split('\n')
      .filter((l) => l.startsWith('ai_gateway_identity_keys_unavailable_total{'));
    assert.deepEqual(counted.sort(), [
      'ai_gateway_identity_keys_unavailable_total{reason="bad_response"} 1',
      'ai_gateway_identity_keys_unavailable_total{reason="timeout"} 2',
    ]);
  });
});

describe('IngressTelemetry: fetches of JWT provider keys', () => {
  it('counts each fetch by key server and result, so one failing is not hidden by another', async () => {
    const metrics = new MetricsRegistry({ collectDefaultMetrics: false });
    const telemetry = new IngressTelemetry(publisher, metrics);
    telemetry.identityKeysFetched('ok', 'id.example');
    telemetry.identityKeysFetched('timeout', 'keys.partner.example:8443');
    telemetry.identityKeysFetched('ok', 'id.example');
    const counted = (await metrics.metrics())
      .split('\n')
      .filter((l) => l.startsWith('ai_gateway_identity_key_fetches_total{'));
    assert.deepEqual(counted.sort(), [
      'ai_gateway_identity_key_fetches_total{jwks_host="id.example",result="ok"} 2',
      'ai_gateway_identity_key_fetches_total{jwks_host="keys.partner.example:8443",result="timeout"} 1',
    ]);
  });
});

describe('IngressTelemetry: callers the identity step refused', () => {
  it('counts 401s and 403s by their fixed reason, apart from keys that could not be fetched', async () => {
    const metrics = new MetricsRegistry({ collectDefaultMetrics: false });
    const telemetry = new IngressTelemetry(publisher, metrics);
    telemetry.identityRefused(tierNotGranted('x-plan'));
    telemetry.identityRefused(tierNotGranted('x-plan'));
    telemetry.identityRefused(conflictingCredentials(['authorization', 'x-api-key']));
    telemetry.identityRefused(unauthenticated('expired'));
    telemetry.identityRefused(keysUnavailable('timeout'));
    telemetry.identityRefused(new DataPlaneError(DataPlaneErrorCode.Forbidden, 'another 403'));
    refuse(metrics, tierNotGranted('x-plan'));

    const text = await metrics.metrics();
    const counted = text
      .split('\n')
      .filter((l) => l.startsWith('ai_gateway_identity_refusals_total{'));
    assert.deepEqual(counted.sort(), [
      'ai_gateway_identity_refusals_total{reason="conflicting_credentials"} 1',
      'ai_gateway_identity_refusals_total{reason="expired"} 1',
      'ai_gateway_identity_refusals_total{reason="tier_not_granted"} 2',
    ]);
  });
});
