import assert from 'node:assert/strict';
import { it } from 'node:test';
import { EventStreamCodec } from '@smithy/core/event-streams';
import { fromUtf8, toUtf8 } from '@smithy/core/serde';
import { SseStreamTooLargeError } from '../core/sse-events';
import { bedrockEvents } from './bedrock-event-stream';

const codec = new EventStreamCodec(toUtf8, fromUtf8);

/** One contentBlockDelta frame, as ConverseStream sends it. */
const DELTA = codec.encode({
  headers: {
    ':message-type': { type: 'string', value: 'event' },
    ':event-type': { type: 'string', value: 'contentBlockDelta' },
  },
  body: fromUtf8(JSON.stringify({ contentBlockIndex: 0, delta: { text: 'x'.repeat(50) } })),
});

it('ends a binary event stream past its whole-stream bound as the SSE streams end', async () => {
  // Frames each well within the per-frame bound, three times the whole-stream bound of them.
  let read = 0;
  const tooLong = async function* () {
    for (let i = 0; i < 3_000; i++) {
      read += DELTA.length;
      yield DELTA;
    }
  };
  const limit = 1_000 * DELTA.length;
  let seen = 0;
  await assert.rejects(
    (async () => {
      for await (const _event of bedrockEvents(tooLong(), 'bedrock-1', limit)) seen++;
    })(),
    (error: unknown) =>
      error instanceof SseStreamTooLargeError && error.code === 'SSE_STREAM_TOO_LARGE',
  );
  assert.equal(seen, 1_000, 'all that came within the bound');
  assert.ok(read <= limit + DELTA.length, `read ${read} bytes`);
});

it('gives a stream of exactly its bound whole', async () => {
  const frames = async function* () {
    for (let i = 0; i < 10; i++) yield DELTA;
  };
  let seen = 0;
  for await (const _event of bedrockEvents(frames(), 'bedrock-1', 10 * DELTA.length)) seen++;
  assert.equal(seen, 10);
});
