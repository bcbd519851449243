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
// admission held for the request, as admission says it (GatewayRequest.heldOutputTokens),
// so Claude writes no more than was held, and a reasoning answer has room after its
// thinking. A request from an ingress of an older build carries only the default it held
// from (defaultMaxOutputTokens, AI_GATEWAY_DEFAULT_MAX_OUTPUT_TOKENS): the adapter reckons
// the output from it as admission does (at least 16384, REASONING_DEFAULT_MAX_OUTPUT_TOKENS,
// for a request that asks for reasoning, after a client's thinking budget).

/**
 * A chat request of an older ingress, that admission held from a default of `held` output
 * tokens (none: a call not admitted).
 */
const heldFor = (held: number | undefined, body: JsonObject = {}): GatewayRequest =>
  gatewayChatRequest(body, held === undefined ? {} : { defaultMaxOutputTokens: held });

/**
 * A chat request that admission held `output` tokens for, from a default of `held`. The two
 * are made to disagree with the older reckoning, so a test sees which one was sent.
 */
const stamped = (output: number, held: number, body: JsonObject = {}): GatewayRequest =>
  gatewayChatRequest(body, { defaultMaxOutputTokens: held, heldOutputTokens: output });

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

    it("gives a client's thinking budget the reasoning default after it, as admission held it", async () => {
      const thinking = { type: 'enabled', budget_tokens: 2048 };
      assert.deepEqual(await sent(heldFor(1000, { thinking })), enabled(2048, 2048 + 16384));
      // A default configured above 16384 is kept.
      assert.deepEqual(await sent(heldFor(20_000, { thinking })), enabled(2048, 2048 + 20_000));
    });

    it('gives an effort the reasoning default, its budget thinking within it', async () => {
      assert.deepEqual(
        await sent(heldFor(1000, { reasoning_effort: 'medium' })),
        enabled(2048, 16384),
      );
      // max's budget (16384) is fitted one below it, as under a client max_tokens too small.
      assert.deepEqual(
        await sent(heldFor(1000, { reasoning_effort: 'max' })),
        enabled(16383, 16384),
      );
      assert.deepEqual(
        await sent(heldFor(20_000, { reasoning_effort: 'high' })),
        enabled(4096, 20_000),
      );
      // The client's max_tokens wins: with no room for the least budget (1024), thinking is
      // left out rather than refused.
      assert.deepEqual(await sent(heldFor(1000, { reasoning_effort: 'low', max_tokens: 1000 })), {
        thinking: undefined,
        max_tokens: 1000,
      });
      // Reasoning turned off is a plain request: the plain default.
      assert.deepEqual(await sent(heldFor(1000, { reasoning_effort: 'none' })), {
        thinking: undefined,
        max_tokens: 1000,
      });
    });

    it('gives adaptive thinking and an effort on an adaptive model the reasoning default', async () => {
      const opus = 'claude-opus-4-7';
      const adaptive = await sent(heldFor(1000, { thinking: { type: 'adaptive' } }), opus);
      assert.deepEqual(adaptive, { thinking: { type: 'adaptive' }, max_tokens: 16384 });
      const roomier = await sent(heldFor(20_000, { thinking: { type: 'adaptive' } }), opus);
      assert.equal(roomier.max_tokens, 20_000);
      const effort = await sent(heldFor(1000, { reasoning_effort: 'high' }), opus);
      assert.deepEqual(effort, {
        thinking: { type: 'adaptive', display: 'summarized' },
        max_tokens: 16384,
      });
      // A Messages client's output_config.effort alone asks for reasoning too.
      const messages = await sent(heldFor(1000, { output_config: { effort: 'low' } }), opus);
      assert.equal(messages.max_tokens, 16384);
      // An older peer's request (no held default) gets as much.
      const older = await sent(heldFor(undefined, { reasoning_effort: 'low' }), opus);
      assert.equal(older.max_tokens, 16384);
    });

    it('sends the output admission said it held as it is, not reckoned again from the default', async () => {
      // Reckoned from the default, each would be 1000 or 16384 (and 2048 + 16384).
      assert.deepEqual(await sent(stamped(5000, 1000)), { thinking: undefined, max_tokens: 5000 });
      assert.deepEqual(await sent(stamped(30_000, 1000, { reasoning_effort: 'medium' })), {
        thinking: { type: 'enabled', budget_tokens: 2048 },
        max_tokens: 30_000,
      });
      const thinking = { type: 'enabled', budget_tokens: 2048 };
      assert.deepEqual(await sent(stamped(9000, 1000, { thinking })), {
        thinking,
        max_tokens: 9000,
      });
      const adaptive = await sent(
        stamped(25_000, 1000, { reasoning_effort: 'high' }),
        'claude-opus-4-7',
      );
      assert.deepEqual(adaptive, {
        thinking: { type: 'adaptive', display: 'summarized' },
        max_tokens: 25_000,
      });
    });

    it("fits an effort's budget within the output held as within a client's max_tokens", async () => {
      // 3000 held: medium's 2048 fits; high's 4096 is fitted one below it; low's 1024 does
      // not fit in 1000, so thinking is left out rather than refused.
      assert.deepEqual(await sent(stamped(3000, 1000, { reasoning_effort: 'medium' })), {
        thinking: { type: 'enabled', budget_tokens: 2048 },
        max_tokens: 3000,
      });
      assert.deepEqual(await sent(stamped(3000, 1000, { reasoning_effort: 'high' })), {
        thinking: { type: 'enabled', budget_tokens: 2999 },
        max_tokens: 3000,
      });
      assert.deepEqual(await sent(stamped(1000, 1000, { reasoning_effort: 'low' })), {
        thinking: undefined,
        max_tokens: 1000,
      });
    });

    it("sends the client's own max_tokens over the output held", async () => {
      assert.deepEqual(await sent(stamped(5000, 1000, { max_tokens: 300 })), {
        thinking: undefined,
        max_tokens: 300,
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
      // A request that asks for reasoning: the reasoning default admission held.
      const effort = heldFor(1000, { reasoning_effort: 'high' });
      await invoke(effort, target('claude-opus-4-7', claude.baseUrl));
      assert.equal(claude.calls.at(-1)!.body.max_tokens, 16384);
    });

    it('sends the output admission said it held as it is', async () => {
      await invoke(stamped(5000, 1000), target('claude-sonnet-4-5@20250929', claude.baseUrl));
      assert.equal(claude.calls.at(-1)!.body.max_tokens, 5000);
      const effort = stamped(30_000, 1000, { reasoning_effort: 'high' });
      await invoke(effort, target('claude-opus-4-7', claude.baseUrl));
      assert.equal(claude.calls.at(-1)!.body.max_tokens, 30_000);
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
        maxTokens: 16384,
      });
      const thinking = { type: 'enabled', budget_tokens: 2048 };
      assert.deepEqual(await inferenceOf(heldFor(1000, { thinking })), {
        maxTokens: 2048 + 16384,
      });
      // Converse takes no cap as required: none asked, none sent (Bedrock's own applies).
      assert.equal(await inferenceOf(heldFor(1000)), undefined);
    });

    it("sizes thinking's maxTokens from the output admission said it held, as it is", async () => {
      assert.deepEqual(await inferenceOf(stamped(30_000, 1000, { reasoning_effort: 'low' })), {
        maxTokens: 30_000,
      });
      const thinking = { type: 'enabled', budget_tokens: 2048 };
      assert.deepEqual(await inferenceOf(stamped(9000, 1000, { thinking })), { maxTokens: 9000 });
      assert.equal(await inferenceOf(stamped(5000, 1000)), undefined);
    });
  });
});
