import assert from 'node:assert/strict';
import type { ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { describe, it } from 'node:test';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { eventually, openServerResponse } from '@aigw/testing';
import { TurnBatchedWriter } from './turn-batched-writer';

/** Counts the writes the server's socket hands to the kernel (one per write or writev). */
function countSocketWrites(socket: Socket): { count: number; pieces: number } {
  const counter = { count: 0, pieces: 0 };
  const internals = socket as unknown as Record<'_write' | '_writev', (...a: unknown[]) => void>;
  for (const method of ['_write', '_writev'] as const) {
    const original = internals[method].bind(socket);
    internals[method] = (...args: unknown[]) => {
      counter.count++;
      counter.pieces += method === '_writev' ? (args[0] as unknown[]).length : 1;
      original(...args);
    };
  }
  return counter;
}

/** Everything the client has received so far, as text. */
function received(client: Socket): () => string {
  let text = '';
  client.on('data', (chunk: Buffer) => (text += chunk.toString()));
  return () => text;
}

/**
 * Once the client has received what matches `pattern`: the bytes cross a socket, which a
 * loaded machine may take longer than any fixed pause over.
 */
function arrived(text: () => string, pattern: RegExp): Promise<string> {
  return eventually(
    `the client receives ${String(pattern)}`,
    () => (pattern.test(text()) ? text() : undefined),
    { deadlineMs: 20_000, everyMs: 5 }, // within the unit runner's 30 s
  );
}

/** A writer on a real response with its headers set, and what its client has received. */
async function withWriter(
  contentType: string,
  use: (open: {
    out: TurnBatchedWriter;
    text: () => string;
    response: ServerResponse;
  }) => Promise<void>,
): Promise<void> {
  const { response, client, close } = await openServerResponse();
  try {
    const text = received(client);
    const out = new TurnBatchedWriter(response);
    out.writeHead(200, { 'content-type': contentType });
    await use({ out, text, response });
  } finally {
    close();
  }
}

describe('TurnBatchedWriter', () => {
  it('sends the headers, the events and the end written in one turn in one socket write', () =>
    withWriter('text/event-stream', async ({ out, text, response }) => {
      const writes = countSocketWrites(response.socket!);
      await out.write('data: 1\n\n');
      await out.write('data: 2\n\n');
      out.end('data: [DONE]\n\n');
      await arrived(text, /\[DONE\]\n\n\r\n0\r\n\r\n$/); // the whole body, closed
      assert.equal(writes.count, 1);
      assert.match(
        text(),
        /^HTTP\/1.1 200 OK\r\n[\s\S]*data: 1\n\n[\s\S]*data: 2\n\n[\s\S]*\[DONE\]/,
      );
    }));

  it("hands a turn's many events to the kernel as one piece of the body, not one each", () =>
    withWriter('text/event-stream', async ({ out, text, response }) => {
      const writes = countSocketWrites(response.socket!);
      for (let i = 0; i < 100; i++) await out.write(`data: ${i}\n\n`);
      await nextTurn();
      await arrived(text, /data: 99\n\n/);
      assert.equal(writes.count, 1);
      // The headers, then one chunk framed as size, data and CRLF: not 300 pieces.
      assert.ok(writes.pieces <= 4, `${writes.pieces} pieces`);
      assert.match(text(), /data: 0\n\n[\s\S]*data: 99\n\n/);
      out.end('');
    }));

  it('sends what a turn wrote by the end of that turn, without waiting for more', () =>
    withWriter('text/event-stream', async ({ out, text }) => {
      // Each piece arrives with nothing more written after it.
      await arrived(text, /^HTTP\/1.1 200 OK/);
      assert.match(text(), /^HTTP\/1.1 200 OK/, 'the headers alone, at the end of their turn');
      await out.write('data: first\n\n');
      await nextTurn();
      await arrived(text, /data: first\n\n/);
      assert.match(text(), /data: first\n\n/);
      assert.doesNotMatch(text(), /second/);
      await out.write('data: second\n\n');
      await arrived(text, /data: second\n\n/);
      assert.match(text(), /data: second\n\n/);
      out.end('');
    }));

  it('still honours backpressure: a turn that writes past the buffer waits for the drain', () =>
    withWriter('application/octet-stream', async ({ out, text, response }) => {
      const chunk = 'y'.repeat(1024 * 1024);
      let waited = 0;
      for (let i = 0; i < 4; i++) {
        if (response.writableNeedDrain) waited++;
        await out.write(chunk);
        if (response.writableNeedDrain) waited++;
      }
      out.end('end');
      await arrived(text, /end\r\n0\r\n\r\n$/);
      assert.equal(waited, 0, 'each write resolved only once the response could take more');
      assert.ok(text().length > 4 * chunk.length, `everything arrived: ${text().length}`);
      assert.match(text(), /end\r\n0\r\n\r\n$/, 'the end, and the chunked body closed');
    }));
});
