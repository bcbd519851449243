import assert from 'node:assert/strict';
import { it } from 'node:test';
import { EventStreamCodec } from '@smithy/core/event-streams';
import { fromUtf8, toUtf8 } from '@smithy/core/serde';
import { DataPlaneError } from '@aigw/contracts/data-plane';
import { SseStreamTooLargeError } from '../core/sse-events';
import { bedrockEvents, type BedrockStreamEvent } from './bedrock-event-stream';
import { BedrockStreamTranslation } from './bedrock-stream';

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

it("carries a modelStreamErrorException's model error, not only Bedrock's generic words", async () => {
  // ModelStreamErrorException: Bedrock's message, and what the model itself answered.
  const exception = codec.encode({
    headers: {
      ':message-type': { type: 'string', value: 'exception' },
      ':exception-type': { type: 'string', value: 'modelStreamErrorException' },
      ':content-type': { type: 'string', value: 'application/json' },
    },
    body: fromUtf8(
      JSON.stringify({
        message: 'The system encountered an unexpected error during processing.',
        originalStatusCode: 529,
        originalMessage: 'Overloaded',
      }),
    ),
  });
  const frames = async function* () {
    yield exception;
  };
  const events: BedrockStreamEvent[] = [];
  for await (const event of bedrockEvents(frames(), 'bedrock-1')) events.push(event);
  assert.deepEqual(events, [
    {
      kind: 'exception',
      name: 'modelStreamErrorException',
      message:
        'The system encountered an unexpected error during processing. (the model answered 529: Overloaded)',
    },
  ]);
  const translation = new BedrockStreamTranslation('bedrock-1', 'id', 'claude');
  assert.throws(
    () => translation.translate(events[0]),
    (error: unknown) =>
      error instanceof DataPlaneError &&
      error.message ===
        'backend "bedrock-1" sent modelStreamErrorException before answering: The system encountered an unexpected error during processing. (the model answered 529: Overloaded)',
  );
});
