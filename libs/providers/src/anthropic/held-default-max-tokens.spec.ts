import { after, before, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { GatewayRequest, JsonObject, UpstreamTarget } from '@aigw/contracts/data-plane';
import {
  FakeAnthropicUpstream,
  FakeBedrockUpstream,
  gatewayChatRequest,
  upstreamTarget,
} from '@aigw/testing/fake-provider';
import { BedrockAdapter } from '../bedrock/bedrock.adapter';
import { TEST_AWS_CREDENTIALS, useEnvAwsCredentials } from '../testing/env-aws-credentials';
import { useFakeVertexEndpoints } from '../testing/fake-vertex-endpoints';
import { AnthropicAdapter } from './anthropic.adapter';

// Claude requires max_tokens. Without the client's, each Claude adapter asks for what budget
// admission held for the request (GatewayRequest.defaultMaxOutputTokens, from
// AI_GATEWAY_DEFAULT_MAX_OUTPUT_TOKENS), so Claude writes no more than was held.

/** A chat request that admission held `held` output tokens for (none: an older peer's). */
const heldFor = (held: number | undefined, body: JsonObject = {}): GatewayRequest =>
  gatewayChatRequest(body, held === undefined ? {} : { defaultMaxOutputTokens: held });

describe("Claude's default max_tokens follows the output admission held", () => {
  describe('on Anthropic', () => {
    const upstream = new FakeAnthropicUpstream();
    const adapter = new AnthropicAdapter();
    let target: UpstreamTarget;
    before(async () => {
      await upstream.start();
      target = upstreamTarget(
        { provider: 'anthropic', model: 'claude-sonnet-4-5', baseUrl: upstream.baseUrl },
        { headerName: 'x-api-key', value: 'sk-ant-secret' },
      );
    });
    after(() => upstream.stop());
    beforeEach(() => upstream.reset());

    const sent = async (request: GatewayRequest, model = 'claude-sonnet-4-5') => {
      const to = { ...target, model };
      await adapter.invoke({ request, target: to, signal: new AbortController().signal });
      const body = upstream.calls.at(-1)!.body;
      return { thinking: body.thinking, max_tokens: body.max_tokens };
    };
    const enabled = (budget_tokens: number, max_tokens: number) => ({
      thinking: { type: 'enabled', budget_tokens },
      max_tokens,
    });

    it('sends the held default without a client max_tokens, the client’s own with one', async () => {
      assert.deepEqual(await sent(heldFor(1000)), { thinking: undefined, max_tokens: 1000 });
      assert.deepEqual(await sent(heldFor(1000, { max_tokens: 300 })), {
        thinking: undefined,
        max_tokens: 300,
      });
      // A request from a peer of an older build carries none: Anthropic's 4096, as before.
      assert.deepEqual(await sent(heldFor(undefined)), { thinking: undefined, max_tokens: 4096 });
    });

    it("gives a client's thinking budget the held default after it, as admission held it", async () => {
      const thinking = { type: 'enabled', budget_tokens: 2048 };
      assert.deepEqual(await sent(heldFor(1000, { thinking })), enabled(2048, 3048));
    });

    it('fits an effort’s budget under the held default as under a client max_tokens too small', async () => {
      // An effort adds nothing to the hold: its budget thinks within the default...
      assert.deepEqual(
        await sent(heldFor(3000, { reasoning_effort: 'medium' })),
        enabled(2048, 3000),
      );
      // ...fitted one below it when it does not fit...
      assert.deepEqual(
        await sent(heldFor(2000, { reasoning_effort: 'medium' })),
        enabled(1999, 2000),
      );
      // ...and left out when even the least budget (1024) does not: the answer, not a 400.
      assert.deepEqual(await sent(heldFor(1000, { reasoning_effort: 'low' })), {
        thinking: undefined,
        max_tokens: 1000,
      });
    });

    it('gives adaptive thinking its room, and an effort on an adaptive model the held default', async () => {
      const opus = 'claude-opus-4-7';
      const adaptive = await sent(heldFor(1000, { thinking: { type: 'adaptive' } }), opus);
      assert.deepEqual(adaptive, { thinking: { type: 'adaptive' }, max_tokens: 16384 });
      const roomier = await sent(heldFor(20_000, { thinking: { type: 'adaptive' } }), opus);
      assert.equal(roomier.max_tokens, 20_000);
      const effort = await sent(heldFor(1000, { reasoning_effort: 'high' }), opus);
      assert.deepEqual(effort, {
        thinking: { type: 'adaptive', display: 'summarized' },
        max_tokens: 1000,
      });
    });
  });

  describe('on Vertex AI', () => {
    const { claude, target, invoke } = useFakeVertexEndpoints({
      project: 'proj-1',
      location: 'us-central1',
    });

    it('sends the held default without a client max_tokens', async () => {
      await invoke(heldFor(1000), target('claude-sonnet-4-5@20250929', claude.baseUrl));
      assert.equal(claude.calls.at(-1)!.body.max_tokens, 1000);
      await invoke(heldFor(undefined), target('claude-sonnet-4-5@20250929', claude.baseUrl));
      assert.equal(claude.calls.at(-1)!.body.max_tokens, 4096);
    });
  });

  describe('on Bedrock (Converse)', () => {
    const upstream = new FakeBedrockUpstream(TEST_AWS_CREDENTIALS);
    useEnvAwsCredentials(TEST_AWS_CREDENTIALS);
    const adapter = new BedrockAdapter();
    let target: UpstreamTarget;
    before(async () => {
      await upstream.start();
      target = upstreamTarget({
        provider: 'bedrock',
        model: 'anthropic.claude-sonnet-4-5-20250929-v1:0',
        baseUrl: upstream.baseUrl,
      });
    });
    after(() => upstream.stop());
    beforeEach(() => upstream.reset());

    const inferenceOf = async (request: GatewayRequest) => {
      await adapter.invoke({ request, target, signal: new AbortController().signal });
      return upstream.calls.at(-1)!.body.inferenceConfig;
    };

    it("sizes thinking's maxTokens from the held default; sends none without thinking", async () => {
      assert.deepEqual(await inferenceOf(heldFor(3000, { reasoning_effort: 'low' })), {
        maxTokens: 3000,
      });
      const thinking = { type: 'enabled', budget_tokens: 2048 };
      assert.deepEqual(await inferenceOf(heldFor(1000, { thinking })), { maxTokens: 3048 });
      // Converse takes no cap as required: none asked, none sent (Bedrock's own applies).
      assert.equal(await inferenceOf(heldFor(1000)), undefined);
    });
  });
});
