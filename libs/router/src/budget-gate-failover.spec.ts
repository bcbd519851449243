import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseGatewayConfig, type GatewayConfig, type RouteConfig } from '@aigw/config';
import { bindLimit, ExhaustionView, modelBudgetGate, modelLimits } from '@aigw/budget-core';
import {
  DataPlaneError,
  type GatewayAnswer,
  type GatewayRequest,
  type ProviderCall,
  type ProviderPort,
} from '@aigw/contracts/data-plane';
import { FailoverRouter } from './failover-router';

// The router's per-model gate reads the exhaustion view admission marks when it passes
// over a full model: with budgetExceeded in failover.on the next backend answers, else the
// client gets the gate's 429 with its rate-limit headers.

function configFrom(failover: string): GatewayConfig {
  const result = parseGatewayConfig(
    `kind: AIGatewayRoute
metadata: {name: r}
spec:
  backends:
  - {name: limited, priority: 0, provider: openai, model: gpt-4-turbo, modelNameOverride: chat}
  - {name: spare, priority: 1, provider: openai, model: gpt-3.5-turbo, modelNameOverride: chat}
${failover}
  tokenRateLimit:
    perModel:
      gpt-4-turbo: {tokensPerMinute: 2000}
`,
    { missingSecrets: 'warn', env: {} },
  );
  if (!result.ok) throw new Error(result.errors.map((e) => e.format()).join('\n'));
  return result.config;
}

const request: GatewayRequest = {
  requestId: 'r1',
  operation: 'chat',
  requestedModel: 'chat',
  stream: false,
  clientWantsStreamUsage: false,
  body: { model: 'chat', messages: [{ role: 'user', content: 'hi' }] },
  caller: { userKey: 'u' },
  allowedModels: [],
  forwardHeaders: {},
};

class Providers implements ProviderPort {
  readonly called: string[] = [];
  async invoke(call: ProviderCall): Promise<GatewayAnswer> {
    this.called.push(call.target.backendName);
    return {
      kind: 'json',
      status: 200,
      body: { model: call.target.model, choices: [] },
      usage: { inputTokens: 1, outputTokens: 1, cachedInputTokens: 0, source: 'reported' },
      servedBy: {
        backend: call.target.backendName,
        provider: call.target.provider,
        model: call.target.model,
      },
    };
  }
}

function setup(failover: string) {
  const config = configFrom(failover);
  const now = Date.UTC(2026, 0, 1, 12, 0, 20);
  const view = new ExhaustionView();
  const [limit] = modelLimits(config.routes[0], 'gpt-4-turbo').map((l) => bindLimit(l, now));
  view.markExhausted(limit.subject, limit.kind, limit.windowRef.id, limit.windowRef.endsAt);
  const providers = new Providers();
  const router = new FailoverRouter({
    config: () => config,
    providers,
    modelBudgetGate: modelBudgetGate(view, () => now),
  });
  return { router, providers };
}

describe('the per-model budget gate in the failover loop', () => {
  it('with budgetExceeded in failover.on, the next backend serves and the full one is never called', async () => {
    const { router, providers } = setup('  failover: {on: [budgetExceeded]}');
    const answer = await router.route(request, new AbortController().signal);
    assert.equal(answer.servedBy.backend, 'spare');
    assert.deepEqual(providers.called, ['spare']);
  });

  it('without it, a 429 with the limit, remaining 0 and the reset', async () => {
    const { router, providers } = setup('  failover: {on: [error]}');
    const refusal = await router.route(request, new AbortController().signal).then(
      () => assert.fail('served'),
      (error: unknown) => error,
    );
    assert.ok(refusal instanceof DataPlaneError);
    assert.equal(refusal.httpStatus, 429);
    assert.deepEqual(refusal.headers, {
      'x-ratelimit-limit-tokens': '2000',
      'x-ratelimit-remaining-tokens': '0',
      'x-ratelimit-reset-tokens': '40s',
    });
    assert.deepEqual(providers.called, []);
  });
});

describe('a model the gate passes over for one request alone (too small for it)', () => {
  it('serves that request on the next backend, and the next request on the model, uncooled', async () => {
    const config = configFrom('  failover: {on: [budgetExceeded]}');
    const providers = new Providers();
    const cooled: string[] = [];
    const router = new FailoverRouter({
      config: () => config,
      providers,
      modelBudgetGate: modelBudgetGate(new ExhaustionView(), () => Date.UTC(2026, 0, 1, 12, 0, 20)),
      observer: {
        fallback: () => undefined,
        cooledDown: (backend) => cooled.push(backend.name),
      },
    });
    const big = { ...request, requestId: 'big', passedOverModels: ['gpt-4-turbo'] };
    const diverted = await router.route(big, new AbortController().signal);
    assert.equal(diverted.servedBy.backend, 'spare');
    // The model has room for every other call: its backend is not cooled for the minute.
    const next = await router.route(
      { ...request, requestId: 'next' },
      new AbortController().signal,
    );
    assert.equal(next.servedBy.backend, 'limited');
    assert.deepEqual(providers.called, ['spare', 'limited']);
    assert.deepEqual(cooled, []);
  });
});

