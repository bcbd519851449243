import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SseEventTooLargeError, SseStreamTooLargeError, sseMessages } from './sse-events';

async function* pieces(...parts: string[]): AsyncGenerator<Uint8Array> {
  for (const part of parts) yield new TextEncoder().encode(part);
}

async function collect(body: AsyncIterable<Uint8Array>, limit?: number): Promise<string[]> {
  const out: string[] = [];
  for await (const message of sseMessages(body, limit)) out.push(message.data);
  return out;
}

test('events split anywhere across reads come out whole', async () => {
  assert.deepEqual(await collect(pieces('data: {"a"', ':1}\n', '\ndata: [DO', 'NE]\n\n')), [
    '{"a":1}',
    '[DONE]',
  ]);
});

test("a body that ends whole right after its last event's data still gives that event", async () => {
  // Whatever ended the last line (LF, CRLF, a lone CR, or nothing), the blank line after
  // it is all that is missing: the body's end says no more of the event is coming.
  for (const end of ['\n', '\r\n', '\r', '']) {
    const body = pieces('data: {"a":1}\n\n', `event: last\ndata: {"b":`, `2}${end}`);
    assert.deepEqual(await collect(body), ['{"a":1}', '{"b":2}'], JSON.stringify(end));
  }
  // A body ending on the blank line, or on a comment, gives no event more.
  assert.deepEqual(await collect(pieces('data: {"a":1}\r\r')), ['{"a":1}']);
  assert.deepEqual(await collect(pieces('data: {"a":1}\n\n: bye')), ['{"a":1}']);
});

test("events whose data is empty or blank (a proxy's keep-alive) are skipped", async () => {
  const body = pieces(
    'data:\n\ndata: {"a":1}\n\ndata: \n\n',
    'data:  \ndata:\t\n\ndata: [DONE]\n\n',
  );
  assert.deepEqual(await collect(body), ['{"a":1}', '[DONE]']);
});

test('a body cut off inside an event gives nothing of it', async () => {
  const cut = async function* (): AsyncGenerator<Uint8Array> {
    yield new TextEncoder().encode('data: {"a":1}\n\ndata: {"b":2}\n');
    throw new Error('other side closed');
  };
  const seen: string[] = [];
  await assert.rejects(
    (async () => {
      for await (const message of sseMessages(cut())) seen.push(message.data);
    })(),
    /other side closed/,
  );
  assert.deepEqual(seen, ['{"a":1}']);
});

test('a backend that never finishes an event is cut off at the limit', async () => {
  const endless = async function* (): AsyncGenerator<Uint8Array> {
    yield new TextEncoder().encode('data: {"ok":1}\n\ndata: ');
    for (;;) yield new TextEncoder().encode('x'.repeat(1000));
  };
  const seen: string[] = [];
  await assert.rejects(
    (async () => {
      for await (const message of sseMessages(endless(), 10_000)) seen.push(message.data);
    })(),
    SseEventTooLargeError,
  );
  assert.deepEqual(seen, ['{"ok":1}']);
});

test('many events, each under the limit, never trip it', async () => {
  const events = Array.from({ length: 50 }, (_, i) => `data: ${'y'.repeat(900)}${i}\n\n`);
  assert.equal((await collect(pieces(...events), 1_000)).length, 50);
});

test('a backend that streams on and on is cut off once the stream passes its bound', async () => {
  // Whole events, each small: only the stream's total can stop it, and must, since what
  // gathers an answer (a Responses stream, a cache or deduplication entry) holds all of it.
  // Ten times the bound stands for a stream without end.
  let read = 0;
  const endless = async function* (): AsyncGenerator<Uint8Array> {
    const event = new TextEncoder().encode(`data: ${'z'.repeat(92)}\n\n`);
    while (read < 1_000_000) {
      read += event.length;
      yield event;
    }
  };
  let seen = 0;
  await assert.rejects(
    (async () => {
      for await (const _message of sseMessages(endless(), 1_000, 100_000)) seen++;
    })(),
    SseStreamTooLargeError,
  );
  assert.equal(seen, 1_000); // 100 characters an event: all that came within the bound
  assert.ok(read <= 100_100, `read ${read} characters`);
});
