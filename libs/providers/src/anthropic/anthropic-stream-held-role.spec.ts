import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { JsonObject } from '@aigw/contracts/data-plane';
import { AnthropicStreamTranslation } from './anthropic-stream';

/** The deltas each of Anthropic's `events` turned into, one list per event. */
function deltasPerEvent(events: JsonObject[]): unknown[][] {
  const translation = new AnthropicStreamTranslation('claude', 'claude-x');
  return events.map((event) =>
    translation
      .translate({ data: JSON.stringify(event), event: event.type as string, id: undefined })
      .map((chunk) => (chunk.choices as JsonObject[] | undefined)?.[0]?.delta),
  );
}

const MESSAGE_START = {
  type: 'message_start',
  message: { id: 'msg_1', model: 'claude-x', usage: { input_tokens: 9, output_tokens: 1 } },
};
const ROLE = { role: 'assistant', content: '' };

describe("message_start's held role chunk", () => {
  it('goes out when a thinking block starts, which may stay silent until its signature', () => {
    // With `display: "omitted"` (Opus 4.7's default) a thinking block sends nothing until
    // its signature, which may come after the first-byte timeout: the router must see the
    // stream started when the model does, or it gives up a healthy stream and pays twice.
    for (const block of [
      { type: 'thinking', thinking: '' },
      { type: 'redacted_thinking', data: 'EmwKAhgBEgy' },
    ]) {
      const deltas = deltasPerEvent([
        MESSAGE_START,
        { type: 'ping' },
        { type: 'content_block_start', index: 0, content_block: block },
      ]);
      assert.deepEqual(deltas[0], [], block.type);
      assert.deepEqual(deltas[1], [], block.type);
      assert.deepEqual(deltas[2]?.[0], ROLE, block.type);
    }
  });

  it('still waits past an empty text block and pings, whose next event is the first word', () => {
    const deltas = deltasPerEvent([
      MESSAGE_START,
      { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } },
      { type: 'ping' },
      { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: 'Hi' } },
    ]);
    assert.deepEqual(deltas, [[], [], [], [ROLE, { content: 'Hi' }]]);
  });

  it('goes out with a tool call that starts the answer, and once only', () => {
    const deltas = deltasPerEvent([
      MESSAGE_START,
      {
        type: 'content_block_start',
        index: 0,
        content_block: { type: 'tool_use', id: 'toolu_1', name: 'lookup', input: {} },
      },
      {
        type: 'content_block_delta',
        index: 0,
        delta: { type: 'input_json_delta', partial_json: '{}' },
      },
    ]);
    assert.deepEqual(deltas[1]?.[0], ROLE);
    assert.equal(deltas[1]?.length, 2);
    assert.ok(deltas[2]?.every((delta) => (delta as JsonObject).role === undefined));
  });
});
