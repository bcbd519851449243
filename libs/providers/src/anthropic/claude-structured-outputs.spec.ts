import { after, before, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { JsonObject, StreamAnswer, UpstreamTarget } from '@aigw/contracts/data-plane';
import {
  collectStream,
  FakeAnthropicUpstream,
  gatewayChatRequest,
  streamedText,
  upstreamTarget,
} from '@aigw/testing/fake-provider';
import { AnthropicAdapter } from './anthropic.adapter';

// A Messages client's structured outputs (`output_config.format`) on Anthropic's own API:
// the canonical request carries the client's format beside the response_format every other
// backend reads, and a Claude that has structured outputs gets it as sent.

const SCHEMA = {
  type: 'object',
  properties: { city: { type: 'string' } },
  required: ['city'],
  additionalProperties: false,
};

/** What the Messages edge makes of `output_config: {format: {type: json_schema, schema}}`. */
const MESSAGES_FORMAT = {
  response_format: {
    type: 'json_schema',
    json_schema: { name: 'output', schema: SCHEMA, strict: true },
  },
  output_config: { format: { type: 'json_schema', schema: SCHEMA } },
};

const WEATHER_TOOL = {
  type: 'function',
  function: {
    name: 'get_weather',
    parameters: { type: 'object', properties: { city: { type: 'string' } } },
  },
};

describe("AnthropicAdapter with a Messages client's output_config (format, task_budget)", () => {
  const upstream = new FakeAnthropicUpstream();
  const adapter = new AnthropicAdapter();
  const targetFor = (model: string): UpstreamTarget =>
    upstreamTarget(
      { provider: 'anthropic', model, baseUrl: upstream.baseUrl },
      { headerName: 'x-api-key', value: 'sk-ant-secret' },
    );
  const invoke = (body: JsonObject, model = 'claude-sonnet-4-5') =>
    adapter.invoke({
      request: gatewayChatRequest(body),
      target: targetFor(model),
      signal: new AbortController().signal,
    });
  const sent = (): JsonObject => upstream.calls[0]?.body ?? {};

  before(() => upstream.start());
  after(() => upstream.stop());
  beforeEach(() => upstream.reset());

  it('sends the format as sent, keeping the thinking asked for, and answers its JSON', async () => {
    const answer = await invoke({
      ...MESSAGES_FORMAT,
      max_tokens: 4096,
      thinking: { type: 'enabled', budget_tokens: 2048 },
    });
    assert.deepEqual(sent().output_config, { format: { type: 'json_schema', schema: SCHEMA } });
    assert.deepEqual(sent().thinking, { type: 'enabled', budget_tokens: 2048 });
    assert.equal(sent().tools, undefined);
    assert.equal(sent().tool_choice, undefined);
    if (answer.kind !== 'json') return assert.fail('expected json');
    const message = (answer.body.choices as JsonObject[])[0].message as JsonObject;
    assert.deepEqual(JSON.parse(message.content as string), { city: 'Paris' });
    assert.equal(message.tool_calls, undefined);
  });

  it('streams the JSON as content, beside an adaptive effort on Claude 4.6', async () => {
    const answer = await invoke(
      {
        ...MESSAGES_FORMAT,
        stream: true,
        output_config: { ...MESSAGES_FORMAT.output_config, effort: 'low' },
      },
      'claude-sonnet-4-6',
    );
    const chunks = await collectStream(answer as StreamAnswer);
    assert.deepEqual(JSON.parse(streamedText(chunks)), { city: 'Paris' });
    assert.deepEqual(sent().output_config, {
      effort: 'low',
      format: { type: 'json_schema', schema: SCHEMA },
    });
  });

  it("sends the client's tools beside the format, which Anthropic answers together", async () => {
    await invoke({ ...MESSAGES_FORMAT, tools: [WEATHER_TOOL] });
    assert.deepEqual(
      (sent().tools as JsonObject[]).map((tool) => tool.name),
      ['get_weather'],
    );
    assert.deepEqual(sent().output_config, { format: { type: 'json_schema', schema: SCHEMA } });
  });

  it('answers through the forced tool on a Claude without structured outputs', async () => {
    const answer = await invoke(MESSAGES_FORMAT, 'claude-sonnet-4-20250514');
    assert.equal(sent().output_config, undefined);
    assert.equal((sent().tool_choice as JsonObject).name, 'output');
    if (answer.kind !== 'json') return assert.fail('expected json');
    const message = (answer.body.choices as JsonObject[])[0].message as JsonObject;
    assert.deepEqual(JSON.parse(message.content as string), { city: 'Paris' });
  });

  it("sends a Messages client's task budget as sent, beside its effort", async () => {
    const taskBudget = { type: 'tokens', total: 64000 };
    await invoke(
      { output_config: { effort: 'high', task_budget: taskBudget }, max_tokens: 8000 },
      'claude-opus-4-7',
    );
    assert.deepEqual((sent().output_config as JsonObject).task_budget, taskBudget);
    assert.equal((sent().output_config as JsonObject).effort, 'high');
  });

  it('counts the thinking the forced answer tool goes without, never silently', async () => {
    const answer = await invoke({
      response_format: MESSAGES_FORMAT.response_format,
      reasoning_effort: 'high',
    });
    assert.equal(sent().thinking, undefined);
    assert.deepEqual(answer.servedBy.droppedSettings, [{ setting: 'reasoning', reason: 'model' }]);
    // Without reasoning asked for, nothing is left out.
    upstream.reset();
    const plain = await invoke({ response_format: MESSAGES_FORMAT.response_format });
    assert.equal(plain.servedBy.droppedSettings, undefined);
  });

  it("keeps an OpenAI client's response_format on the forced tool", async () => {
    await invoke({ response_format: MESSAGES_FORMAT.response_format });
    assert.equal(sent().output_config, undefined);
    assert.equal((sent().tool_choice as JsonObject).name, 'output');
  });
});
