import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { JsonObject } from '@aigw/contracts/data-plane';
import { AnthropicStreamTranslation } from './anthropic-stream';

/** The arguments each streamed tool call got, by OpenAI index, from Anthropic's `events`. */
function streamedArguments(events: JsonObject[]): string[] {
  const translation = new AnthropicStreamTranslation('anthropic-compatible', 'claude-x');
  const args: string[] = [];
  for (const event of events) {
    for (const chunk of translation.translate({
      data: JSON.stringify(event),
      event: event.type as string,
      id: undefined,
    })) {
      const delta = (chunk.choices as JsonObject[] | undefined)?.[0]?.delta as
        JsonObject | undefined;
      for (const call of (delta?.tool_calls as JsonObject[] | undefined) ?? []) {
        const index = call.index as number;
        args[index] = (args[index] ?? '') + ((call.function as JsonObject).arguments as string);
      }
    }
  }
  return args;
}

const start = {
  type: 'message_start',
  message: { id: 'msg_1', model: 'claude-x', usage: { input_tokens: 9, output_tokens: 1 } },
};
const end = [
  { type: 'message_delta', delta: { stop_reason: 'tool_use' }, usage: { output_tokens: 12 } },
  { type: 'message_stop' },
];

describe('a streamed tool_use block whose input comes whole in its start', () => {
  it('keeps that input when no input_json_delta follows (Anthropic-compatible servers send it so)', () => {
    const args = streamedArguments([
      start,
      {
        type: 'content_block_start',
        index: 0,
        content_block: { type: 'tool_use', id: 'toolu_1', name: 'read', input: { path: 'a.txt' } },
      },
      { type: 'content_block_stop', index: 0 },
      ...end,
    ]);
    assert.deepEqual(
      args.map((text): unknown => JSON.parse(text)),
      [{ path: 'a.txt' }],
    );
  });

  it('takes the deltas when they come, as Anthropic streams them, and {} when neither does', () => {
    const args = streamedArguments([
      start,
      {
        type: 'content_block_start',
        index: 0,
        content_block: { type: 'tool_use', id: 't1', name: 'read', input: {} },
      },
      {
        type: 'content_block_delta',
        index: 0,
        delta: { type: 'input_json_delta', partial_json: '{"path":' },
      },
      {
        type: 'content_block_delta',
        index: 0,
        delta: { type: 'input_json_delta', partial_json: ' "b.txt"}' },
      },
      { type: 'content_block_stop', index: 0 },
      {
        type: 'content_block_start',
        index: 1,
        content_block: { type: 'tool_use', id: 't2', name: 'now', input: {} },
      },
      { type: 'content_block_stop', index: 1 },
      ...end,
    ]);
    assert.deepEqual(args, ['{"path": "b.txt"}', '{}']);
  });
});

describe("the answer tool's input whole in its block's start (response_format on Claude)", () => {
  it('is the answer, not {}', () => {
    // The JSON answer a tool carries for response_format: an Anthropic-compatible server that
    // sends the input whole in the start streams no input_json_delta for it either.
    const translation = new AnthropicStreamTranslation(
      'anthropic-compatible',
      'claude-x',
      'answer',
    );
    let content = '';
    for (const event of [
      start,
      {
        type: 'content_block_start',
        index: 0,
        content_block: { type: 'tool_use', id: 'toolu_1', name: 'answer', input: { city: 'Oslo' } },
      },
      { type: 'content_block_stop', index: 0 },
      ...end,
    ]) {
      const message = { data: JSON.stringify(event), event: event.type, id: undefined };
      for (const chunk of translation.translate(message)) {
        const delta = (chunk.choices as JsonObject[] | undefined)?.[0]?.delta as
          JsonObject | undefined;
        if (typeof delta?.content === 'string') content += delta.content;
      }
    }
    assert.deepEqual(JSON.parse(content), { city: 'Oslo' });
  });
});
