// A download piped into its response (a file's content) keeps the send timeout the
// gateway's own streamed writes keep: a client that stops reading is dropped once it has
// taken nothing for the timeout; a slow one is kept.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { Readable } from 'node:stream';
import { describe, it } from 'node:test';
import { eventually, openServerResponse } from '@aigw/testing';
import { dropStalledPipeReader } from './piped-send-timeout';
import { clientSendTimeouts } from './until-writable';

const SEND_TIMEOUT_MS = 300;

/** `count` pieces of `size` bytes, made as they are read. */
function pieces(count: number, size: number): Readable {
  let made = 0;
  return new Readable({
    read() {
      this.push(made++ < count ? Buffer.alloc(size, 120) : null);
    },
  });
}

describe('dropStalledPipeReader', () => {
  it('drops a client that stops reading a piped download once it took nothing for the timeout', async () => {
    const { response, client, close } = await openServerResponse();
    try {
      client.pause(); // reads nothing: the kernel's buffers fill, then the response's
      const before = clientSendTimeouts();
      const source = pieces(1024, 256 * 1024); // far more than the buffers hold
      dropStalledPipeReader(source, response, SEND_TIMEOUT_MS);
      source.pipe(response);
      // Bounds only a hang: the pipe fills the buffers within moments, then waits.
      await eventually('the connection is dropped', () => (response.destroyed ? true : undefined), {
        deadlineMs: 20_000, // within the unit runner's 30 s
      });
      assert.equal(clientSendTimeouts() - before, 1, 'counted as a send timeout');
      client.resume(); // a paused socket reports no end
      if (!client.destroyed) await once(client, 'close');
    } finally {
      close();
    }
  });

  it('keeps a client that reads slowly: each wait is shorter than the timeout', async () => {
    const { response, client, close } = await openServerResponse();
    try {
      let received = 0;
      let tail = '';
      client.on('data', (piece: Buffer) => {
        received += piece.length;
        tail = (tail + piece.toString('latin1')).slice(-5);
        client.pause();
        setTimeout(() => client.resume(), SEND_TIMEOUT_MS / 10);
      });
      const before = clientSendTimeouts();
      const source = pieces(64, 64 * 1024);
      dropStalledPipeReader(source, response, SEND_TIMEOUT_MS);
      source.pipe(response);
      await eventually(
        'the client has it all, and the end',
        () => (received > 64 * 64 * 1024 && tail === '0\r\n\r\n' ? true : undefined),
        { deadlineMs: 20_000 },
      );
      assert.equal(clientSendTimeouts(), before, 'none dropped');
      assert.equal(source.listenerCount('pause'), 0, 'its watch let go with the source');
    } finally {
      close();
    }
  });
});
