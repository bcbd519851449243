import assert from 'node:assert/strict';
import { once } from 'node:events';
import type { ServerResponse } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { EventEmitter } from 'node:events';
import { describe, it } from 'node:test';
import { openServerResponse } from '@aigw/testing';
import { untilWritable, untilWritableWithin } from './until-writable';

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

/** A full response whose reader's progress the test sets (`writableLength`, still to take). */
class FullResponse extends EventEmitter {
  writableNeedDrain = true;
  writableLength = 1_000_000;
  destroyed = false;

  destroy(): void {
    this.destroyed = true;
    this.writableNeedDrain = false;
    this.emit('close');
  }
}

describe('untilWritableWithin and a pause of the whole process', () => {
  it('does not count a pause of this process past the timeout against the reader', async () => {
    // A GC pause or a starved CPU: the look due every quarter timeout comes late, and no
    // look could see the reader's progress meanwhile (libuv writes only once the loop runs).
    const response = new FullResponse();
    const waited = untilWritableWithin(response, 300);
    await sleep(10);
    const heldUntil = Date.now() + 900;
    while (Date.now() < heldUntil); // the whole process held
    await sleep(100); // the late look, then another on time
    assert.equal(response.destroyed, false, 'the reader is not dropped for our pause');
    response.writableLength -= 1_000; // the reader takes more once the process runs again
    await sleep(150);
    response.writableNeedDrain = false;
    response.emit('drain');
    await waited;
    assert.equal(response.destroyed, false);
  });

  it('still drops a reader that takes nothing for the timeout of looks that came on time', async () => {
    const response = new FullResponse();
    const waited = untilWritableWithin(response, 300);
    const heldUntil = Date.now() + 900;
    await sleep(10);
    while (Date.now() < heldUntil); // credited, as above
    assert.equal(await settles(waited, 2_000), true, 'dropped within the timeout after');
    assert.equal(response.destroyed, true);
  });
});

describe('untilWritableWithin and the wall clock', () => {
  it('drops a reader that takes nothing on time though the wall clock steps back an hour', async (t) => {
    // NTP stepping a fast clock back, a VM resumed with an old time: the send timeout is a
    // duration, and a wall clock moved back would hold the stalled reader that much longer.
    const response = new FullResponse();
    const wall = Date.now.bind(Date);
    const waited = untilWritableWithin(response, 200);
    t.mock.method(Date, 'now', () => wall() - 3_600_000);
    try {
      assert.equal(await settles(waited, 2_000), true, 'dropped within the timeout');
      assert.equal(response.destroyed, true);
    } finally {
      response.destroy(); // ends the wait (and its looks) whatever the outcome
    }
  });
});
