import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, it } from 'node:test';
import { chunkFrame, lazyChunk, rawChunkLine } from '@aigw/contracts/data-plane';
import { eventually, openServerResponse } from '@aigw/testing';
import { SseWriter } from './sse-writer';
import { StreamHeartbeats } from './stream-heartbeats';

/** Whether `promise` settles before a bound that only stands for "for ever". */
const settles = (promise: Promise<void>) =>
  Promise.race([
    promise.then(() => true),
    sleep(20_000, undefined, { ref: false }).then(() => false),
  ]);

/**
 * What the client has received, once it includes `text`: the bytes cross a socket, which
 * a loaded machine may take longer than any fixed pause over.
 */
const receivedOnce = (received: () => string, text: string) =>
  eventually(
    `the client receives ${JSON.stringify(text)}`,
    () => (received().includes(text) ? received() : undefined),
    { deadlineMs: 20_000, everyMs: 5 }, // within the unit runner's 30 s
  );

describe('SseWriter', () => {
  it('writes events as data lines and ends with [DONE]', async () => {
    const open = await openServerResponse();
    try {
      let received = '';
      open.client.on('data', (bytes: Buffer) => (received += bytes.toString()));
      const writer = new SseWriter(open.response);
      writer.start({ 'x-request-id': 'r1' });
      await writer.event({ id: 'c1' });
      writer.done();
      await receivedOnce(() => received, 'data: [DONE]\n\n');
      assert.match(received, /x-request-id: r1\r\n/);
      assert.ok(received.includes('data: {"id":"c1"}\n\n'), received);
      assert.ok(received.includes('data: [DONE]\n\n'), received);
    } finally {
      open.close();
    }
  });

  it('sends a comment on a quiet stream, and leaves the heartbeats once the stream ends', async () => {
    const open = await openServerResponse();
    try {
      let received = '';
      open.client.on('data', (bytes: Buffer) => (received += bytes.toString()));
      const heartbeats = new StreamHeartbeats(25);
      const writer = new SseWriter(open.response, heartbeats);
      writer.start({});
      await writer.event({ id: 'c1' });
      // Quiet (a model thinking): a comment every 25 ms keeps the connection alive.
      await receivedOnce(() => received, ': keep-alive\n\n');
      assert.ok(received.includes(': keep-alive\n\n'), received);
      assert.equal(heartbeats.size, 1);
      writer.done();
      await receivedOnce(() => received, 'data: [DONE]\n\n');
      assert.equal(heartbeats.size, 0);
      assert.ok(received.includes('data: [DONE]\n\n'), received);
    } finally {
      open.close();
    }
  });

  it('sends a chunk relayed untouched from the router as its own JSON text, never parsed', async () => {
    const open = await openServerResponse();
    try {
      let received = '';
      open.client.on('data', (bytes: Buffer) => (received += bytes.toString()));
      // Spacing JSON.stringify would not produce: seen verbatim only if the text is relayed.
      const line = Buffer.from(chunkFrame({ id: 'c2' }).replace('{"id"', '{ "id"'));
      const chunk = lazyChunk(line, 'gpt-4');
      const writer = new SseWriter(open.response);
      writer.start({});
      await writer.event(chunk);
      writer.done();
      await receivedOnce(() => received, 'data: [DONE]\n\n');
      assert.ok(received.includes('data: { "id":"c2"}\n\n'), received);
      assert.ok(rawChunkLine(chunk), 'the chunk was never parsed');
    } finally {
      open.close();
    }
  });

  it('does not wait for ever on a client that hung up before the write', async () => {
    // The response had closed before the writer learned it: write() returns false and
    // nothing drains. Waiting for 'drain' held the request, its upstream call and its
    // completion record (one request in 1,600 hang-ups, found by a soak test).
    const open = await openServerResponse();
    try {
      const writer = new SseWriter(open.response);
      writer.start({});
      await open.hangUp();
      assert.equal(await settles(writer.event({ id: 'late' })), true);
    } finally {
      open.close();
    }
  });
});
