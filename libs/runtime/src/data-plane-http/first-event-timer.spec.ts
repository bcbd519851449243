import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { BackendSilence } from '@aigw/contracts/data-plane';
import { firstEventTimer } from './first-event-timer';

describe('firstEventTimer', () => {
  const live = new AbortController().signal;

  it('times nothing for a router that sent no deadline, or one no timer can wait', () => {
    for (const header of [undefined, '', '0', '-5', '1.5', '12abc', ['300'], '99999999999']) {
      assert.equal(firstEventTimer(header, 'b', live), undefined, String(header));
    }
  });

  it('cancels the call with the backend timeout at the deadline', async () => {
    const timer = firstEventTimer('20', 'slow', live)!;
    await new Promise((resolve) => timer.signal.addEventListener('abort', resolve));
    assert.ok(timer.expired);
    assert.ok(timer.signal.reason instanceof BackendSilence);
    assert.equal(timer.signal.reason.message, 'backend "slow" sent no stream data within 20 ms');
    assert.equal(timer.failure(new Error('aborted')), timer.error);
  });

  it('passes the router hang-up on as it is, and keeps other failures', () => {
    const hangUp = new AbortController();
    const timer = firstEventTimer('60000', 'b', hangUp.signal)!;
    hangUp.abort(new Error('the caller disconnected'));
    timer.clear();
    assert.ok(timer.signal.aborted);
    assert.ok(!(timer.signal.reason instanceof BackendSilence));
    const other = new Error('refused');
    assert.equal(timer.failure(other), other);
  });

  it('fails a stream the deadline cut before its first event as the timeout', async () => {
    const timer = firstEventTimer('10', 'b', live)!;
    async function* cut() {
      await new Promise((resolve) => timer.signal.addEventListener('abort', resolve));
      yield* [];
    }
    await assert.rejects(async () => {
      for await (const _ of timer.events(cut())) assert.fail('no event');
    }, BackendSilence);
  });
});
