import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  DataPlaneError,
  DataPlaneErrorCode,
  realtimeCallAnsweredFrame,
  type RealtimeConnection,
} from '@aigw/contracts/data-plane';
import type { SessionEnd } from '../realtime-session';
import { NOOP_REALTIME_OBSERVER, type RealtimeOutcome } from '../realtime-telemetry';
import { RealtimeCallWatch } from './realtime-call-watch';

const USAGE = { input_tokens: 100, output_tokens: 20 };
const done = JSON.stringify({ type: 'response.done', response: { usage: USAGE } });

function watched(spent?: () => DataPlaneError | undefined, closeWaitMs?: number) {
  const closes: number[] = [];
  const outcomes: RealtimeOutcome[] = [];
  const calls: RealtimeOutcome[] = [];
  const ends: SessionEnd[] = [];
  const watch = new RealtimeCallWatch({
    observer: {
      ...NOOP_REALTIME_OBSERVER,
      ended: (outcome) => outcomes.push(outcome),
      callEnded: (outcome) => calls.push(outcome),
    },
    fields: {},
    spentLimit: spent,
    finished: (end) => ends.push(end),
    checkIntervalMs: 60_000,
    closeWaitMs,
  });
  const connection: RealtimeConnection = {
    servedBy: { backend: 'b', provider: 'openai', model: 'gpt-realtime' },
    send: () => undefined,
    close: (code) => closes.push(code ?? 1000),
  };
  return { watch, connection, closes, outcomes, calls, ends };
}

describe('RealtimeCallWatch', () => {
  it('takes the provider side’s answer first, sums each response’s usage, and ends as call_ended when the sideband closes', async () => {
    const { watch, connection, closes, outcomes, ends } = watched();
    watch.listener.frame(realtimeCallAnsweredFrame({ sdp: 'v=0\r\n', callId: 'rtc_1' }));
    watch.listener.frame('{"type":"session.created","session":{}}');
    watch.listener.frame(done);
    watch.attach(connection);
    watch.listener.frame(done);
    assert.deepEqual(watch.answer, { sdp: 'v=0\r\n', callId: 'rtc_1' });
    assert.deepEqual(await watch.answered, { sdp: 'v=0\r\n', callId: 'rtc_1' });
    watch.listener.closed(1000, '');
    assert.deepEqual(outcomes, ['call_ended']);
    assert.equal(ends[0].usage?.inputTokens, 200);
    assert.equal(ends[0].usage?.outputTokens, 40);
    // Closing a sideband already closed: the provider side owes no hang-up then.
    assert.deepEqual(closes, [1000]);
  });

  it('ends as upstream_closed when the sideband drops, even before it was attached', async () => {
    const { watch, connection, outcomes, ends } = watched();
    watch.listener.closed(1006, '');
    assert.equal(await watch.answered, undefined, 'no answer will come');
    assert.deepEqual(outcomes, []);
    watch.attach(connection);
    assert.deepEqual(outcomes, ['upstream_closed']);
    assert.equal(ends[0].usage, undefined);
  });

  it('hangs the call up (closes 1008) once a response spent the caller’s budget, with the refusal', () => {
    let spent: DataPlaneError | undefined = undefined;
    const { watch, connection, closes, outcomes, ends } = watched(() => spent);
    watch.attach(connection);
    watch.listener.frame(done);
    assert.deepEqual(outcomes, []);
    spent = new DataPlaneError(DataPlaneErrorCode.BudgetExceeded, 'spent');
    watch.listener.frame(done);
    assert.deepEqual(outcomes, ['budget_exceeded']);
    assert.deepEqual(closes, [1008]);
    assert.equal(ends[0].refusal, spent);
    watch.listener.closed(1000, '');
    assert.equal(ends.length, 1, 'ended once');
  });

  it('hangs up at once when the budget was spent before the call was attached, and on shutdown', () => {
    const early = watched(() => new DataPlaneError(DataPlaneErrorCode.BudgetExceeded, 'spent'));
    early.watch.attach(early.connection);
    assert.deepEqual(early.outcomes, ['budget_exceeded']);
    const stopping = watched();
    stopping.watch.attach(stopping.connection);
    stopping.watch.shutdown();
    assert.deepEqual(stopping.outcomes, ['shutdown']);
    assert.deepEqual(stopping.closes, [1001]);
  });

  it('ends a call its caller hung up once the sideband closed, the responses before the close summed, and counts it as hung_up', async () => {
    const { watch, connection, closes, outcomes, calls, ends } = watched();
    watch.attach(connection);
    watch.listener.frame(done);
    let over = false;
    const hungUp = watch.hangUp().then(() => (over = true));
    assert.deepEqual(closes, [1000], 'the provider side hangs the call up');
    // The backend's last response, between the hang-up and the sideband's close.
    watch.listener.frame(done);
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(over, false, 'not over before the sideband closed');
    assert.equal(ends.length, 0);
    watch.listener.closed(1000, '');
    await hungUp;
    assert.deepEqual(outcomes, ['hung_up']);
    assert.deepEqual(calls, ['hung_up']);
    assert.equal(ends.length, 1);
    assert.equal(ends[0].usage?.inputTokens, 200);
    // A second hang-up of the call over: nothing more.
    await watch.hangUp();
    assert.equal(ends.length, 1);
    assert.deepEqual(closes, [1000]);
  });

  it('ends a hung-up call whose sideband never closes once the wait passed', async () => {
    const { watch, connection, outcomes, ends } = watched(undefined, 20);
    watch.attach(connection);
    await watch.hangUp();
    assert.deepEqual(outcomes, ['hung_up']);
    assert.equal(ends.length, 1);
  });

  it('ends a hung-up call still waiting for its sideband at once when the gateway stops, as hung up', async () => {
    const { watch, connection, closes, outcomes, ends } = watched(undefined, 60_000);
    watch.attach(connection);
    const hungUp = watch.hangUp();
    watch.shutdown();
    assert.equal(ends.length, 1);
    assert.deepEqual(outcomes, ['hung_up']);
    await hungUp;
    assert.deepEqual(closes, [1000], 'hung up once');
    watch.listener.closed(1000, '');
    assert.equal(ends.length, 1);
  });

  it('counts calls ended by budget and by shutdown apart', () => {
    const spent = watched(() => new DataPlaneError(DataPlaneErrorCode.BudgetExceeded, 'spent'));
    spent.watch.attach(spent.connection);
    const stopping = watched();
    stopping.watch.attach(stopping.connection);
    stopping.watch.shutdown();
    assert.deepEqual([...spent.calls, ...stopping.calls], ['budget_exceeded', 'shutdown']);
  });
});
