// A client that stops reading a stream (connected, its window shut) must not hold the
// gateway's side for ever: a write waiting for it to take more gives up after the send
// timeout and drops the connection, so the call ends (its upstream cancelled, its usage
// billed, its in-flight counts released) instead of waiting on that client as long as its
// TCP connection lives.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import type { Socket } from 'node:net';
import { describe, it } from 'node:test';
import { eventually, openServerResponse } from '@aigw/testing';
import { TurnBatchedWriter } from './turn-batched-writer';

const SEND_TIMEOUT_MS = 300;

/**
 * A client that takes each piece, then pauses `pauseMs` before the next: slow, never stalled.
 * `hasAll(bytes)`: more than `bytes` came, and the chunked answer's end.
 */
function steadyReader(client: Socket, pauseMs: number) {
  let received = 0;
  let tail = '';
  client.on('data', (piece: Buffer) => {
    received += piece.length;
    tail = (tail + piece.toString()).slice(-16);
    client.pause();
    setTimeout(() => client.resume(), pauseMs);
  });
  return { hasAll: (bytes: number) => received > bytes && tail.endsWith('end\r\n0\r\n\r\n') };
}

describe('TurnBatchedWriter, a client that stops reading', () => {
  it('drops the connection once a write has waited the send timeout for the client', async () => {
    const { response, client, close } = await openServerResponse();
    try {
      client.pause(); // reads nothing: the kernel's buffers fill, then the response's
      const out = new TurnBatchedWriter(response, SEND_TIMEOUT_MS);
      out.writeHead(200, { 'content-type': 'text/event-stream' });
      const chunk = 'x'.repeat(256 * 1024);
      let over = false;
      void (async () => {
        for (let i = 0; i < 1024 && !response.destroyed; i++) await out.write(chunk);
        over = true;
      })();
      // Bounds only a hang: the writes fill the buffers within moments, then wait.
      await eventually('the writes stop waiting on the client', () => (over ? true : undefined), {
        deadlineMs: 20_000, // within the unit runner's 30 s
      });
      assert.equal(response.destroyed, true, 'the connection is dropped');
      client.resume(); // a paused socket reports no end
      if (!client.destroyed) await once(client, 'close');
    } finally {
      close();
    }
  });

  it('keeps a client that reads slowly: each wait is shorter than the timeout', async () => {
    const { response, client, close } = await openServerResponse();
    try {
      const reader = steadyReader(client, SEND_TIMEOUT_MS / 10);
      const out = new TurnBatchedWriter(response, SEND_TIMEOUT_MS);
      out.writeHead(200, { 'content-type': 'text/event-stream' });
      const chunk = 'y'.repeat(64 * 1024);
      for (let i = 0; i < 64; i++) await out.write(chunk);
      out.end('end');
      await eventually(
        'the client has it all, and the end',
        () => (reader.hasAll(64 * chunk.length) ? true : undefined),
        { deadlineMs: 20_000 },
      );
    } finally {
      close();
    }
  });

  it('keeps a client that reads steadily while one large write takes longer than the timeout to go', async () => {
    // An event far larger than the socket's buffers (a streamed image's base64, a Responses
    // answer's response.completed): its one write drains only once the client has taken
    // nearly all of it, which a steady reader may take longer than the timeout to do.
    const { response, client, close } = await openServerResponse();
    try {
      const reader = steadyReader(client, 5);
      // The kernel frees a socket's buffer (and so libuv takes more of the write) in steps
      // of about a third of it, some hundreds of ms apart at this pace: the timeout is longer.
      // A pause of the whole process past it (a loaded box) is not the reader's: that rule is
      // untilWritableWithin's own (until-writable.spec).
      const out = new TurnBatchedWriter(response, 1_000);
      out.writeHead(200, { 'content-type': 'text/event-stream' });
      const event = 'z'.repeat(24 * 1024 * 1024);
      await out.write(event);
      out.end('end');
      await eventually(
        'the client has it all, and the end',
        () => (reader.hasAll(event.length) ? true : undefined),
        { deadlineMs: 20_000 },
      );
    } finally {
      close();
    }
  });
});
