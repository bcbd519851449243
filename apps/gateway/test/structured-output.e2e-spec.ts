// Structured output through the gateway to a backend with no JSON mode of its own
// (Anthropic): the openai client's parse helper and a streamed json_object both get the
// JSON as message content, never as a tool call.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { FakeAnthropicUpstream } from '@aigw/testing/fake-provider';
import type { AppProcess } from '@aigw/testing/processes';
import { startOnAnthropicBackend } from './anthropic-backend';

describe('all-in-one gateway: response_format on an Anthropic backend', () => {
  const upstream = new FakeAnthropicUpstream();
  let gateway: AppProcess;
  let client: OpenAI;

  before(async () => {
    await upstream.start();
    gateway = await startOnAnthropicBackend(upstream, 'gpt-4o');
    client = new OpenAI({ baseURL: `${gateway.baseUrl}/v1`, apiKey: 'unused', maxRetries: 0 });
  });

  after(async () => {
    await gateway?.stop();
    await upstream.stop();
  });

  it("answers the openai client's parse helper with a parsed object (strict json_schema)", async () => {
    const completion = await client.chat.completions.parse({
      model: 'gpt-4o',
      messages: [{ role: 'user', content: 'Weather in Paris, as JSON' }],
      response_format: {
        type: 'json_schema',
        json_schema: {
          name: 'weather_report',
          strict: true,
          schema: {
            type: 'object',
            properties: { city: { type: 'string' } },
            required: ['city'],
            additionalProperties: false,
          },
        },
      },
    });
    const [choice] = completion.choices;
    assert.deepEqual(choice?.message.parsed, { city: 'Paris' });
    assert.equal(choice?.finish_reason, 'stop');
    assert.equal(choice?.message.tool_calls?.length ?? 0, 0);
    assert.equal(completion.model, 'gpt-4o');
    const sent = upstream.calls.at(-1)?.body as { tool_choice?: { name?: string } };
    assert.equal(sent.tool_choice?.name, 'weather_report');
  });

  it('streams a json_object answer as content, with no tool call', async () => {
    const stream = await client.chat.completions.create({
      model: 'gpt-4o',
      messages: [{ role: 'user', content: 'Weather in Paris, as JSON' }],
      response_format: { type: 'json_object' },
      stream: true,
    });
    let content = '';
    let toolCalls = 0;
    let finish: string | null | undefined;
    for await (const chunk of stream) {
      const choice = chunk.choices[0];
      content += choice?.delta.content ?? '';
      toolCalls += choice?.delta.tool_calls?.length ?? 0;
      finish = choice?.finish_reason ?? finish;
    }
    assert.deepEqual(JSON.parse(content), { city: 'Paris' });
    assert.equal(toolCalls, 0);
    assert.equal(finish, 'stop');
  });
});
