// ai_gateway_budget_store_unavailable_total: a refusal because the budget store could not be
// reached is counted apart from the other 503s (no backend available), by route.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseGatewayConfig } from '@aigw/config';
import { ExhaustionView, LocalBudgetStore, type BudgetStore } from '@aigw/budget-core';
import { GatewayEndpoint, type EventPublisher } from '@aigw/contracts';
import {
  DataPlaneError,
  DataPlaneErrorCode,
  type GatewayRequest,
} from '@aigw/contracts/data-plane';
import { MetricsRegistry } from '@aigw/observability';
import { BudgetAdmission } from './admission/budget-admission';
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
  body: { model: 'm', messages: [], max_tokens: 100 },
  caller: { userKey: 'u' },
  allowedModels: [],
  forwardHeaders: {},
};

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
