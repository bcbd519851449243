import { EventEmitter } from 'node:events';
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type WebSocket from 'ws';
import { DataPlaneError, DataPlaneErrorCode, type RealtimeFrame } from '@aigw/contracts/data-plane';
import { MAX_CLIENT_BACKLOG_BYTES, RealtimeSession } from './realtime-session';
import { NOOP_REALTIME_OBSERVER, type RealtimeOutcome } from './realtime-telemetry';

/** A client socket as the session uses it: what it was sent, how it was closed. */
class FakeClient extends EventEmitter {
  readyState = 1;
  bufferedAmount = 0;
  readonly sent: RealtimeFrame[] = [];
  closedWith?: number;
  pings = 0;
  terminated = false;
  ping(): void {
    this.pings++;
  }
  terminate(): void {
    this.terminated = true;
    this.readyState = 3;
  }
  send(frame: RealtimeFrame): void {
    this.sent.push(frame);
  }
  close(code: number): void {
    this.closedWith = code;
    this.readyState = 3;
  }
}

function session(spent?: () => DataPlaneError | undefined, pingIntervalMs = 60_000) {
  const upstream = { sent: [] as RealtimeFrame[], closed: false };
  const outcomes: RealtimeOutcome[] = [];
  const billed: boolean[] = [];
  const relay = new RealtimeSession({
    observer: { ...NOOP_REALTIME_OBSERVER, ended: (outcome) => outcomes.push(outcome) },
    fields: {},
    spentLimit: spent,
    finished: (end) => billed.push(end.usage !== undefined),
    checkIntervalMs: 60_000,
    pingIntervalMs,
  });
  const client = new FakeClient();
  const connection = {
    servedBy: { backend: 'b', provider: 'openai', model: 'm' },
    send: (frame: RealtimeFrame) => upstream.sent.push(frame),
    close: () => {
      upstream.closed = true;
    },
  };
  const attach = () => relay.attach(client as unknown as WebSocket, connection);
  return { relay, client, upstream, outcomes, billed, attach };
}

describe('RealtimeSession', () => {
  it('holds the backend’s first frames until the upgrade is done, then relays both ways', () => {
    const s = session();
    s.relay.listener.frame('{"type":"session.created"}');
    s.attach();
    assert.deepEqual(s.client.sent, ['{"type":"session.created"}']);
    s.client.emit('message', Buffer.from('{"type":"response.create"}'), false);
    s.client.emit('message', Buffer.from([1, 2]), true);
    assert.deepEqual(s.upstream.sent, ['{"type":"response.create"}', Buffer.from([1, 2])]);
    s.client.emit('close');
    assert.ok(s.upstream.closed);
    assert.deepEqual(s.outcomes, ['client_closed']);
    assert.deepEqual(s.billed, [false], 'no response billed: the hold is released');
  });

  it('ends with budget_exceeded once the caller’s budget is spent, before relaying more', () => {
    const budget: { spent?: DataPlaneError } = {};
    const s = session(() => budget.spent);
    s.attach();
    s.relay.listener.frame(
      JSON.stringify({
        type: 'response.done',
        response: { usage: { input_tokens: 1, output_tokens: 1 } },
      }),
    );
    budget.spent = new DataPlaneError(
      DataPlaneErrorCode.BudgetExceeded,
      'tokenBudget.perUser is spent',
    );
    s.client.emit('message', Buffer.from('{"type":"response.create"}'), false);
    assert.deepEqual(s.upstream.sent, [], 'the frame after the budget went is not sent');
    const error = JSON.parse(s.client.sent[1] as string) as {
      type: string;
      error: Record<string, unknown>;
    };
    assert.equal(error.type, 'error');
    assert.equal(error.error.code, 'budget_exceeded');
    assert.equal(error.error.type, 'invalid_request_error');
    assert.equal(s.client.closedWith, 1008);
    assert.ok(s.upstream.closed);
    assert.deepEqual(s.outcomes, ['budget_exceeded']);
    assert.deepEqual(s.billed, [true]);
  });

  it('ends a session whose client stopped reading, rather than buffer without bound', () => {
    const s = session();
    s.attach();
    s.client.bufferedAmount = MAX_CLIENT_BACKLOG_BYTES + 1;
    s.relay.listener.frame('{"type":"response.output_audio.delta","delta":"AAAA"}');
    assert.deepEqual(s.client.sent, []);
    assert.equal(s.client.closedWith, 1008);
    assert.ok(s.upstream.closed);
    assert.deepEqual(s.outcomes, ['client_too_slow']);
  });

  it('tells the client why when the backend closes, even before the upgrade was done', () => {
    const s = session();
    s.relay.listener.closed(1006, '');
    s.attach();
    const error = JSON.parse(s.client.sent[0] as string) as { error: { code: string } };
    assert.equal(error.error.code, 'upstream_closed');
    assert.equal(s.client.closedWith, 1011);
    assert.deepEqual(s.outcomes, ['upstream_closed']);
  });

  it('passes a frame-too-big close (1009) from the backend’s side on to the client, after the error event', () => {
    const s = session();
    s.attach();
    s.relay.listener.closed(1009, '');
    const error = JSON.parse(s.client.sent[0] as string) as { error: { message: string } };
    assert.match(error.error.message, /1009/);
    assert.equal(s.client.closedWith, 1009);
    assert.deepEqual(s.outcomes, ['upstream_closed']);
  });

  it('pings the client and ends the session once a ping went unanswered', (t) => {
    t.mock.timers.enable({ apis: ['setInterval'] });
    const s = session(undefined, 1_000);
    s.attach();
    t.mock.timers.tick(1_000);
    assert.equal(s.client.pings, 1);
    s.client.emit('pong');
    t.mock.timers.tick(1_000);
    assert.deepEqual(s.outcomes, [], 'a client that answered stays');
    assert.equal(s.client.pings, 2);
    t.mock.timers.tick(1_000);
    assert.deepEqual(s.outcomes, ['client_unresponsive']);
    assert.ok(s.client.terminated);
    assert.ok(s.upstream.closed, 'the backend’s session is closed');
    assert.deepEqual(s.billed, [false]);
  });
});
