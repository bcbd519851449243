// The router's per-model gate refuses from its exhaustion view alone, naming one header
// family; past the edge the refusal carries both, as admission's own refusals do.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import Fastify, { type FastifyInstance } from 'fastify';
import { bindLimit, ExhaustionView, modelBudgetGate, modelLimits } from '@aigw/budget-core';
import { GatewayEndpoint, LimitKind } from '@aigw/contracts';
import { DataPlaneError, DataPlaneErrorCode } from '@aigw/contracts/data-plane';
import { EdgeExchange } from '../http/edge-exchange';
import { OPENAI_DIALECT } from '../http/openai-dialect';
import type { IngressPipeline } from '../ingress-pipeline';
import { NOOP_INGRESS_OBSERVER, type RequestFailure } from '../ingress-observer';
import { START, admissionOn, ask, family } from './admission-fixture';
import { withAdmittedFamilies } from './admitted-families';

const POLICY = `  tokenRateLimit:
    perUser: {inputTokensPerMinute: 100000, requestsPerMinute: 5}
    perModel:
      gpt-4-turbo: {requestsPerMinute: 3}`;

describe('a per-model refusal from the router’s gate, past admission', () => {
  const { admission, route, store } = admissionOn(
    '  - {name: limited, provider: openai, model: gpt-4-turbo, modelNameOverride: chat}',
    POLICY,
  );
  // The router's own view (as in the split deployment): the broadcast marked the model's
  // requests spent after this edge's admission let the call through.
  const routerView = new ExhaustionView();
  const [requests] = modelLimits(route, 'gpt-4-turbo').map((l) => bindLimit(l, START));
  assert.equal(requests.kind, LimitKind.ModelRequestsPerMinute);
  routerView.markExhausted('gpt-4-turbo', requests.kind, requests.windowRef.id, START + 30_000);
  const gate = modelBudgetGate(routerView, () => START);

  let balanceReads = 0;
  const balances = store.balances.bind(store);
  store.balances = (...args: Parameters<typeof balances>) => {
    balanceReads++;
    return balances(...args);
  };
  const failures: RequestFailure[] = [];
  let released = 0;
  const release = admission.release.bind(admission);
  admission.release = async (held) => {
    released++;
    return release(held);
  };
  const pipeline = {
    prepare: (_operation: unknown, _body: unknown, _headers: unknown, requestId: string) => ({
      ...ask('alice'),
      requestId,
    }),
    checkMediaUrls: () => undefined, // the route refuses no media URLs
    redact: (request: unknown) => request,
    payloadLoggingFor: () => undefined,
    handle: () => {
      gate(route, 'gpt-4-turbo'); // throws: the model is spent in the router's view
      throw new Error('the gate let the call through');
    },
  } as unknown as IngressPipeline;
  const observer = { ...NOOP_INGRESS_OBSERVER, failed: (f: RequestFailure) => failures.push(f) };
  const exchange = new EdgeExchange(pipeline, observer, admission);
  let app: FastifyInstance;

  before(async () => {
    app = Fastify();
    app.post('/v1/chat/completions', (request, reply) =>
      exchange.serve(
        { endpoint: GatewayEndpoint.ChatCompletions, operation: 'chat' },
        request,
        reply,
        OPENAI_DIALECT,
      ),
    );
    await app.ready();
  });
  after(async () => app?.close());

  it('answers 429 with its own family and the other as the admission told it, asking the store nothing more', async () => {
    const response = await app.inject({
      method: 'POST',
      url: '/v1/chat/completions',
      payload: { model: 'chat', messages: [{ role: 'user', content: 'hi' }], max_tokens: 10 },
    });
    assert.equal(response.statusCode, 429);
    assert.equal(response.headers['retry-after'], '30');
    // The gate's own: the model's requests spent.
    assert.equal(response.headers['x-ratelimit-limit-requests'], '3');
    assert.equal(response.headers['x-ratelimit-remaining-requests'], '0');
    assert.equal(response.headers['x-ratelimit-reset-requests'], '30s');
    // The caller's token limit, as its admission was told it (its own hold counted).
    assert.equal(response.headers['x-ratelimit-limit-tokens'], '100000');
    const tokensLeft = Number(response.headers['x-ratelimit-remaining-tokens']);
    assert.ok(tokensLeft > 90_000 && tokensLeft < 100_000, String(tokensLeft));
    assert.equal(response.headers['x-ratelimit-reset-tokens'], '30s');
    assert.equal(released, 1, 'the hold is given back');
    assert.equal(balanceReads, 0, 'no store read for the other family');
    const [failure] = failures;
    assert.equal(failure.error.code, DataPlaneErrorCode.BudgetExceeded);
    assert.deepEqual(family(failure.error.headers, 'tokens'), {
      'x-ratelimit-limit-tokens': '100000',
      'x-ratelimit-remaining-tokens': String(tokensLeft),
      'x-ratelimit-reset-tokens': '30s',
    });
  });
});

describe('withAdmittedFamilies', () => {
  const told = {
    'x-ratelimit-limit-tokens': '1000',
    'x-ratelimit-remaining-tokens': '900',
    'x-ratelimit-reset-tokens': '20s',
    'x-ratelimit-limit-requests': '5',
    'x-ratelimit-remaining-requests': '4',
    'x-ratelimit-reset-requests': '20s',
  };

  it('keeps the refusal’s own family over the admission’s, and its limit kind', () => {
    const { route } = admissionOn(
      '  - {name: limited, provider: openai, model: gpt-4-turbo, modelNameOverride: chat}',
      POLICY,
    );
    const view = new ExhaustionView();
    const [requests] = modelLimits(route, 'gpt-4-turbo').map((l) => bindLimit(l, START));
    view.markExhausted('gpt-4-turbo', requests.kind, requests.windowRef.id, START + 30_000);
    let refusal: unknown;
    try {
      modelBudgetGate(view, () => START)(route, 'gpt-4-turbo');
    } catch (error) {
      refusal = error;
    }
    assert.ok(refusal instanceof DataPlaneError);
    const merged = withAdmittedFamilies(refusal, told);
    assert.equal((merged as { limitKind?: LimitKind }).limitKind, LimitKind.ModelRequestsPerMinute);
    assert.equal(merged.message, refusal.message);
    assert.equal(merged.retryAfterMs, 30_000);
    assert.deepEqual(merged.headers, {
      ...family(told, 'tokens'),
      'x-ratelimit-limit-requests': '3',
      'x-ratelimit-remaining-requests': '0',
      'x-ratelimit-reset-requests': '30s',
    });
  });

  it('passes other errors, and refusals with no admission or both families, as they are', () => {
    const upstream = new DataPlaneError(DataPlaneErrorCode.UpstreamRateLimited, 'slow down');
    assert.equal(withAdmittedFamilies(upstream, told), upstream);
    // Over the wire from the split router: a plain DataPlaneError with the same code.
    const wired = new DataPlaneError(DataPlaneErrorCode.BudgetExceeded, 'spent', {
      headers: family(told, 'requests'),
    });
    assert.equal(withAdmittedFamilies(wired, undefined), wired);
    assert.equal(withAdmittedFamilies(wired, family(told, 'requests')), wired);
    assert.deepEqual(withAdmittedFamilies(wired, told).headers, told);
  });
});