describe('the per-model gate for a request-count limit (requestsPerMinute)', () => {
  function setupRequests(failover: string) {
    const result = parseGatewayConfig(
      `kind: AIGatewayRoute
metadata: {name: r}
spec:
  backends:
  - {name: limited, priority: 0, provider: openai, model: gpt-4-turbo, modelNameOverride: chat}
  - {name: spare, priority: 1, provider: openai, model: gpt-3.5-turbo, modelNameOverride: chat}
${failover}
  tokenRateLimit:
    perModel:
      gpt-4-turbo: {tokensPerMinute: 2000, requestsPerMinute: 2}
`,
      { missingSecrets: 'warn', env: {} },
    );
    if (!result.ok) throw new Error(result.errors.map((e) => e.format()).join('\n'));
    const config = result.config;
    const now = Date.UTC(2026, 0, 1, 12, 0, 20);
    const view = new ExhaustionView();
    // Only the request limit is spent: the model still has tokens to spare.
    const limit = modelLimits(config.routes[0], 'gpt-4-turbo')
      .map((l) => bindLimit(l, now))
      .find((l) => l.unit === 'requests')!;
    view.markExhausted(limit.subject, limit.kind, limit.windowRef.id, limit.windowRef.endsAt);
    const providers = new Providers();
    const router = new FailoverRouter({
      config: () => config,
      providers,
      modelBudgetGate: modelBudgetGate(view, () => now),
    });
    return { router, providers };
  }

  it('with budgetExceeded in failover.on, diverts to the next backend as a full token limit does', async () => {
    const { router, providers } = setupRequests('  failover: {on: [budgetExceeded]}');
    const answer = await router.route(request, new AbortController().signal);
    assert.equal(answer.servedBy.backend, 'spare');
    assert.deepEqual(providers.called, ['spare']);
  });

  it('without it, a 429 with the request headers', async () => {
    const { router, providers } = setupRequests('  failover: {on: [error]}');
    const refusal = await router.route(request, new AbortController().signal).then(
      () => assert.fail('served'),
      (error: unknown) => error,
    );
    assert.ok(refusal instanceof DataPlaneError);
    assert.equal(refusal.httpStatus, 429);
    assert.deepEqual(refusal.headers, {
      'x-ratelimit-limit-requests': '2',
      'x-ratelimit-remaining-requests': '0',
      'x-ratelimit-reset-requests': '40s',
    });
    assert.deepEqual(providers.called, []);
  });
});

describe('a gate that reads the budget store (the split deployment router)', () => {
  const config = configFrom('  failover: {on: [budgetExceeded]}');
  const held: GatewayRequest = { ...request, reservationId: 'held-1' };

  /** A gate that answers later, as a store read does: `full` models are refused. */
  function readingGate(full: ReadonlySet<string>) {
    const asked: { model: string; reservationId?: string }[] = [];
    const view = new ExhaustionView();
    const refuseFromView = modelBudgetGate(view, () => Date.UTC(2026, 0, 1, 12, 0, 20));
    const gate = async (route: RouteConfig, model: string, call: GatewayRequest) => {
      asked.push({ model, reservationId: call.reservationId });
      await Promise.resolve();
      if (!full.has(model)) return;
      const [limit] = modelLimits(route, model).map((l) =>
        bindLimit(l, Date.UTC(2026, 0, 1, 12, 0, 20)),
      );
      view.markExhausted(limit.subject, limit.kind, limit.windowRef.id, limit.windowRef.endsAt);
      refuseFromView(route, model);
    };
    return { gate, asked };
  }

  it('waits for the read, and moves on to the next backend when it refuses', async () => {
    const { gate, asked } = readingGate(new Set(['gpt-4-turbo']));
    const providers = new Providers();
    const router = new FailoverRouter({ config: () => config, providers, modelBudgetGate: gate });
    const answer = await router.route(held, new AbortController().signal);
    assert.equal(answer.servedBy.backend, 'spare');
    assert.deepEqual(providers.called, ['spare']);
    // Each attempt's model, with the request's hold, so the store can tell its own room.
    assert.deepEqual(asked, [
      { model: 'gpt-4-turbo', reservationId: 'held-1' },
      { model: 'gpt-3.5-turbo', reservationId: 'held-1' },
    ]);
  });

  it('calls the model when the read finds room', async () => {
    const { gate } = readingGate(new Set());
    const providers = new Providers();
    const router = new FailoverRouter({ config: () => config, providers, modelBudgetGate: gate });
    const answer = await router.route(held, new AbortController().signal);
    assert.equal(answer.servedBy.backend, 'limited');
    assert.deepEqual(providers.called, ['limited']);
  });
});
