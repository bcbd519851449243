import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { DataPlaneError, type JsonObject } from '@aigw/contracts/data-plane';
import { gatewayChatRequest } from '@aigw/testing/fake-provider';
import { useFakeVertexEndpoints } from '../testing/fake-vertex-endpoints';

// A Messages client's structured output (`output_config.format`) beside its own tools, as
// it reaches Claude on Vertex AI after a failover: a forced answer tool cannot stand beside
// the client's tools, so Claude 4.6 and later (Google's "Structured outputs with Anthropic
// Claude models") get the format natively; earlier models still refuse the pair.

const PLACE = { project: 'proj-1', location: 'us-central1' };
const SCHEMA = { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] };
const TOOL = {
  type: 'function',
  function: { name: 'get_weather', parameters: { type: 'object', properties: {} } },
};

/** The canonical request the Messages edge makes of output_config.format with tools. */
const formatWithTools = () =>
  gatewayChatRequest({
    max_tokens: 64,
    tools: [TOOL],
    response_format: { type: 'json_schema', json_schema: { name: 'output', schema: SCHEMA } },
    output_config: { format: { type: 'json_schema', schema: SCHEMA } },
  });

describe("VertexAdapter: a Messages client's output_config.format beside its tools", () => {
  const { claude, target, invoke } = useFakeVertexEndpoints(PLACE);

  it('sends the format natively to Claude 4.6 and later, the tools as the client gave them', async () => {
    await invoke(formatWithTools(), target('claude-opus-4-6', claude.baseUrl));
    const [call] = claude.calls;
    const config = call.body.output_config as JsonObject;
    assert.deepEqual(config.format, { type: 'json_schema', schema: SCHEMA });
    const tools = call.body.tools as JsonObject[];
    assert.deepEqual(
      tools.map((tool) => tool.name),
      ['get_weather'],
    );
    assert.equal((call.body.tool_choice as JsonObject | undefined)?.type ?? 'auto', 'auto');
  });

  it('still refuses the pair on an earlier Claude, calling nothing', async () => {
    await assert.rejects(
      invoke(formatWithTools(), target('claude-sonnet-4-5@20250929', claude.baseUrl)),
      (error: unknown) => error instanceof DataPlaneError && error.param === 'response_format',
    );
    assert.equal(claude.calls.length, 0);
  });
});
