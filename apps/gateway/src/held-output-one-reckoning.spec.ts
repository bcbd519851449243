// What budget admission holds for a request without max_tokens is what Claude is asked for,
// reckoned once: admission stamps it on the request (GatewayRequest.heldOutputTokens) and
// the adapter sends it as it is, whatever the configured default. In both deployment
// shapes: the all-in-one gateway hands the admitted request to the adapter, the split one
// carries it over the internal wire (ingress -> router -> provider-adapter). In a rolling
// upgrade of the split one either side may be of the older build: an older ingress or
// router sends no stamp, and the adapter reckons the output from the default as before; an
// older router or adapter reads past the stamp (its decoder keeps the fields it knows, as
// wire.spec shows for any unknown one) and reckons from the default, which goes on beside it.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseGatewayConfig } from '@aigw/config';
import { ExhaustionView, LocalBudgetStore } from '@aigw/budget-core';
import {
  decodeInvokeRequest,
  decodeRouteRequest,
  encodeInvokeRequest,
  encodeRouteRequest,
  estimatePromptTokensUpperBound,
  type GatewayRequest,
  type JsonObject,
  type WireTarget,
} from '@aigw/contracts/data-plane';
import { admittedRequest, BudgetAdmission } from '@aigw/ingress';
import { AnthropicAdapter } from '@aigw/providers';
import {
  FakeAnthropicUpstream,
  gatewayChatRequest,
  upstreamTarget,
} from '@aigw/testing/fake-provider';

/** A day's tokens per user: room for any request below, so each is held, never refused. */
const LIMIT = 10_000_000;

/** The configured default output (AI_GATEWAY_DEFAULT_MAX_OUTPUT_TOKENS), each in turn. */
const DEFAULTS = [1000, 4096, 16_384, 20_000, 64_000];

/** Requests without max_tokens (plain, reasoning in each dialect) and two with one. */
const REQUESTS: Readonly<Record<string, JsonObject>> = {
  plain: {},
  'effort low': { reasoning_effort: 'low' },
  'effort medium': { reasoning_effort: 'medium' },
  'effort high': { reasoning_effort: 'high' },
  'effort max': { reasoning_effort: 'max' },
  'effort none': { reasoning_effort: 'none' },
  'Messages effort': { output_config: { effort: 'medium' } },
  'thinking budget': { thinking: { type: 'enabled', budget_tokens: 2048 } },
  'adaptive thinking': { thinking: { type: 'adaptive' } },
  'thinking disabled': { thinking: { type: 'disabled' }, reasoning_effort: 'high' },
  'JSON answer, reasoning': {
    reasoning_effort: 'high',
    response_format: {
      type: 'json_schema',
      json_schema: { name: 'answer', schema: { type: 'object' } },
    },
  },
  'client max_tokens': { max_tokens: 3000 },
  'client max_tokens, reasoning': { reasoning_effort: 'medium', max_completion_tokens: 20_000 },
};

/** A model that thinks within a budget, and one that thinks adaptively. */
const MODELS = ['claude-sonnet-4-5', 'claude-opus-4-7'];

function admissionWith(defaultMaxOutputTokens: number): BudgetAdmission {
  const parsed = parseGatewayConfig(
    `kind: AIGatewayRoute
metadata: {name: claude}
spec:
  backends:
  - {name: claude, provider: anthropic, model: claude-sonnet-4-5, modelNameOverride: chat}
  tokenBudget: {perUser: {limit: ${LIMIT}, period: 1d}}
`,
    { missingSecrets: 'warn', env: {} },
  );
  if (!parsed.ok) throw new Error(parsed.errors.map((e) => e.format()).join('\n'));
  const config = parsed.config;
  return new BudgetAdmission(() => config, new LocalBudgetStore(':memory:'), new ExhaustionView(), {
    defaultMaxOutputTokens,
    holdMs: 600_000,
  });
}

/** What a reader of a build before the stamp makes of a message: the fields it knows. */
function asAnOlderBuildReadsIt(message: string): unknown {
  const parsed = JSON.parse(message) as { request: Record<string, unknown> };
  const { heldOutputTokens: _unknownToIt, ...request } = parsed.request;
  return { ...parsed, request };
}

