import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { RequestDeadline } from './request-deadline';

describe('RequestDeadline', () => {
  it('a deadline longer than a timer can wait never fires early', async () => {
    // Node fires a setTimeout past 2^31-1 ms after 1 ms: a client's "no real limit" would 504 at once.
    for (const ms of [2 ** 31, 999_999_999_999_999]) {
      const deadline = new RequestDeadline(ms, new AbortController().signal);
      await sleep(20);
      assert.equal(deadline.passed, false, `${ms} ms`);
      assert.equal(deadline.signal.aborted, false);
      deadline.release();
    }
  });

  it('aborts at the deadline with its timeout error', async () => {
    const deadline = new RequestDeadline(10, new AbortController().signal);
    await sleep(40);
    assert.equal(deadline.passed, true);
    assert.equal(deadline.signal.reason, deadline.error);
  });

  it('a client gone releases the timer, even when no stream is ever read', async () => {
    const client = new AbortController();
    const deadline = new RequestDeadline(30, client.signal);
    deadline.releaseAfter({
      kind: 'stream',
      status: 200,
      events: (async function* () {})(),
      usage: new Promise(() => undefined),
      servedBy: { backend: 'b', provider: 'openai', model: 'm' },
    });
    client.abort(new Error('client disconnected'));
    await sleep(60);
    // Its timer was cleared: the deadline itself never passed.
    assert.equal(deadline.passed, false);
    assert.equal(deadline.signal.aborted, true);
  });
});
