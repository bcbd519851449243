import { after, before, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { JsonObject } from '@aigw/contracts/data-plane';
import {
  FakeAnthropicUpstream,
  gatewayChatRequest,
  upstreamTarget,
} from '@aigw/testing/fake-provider';
import { withoutGatewayExtensions } from '../core/openai-extensions';
import { AnthropicAdapter } from './anthropic.adapter';

// A Messages client's strict tool (`strict: true`: Anthropic guarantees the call's input
// follows the schema) rides on the canonical tool at its top level, in Anthropic's shape
// beside `cache_control`, apart from OpenAI's `function.strict`, whose schema rules differ.

const PARAMETERS = {
  type: 'object',
  properties: { city: { type: 'string' } },
  required: ['city'],
  additionalProperties: false,
};

/** What the Messages edge makes of a tool with `strict: true`. */
const STRICT_TOOL = {
  type: 'function',
  function: { name: 'get_weather', parameters: PARAMETERS },
  strict: true,
};

describe("AnthropicAdapter with a Messages client's strict tool", () => {
  const upstream = new FakeAnthropicUpstream();
  const adapter = new AnthropicAdapter();
  const invoke = (body: JsonObject) =>
    adapter.invoke({
      request: gatewayChatRequest(body),
      target: upstreamTarget(
        { provider: 'anthropic', model: 'claude-sonnet-4-5', baseUrl: upstream.baseUrl },
        { headerName: 'x-api-key', value: 'sk-ant-secret' },
      ),
      signal: new AbortController().signal,
    });
  const sentTools = (): JsonObject[] => (upstream.calls[0]?.body.tools ?? []) as JsonObject[];

  before(() => upstream.start());
  after(() => upstream.stop());
  beforeEach(() => upstream.reset());

  it('sends the tool strict, as the client defined it', async () => {
    await invoke({ tools: [STRICT_TOOL] });
    assert.deepEqual(sentTools(), [
      { name: 'get_weather', input_schema: PARAMETERS, strict: true },
    ]);
  });

  it("leaves an OpenAI client's function.strict out, whose schemas Anthropic may refuse", async () => {
    const openAiStrict = {
      type: 'function',
      function: { name: 'get_weather', parameters: PARAMETERS, strict: true },
    };
    await invoke({ tools: [openAiStrict] });
    assert.equal(sentTools()[0]?.strict, undefined);
  });
});

describe('a strict Messages tool on an OpenAI-format backend', () => {
  it('goes without the mark, which OpenAI does not know', () => {
    const sent = withoutGatewayExtensions(gatewayChatRequest({ tools: [STRICT_TOOL] }).body);
    assert.deepEqual(sent.tools, [
      { type: 'function', function: { name: 'get_weather', parameters: PARAMETERS } },
    ]);
  });
});