describe('the output admission holds is the max_tokens Claude is sent, reckoned once', () => {
  const upstream = new FakeAnthropicUpstream();
  const adapter = new AnthropicAdapter();
  let users = 0;

  before(() => upstream.start());
  after(() => upstream.stop());

  /** The max_tokens Claude `model` is sent for `request`, handed to the adapter as it is. */
  const sentFor = async (request: GatewayRequest, model: string): Promise<unknown> => {
    const target = upstreamTarget(
      { provider: 'anthropic', model, baseUrl: upstream.baseUrl },
      { headerName: 'x-api-key', value: 'sk-ant-test' },
    );
    await adapter.invoke({ request, target, signal: AbortSignal.timeout(5_000) });
    return upstream.calls.at(-1)?.body.max_tokens;
  };

  /** The request after the ingress -> router and router -> adapter hops. */
  const acrossTheWire = (
    request: GatewayRequest,
    model: string,
    olderRouter = false,
  ): GatewayRequest => {
    const target: WireTarget = { backendName: 'claude', provider: 'anthropic', model };
    const toRouter = encodeRouteRequest(request);
    const routed = decodeRouteRequest(
      olderRouter ? asAnOlderBuildReadsIt(toRouter) : JSON.parse(toRouter),
    );
    return decodeInvokeRequest(JSON.parse(encodeInvokeRequest(routed, target))).request;
  };

  /** What an adapter of the older build is handed: the message less the stamp. */
  const asAnOlderAdapterReadsIt = (request: GatewayRequest, model: string): GatewayRequest => {
    const target: WireTarget = { backendName: 'claude', provider: 'anthropic', model };
    const message = encodeInvokeRequest(acrossTheWire(request, model), target);
    return decodeInvokeRequest(asAnOlderBuildReadsIt(message)).request;
  };

  /** The output held for `body` (per its rate-limit headers) and the request as admitted. */
  const admit = async (admission: BudgetAdmission, body: JsonObject) => {
    const request = gatewayChatRequest(
      { model: 'chat', ...body },
      { requestedModel: 'chat', caller: { userKey: `user-${++users}` } },
    );
    const admitted = await admission.admit(request);
    const remaining = Number(admitted.headers['x-ratelimit-remaining-tokens']);
    const held = LIMIT - remaining - estimatePromptTokensUpperBound(request.body);
    return { held, admitted: admittedRequest(request, admitted) };
  };

  for (const defaultMaxOutputTokens of DEFAULTS) {
    it(`sends what was held in every shape, the default set to ${defaultMaxOutputTokens}`, async () => {
      const admission = admissionWith(defaultMaxOutputTokens);
      for (const model of MODELS) {
        for (const [name, body] of Object.entries(REQUESTS)) {
          const { held, admitted } = await admit(admission, body);
          const sent = {
            'all-in-one': await sentFor(admitted, model),
            split: await sentFor(acrossTheWire(admitted, model), model),
            'older ingress': await sentFor(
              acrossTheWire({ ...admitted, heldOutputTokens: undefined }, model),
              model,
            ),
            'older router': await sentFor(acrossTheWire(admitted, model, true), model),
            'older adapter': await sentFor(asAnOlderAdapterReadsIt(admitted, model), model),
          };
          const expected = Object.fromEntries(Object.keys(sent).map((shape) => [shape, held]));
          assert.deepEqual(sent, expected, `${model}, ${name}`);
        }
      }
    });
  }

  it('carries the stamp to the adapter in the split shape, and the default beside it', async () => {
    const { admitted } = await admit(admissionWith(20_000), { reasoning_effort: 'high' });
    const read = acrossTheWire(admitted, 'claude-opus-4-7');
    assert.equal(read.heldOutputTokens, 20_000);
    assert.equal(read.defaultMaxOutputTokens, 20_000);
    // An older router passes on what it read: the default alone.
    const older = acrossTheWire(admitted, 'claude-opus-4-7', true);
    assert.equal(Object.hasOwn(older, 'heldOutputTokens'), false);
    assert.equal(older.defaultMaxOutputTokens, 20_000);
  });
});
