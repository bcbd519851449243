import { after, before, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { DataPlaneError, type JsonObject } from '@aigw/contracts/data-plane';
import {
  FakeAnthropicUpstream,
  gatewayChatRequest,
  upstreamTarget,
} from '@aigw/testing/fake-provider';
import { parseChatRequest } from '../core/chat-request';
import { withoutGatewayExtensions } from '../core/openai-extensions';
import { AnthropicAdapter } from './anthropic.adapter';

// A Messages client's context editing (`context_management`: Anthropic clears old tool
// results or thinking as the conversation grows) rides in provider_extras to Anthropic.

const CLEAR_TOOL_USES = {
  edits: [{ type: 'clear_tool_uses_20250919', trigger: { type: 'input_tokens', value: 30000 } }],
};

describe("AnthropicAdapter with a Messages client's context_management", () => {
  const upstream = new FakeAnthropicUpstream();
  const adapter = new AnthropicAdapter();

  before(() => upstream.start());
  after(() => upstream.stop());
  beforeEach(() => upstream.reset());

  it('sends it to Anthropic as sent', async () => {
    await adapter.invoke({
      request: gatewayChatRequest({ provider_extras: { context_management: CLEAR_TOOL_USES } }),
      target: upstreamTarget(
        { provider: 'anthropic', model: 'claude-sonnet-4-5', baseUrl: upstream.baseUrl },
        { headerName: 'x-api-key', value: 'sk-ant-secret' },
      ),
      signal: new AbortController().signal,
    });
    const sent = upstream.calls[0]?.body as JsonObject;
    assert.deepEqual(sent.context_management, CLEAR_TOOL_USES);
    assert.equal(sent.provider_extras, undefined);
  });

  it('leaves its thinking edits out where the request goes without thinking', async () => {
    const clearThinking = { type: 'clear_thinking_20251015', keep: 'all' };
    const asked = { edits: [clearThinking, ...CLEAR_TOOL_USES.edits] };
    const invoke = (body: JsonObject) =>
      adapter.invoke({
        request: gatewayChatRequest({ provider_extras: { context_management: asked }, ...body }),
        target: upstreamTarget(
          { provider: 'anthropic', model: 'claude-sonnet-4-5', baseUrl: upstream.baseUrl },
          { headerName: 'x-api-key', value: 'sk-ant-secret' },
        ),
        signal: new AbortController().signal,
      });
    await invoke({ max_tokens: 4096, thinking: { type: 'enabled', budget_tokens: 2048 } });
    assert.deepEqual(upstream.calls[0]?.body.context_management, asked);
    // A JSON answer through the forced answer tool goes without thinking.
    upstream.reset();
    await invoke({
      max_tokens: 4096,
      thinking: { type: 'enabled', budget_tokens: 2048 },
      response_format: { type: 'json_object' },
    });
    assert.equal(upstream.calls[0]?.body.thinking, undefined);
    assert.deepEqual(upstream.calls[0]?.body.context_management, CLEAR_TOOL_USES);
  });

  it('is never sent to an OpenAI-format backend', () => {
    const body = gatewayChatRequest({ provider_extras: { context_management: CLEAR_TOOL_USES } });
    const sent = withoutGatewayExtensions(body.body);
    assert.equal(sent.context_management, undefined);
    assert.equal(sent.provider_extras, undefined);
  });

  it('must be an object', () => {
    assert.throws(
      () =>
        parseChatRequest(
          gatewayChatRequest({ provider_extras: { context_management: 'clear' } }).body,
        ),
      (error: unknown) => error instanceof DataPlaneError && error.param === 'context_management',
    );
  });
});
