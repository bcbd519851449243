import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { configFromYaml as configFrom } from '@aigw/testing';
import {
  DataPlaneError,
  DataPlaneErrorCode,
  type GatewayRequest,
  type StreamAnswer,
} from '@aigw/contracts/data-plane';
import { FailoverRouter } from './failover-router';
import { identityHidingProviders } from './identity-hiding-providers';
import { chatRequest, ScriptedProviders, streamAnswer } from './testing/scripted-providers';

// A route whose backend runs claude-3-opus for clients asking for gpt-4. Its host is known
// to these providers alone: the router itself renames only the model (its budget gate's).
const CONFIG = configFrom(`
kind: AIGatewayRoute
metadata: {name: r}
spec:
  backends:
  - {name: claude, priority: 0, provider: anthropic, baseUrl: "https://claude.acme.internal", model: claude-3-opus, modelNameOverride: gpt-4}
`);

const REFUSAL =
  'backend "claude" answered 429: This request would exceed the rate limit for your ' +
  'organization (7f3c2a1e-0b9d-4c8e-9f6a-1d2e3f4a5b6c) on claude-3-opus at claude.acme.internal';
const SHOWN =
  'backend "claude" answered 429: This request would exceed the rate limit for your ' +
  'organization ([REDACTED]) on gpt-4 at [REDACTED]';

function routerOf(providers: ScriptedProviders): FailoverRouter {
  return new FailoverRouter({
    config: () => CONFIG,
    providers: identityHidingProviders(providers),
    sleep: async () => undefined,
  });
}

describe('identityHidingProviders', () => {
  it("answers a backend's refusal naming the model the client asked for, not its account", async () => {
    const router = routerOf(
      new ScriptedProviders({
        claude: async () => {
          throw new DataPlaneError(DataPlaneErrorCode.UpstreamRateLimited, REFUSAL, {
            upstreamStatus: 429,
            retryAfterMs: 2000,
          });
        },
      }),
    );
    await assert.rejects(router.route(chatRequest(), new AbortController().signal), (error) => {
      assert.ok(error instanceof DataPlaneError);
      assert.equal(error.message, SHOWN);
      assert.equal(error.code, DataPlaneErrorCode.UpstreamRateLimited);
      assert.equal(error.retryAfterMs, 2000);
      return true;
    });
  });

  it('ends a stream the backend broke off with an error naming neither', async () => {
    const router = routerOf(
      new ScriptedProviders({
        claude: async (call) =>
          streamAnswer(
            call,
            (async function* () {
              yield { model: 'claude-3-opus', choices: [] };
              throw new DataPlaneError(DataPlaneErrorCode.StreamInterrupted, REFUSAL);
            })(),
          ),
      }),
    );
    const request: GatewayRequest = chatRequest({ stream: true });
    const answer = (await router.route(request, new AbortController().signal)) as StreamAnswer;
    const models: unknown[] = [];
    await assert.rejects(
      (async () => {
        for await (const event of answer.events) models.push(event.model);
      })(),
      (error) => error instanceof DataPlaneError && error.message === SHOWN,
    );
    assert.deepEqual(models, ['gpt-4']);
  });
});
