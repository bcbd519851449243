import assert from 'node:assert/strict';
import { once } from 'node:events';
import type { ServerResponse } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, it } from 'node:test';
import { openServerResponse } from '@aigw/testing';
import { untilWritable } from './until-writable';

/**
 * Writes until the response stays full: the client reads nothing, so once the kernel's
 * socket buffers are full too, no 'drain' comes within 200 ms.
 */
async function fill(response: ServerResponse): Promise<void> {
  response.writeHead(200, { 'content-type': 'text/event-stream' });
  const chunk = 'x'.repeat(64 * 1024);
  for (let round = 0; round < 1_000; round++) {
    while (response.write(chunk));
    const drained = once(response, 'drain').then(() => true);
    if (!(await Promise.race([drained, sleep(200).then(() => false)]))) return;
  }
  assert.fail('the response never stayed full');
}

const settles = (promise: Promise<void>, ms = 2_000) =>
  Promise.race([promise.then(() => true), sleep(ms).then(() => false)]);

describe('untilWritable', () => {
  it('resolves at once for a response with nothing to drain', async () => {
    const { response, close } = await openServerResponse();
    try {
      assert.equal(await settles(untilWritable(response), 50), true);
    } finally {
      close();
    }
  });

  it('waits for a full response to drain, and resolves when the client reads', async () => {
    const { response, client, close } = await openServerResponse();
    try {
      client.pause();
      await fill(response);
      const waiting = untilWritable(response);
      assert.equal(await settles(waiting, 200), false, 'resolved before anything was read');
      client.resume();
      assert.equal(await settles(waiting), true);
    } finally {
      close();
    }
  });

  it('resolves when the client hangs up while the response waits to drain', async () => {
    const { response, client, close } = await openServerResponse();
    try {
      client.pause();
      await fill(response);
      const waiting = untilWritable(response);
      client.destroy();
      assert.equal(await settles(waiting), true);
    } finally {
      close();
    }
  });

  it('resolves for a write after the client hung up and the response closed', async () => {
    // The race that held a streamed request for ever: the response is closed before the
    // writer learns it, write() returns false, and no 'drain' or 'close' is ever emitted.
    const { response, hangUp, close } = await openServerResponse();
    try {
      response.writeHead(200, { 'content-type': 'text/event-stream' });
      await hangUp();
      assert.equal(response.write('data: late\n\n'), false);
      assert.equal(await settles(untilWritable(response)), true);
    } finally {
      close();
    }
  });
});
