import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  KafkaConnectionSupervisor,
  type ConnectionAttemptOutcome,
  type KafkaConnectionSupervisorOptions,
} from './kafka-connection-supervisor';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A supervisor on stand-ins, recording each try's outcome and when it was made. */
function supervised(overrides: Partial<KafkaConnectionSupervisorOptions>) {
  const outcomes: ConnectionAttemptOutcome[] = [];
  let stopped = false;
  const supervisor = new KafkaConnectionSupervisor({
    probe: async () => undefined,
    prepare: async () => undefined,
    startWaitMs: 100,
    retryMinMs: 20,
    retryMaxMs: 80,
    stopped: () => stopped,
    observer: { connectionAttempt: (outcome) => outcomes.push(outcome) },
    ...overrides,
  });
  const connectedAt: number[] = [];
  return {
    outcomes,
    connectedAt,
    stop: () => (stopped = true),
    start: () => supervisor.start((attempt) => connectedAt.push(attempt)),
  };
}

async function until(condition: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 5_000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(5);
  }
}

describe('KafkaConnectionSupervisor', () => {
  it('connects at start when Kafka answers, waiting for the topic set-up however long it takes', async () => {
    let prepared = false;
    const s = supervised({
      prepare: async () => {
        await sleep(250); // longer than startWaitMs: Kafka answered, so it is waited for
        prepared = true;
      },
    });
    const started = await s.start();
    assert.deepEqual(started, { connected: true });
    assert.equal(prepared, true);
    assert.deepEqual(s.outcomes, ['connected']);
    assert.deepEqual(s.connectedAt, [], 'the caller handles a connected start itself');
  });

  it('returns within startWaitMs from a probe that hangs, and connects once that same try answers', async () => {
    let answer: () => void = () => undefined;
    let probes = 0;
    const s = supervised({
      probe: () => {
        probes++;
        return new Promise<void>((resolve) => (answer = resolve));
      },
    });
    const since = Date.now();
    const started = await s.start();
    const took = Date.now() - since;
    assert.equal(started.connected, false);
    // Not before startWaitMs; the probe never answers, so without the wait it would not return
    // at all. The upper bound leaves room for a pause of a loaded machine.
    assert.ok(took >= 90 && took < 10_000, `start took ${took} ms`);
    assert.match(String((started as { error: unknown }).error), /did not answer within 100 ms/);

    answer();
    await until(() => s.connectedAt.length === 1, 'the connection');
    assert.equal(probes, 1, 'the hanging try was waited for, not replaced');
    assert.deepEqual(s.connectedAt, [1]);
    assert.deepEqual(s.outcomes, ['connected']);
  });

  it('counts each failed try, spaces them with a doubling backoff, and connects when Kafka answers', async () => {
    const probedAt: number[] = [];
    const s = supervised({
      probe: async () => {
        probedAt.push(Date.now());
        if (probedAt.length <= 4) throw new Error('connect ECONNREFUSED 127.0.0.1:9092');
      },
    });
    const started = await s.start();
    assert.equal(started.connected, false);
    assert.match(String((started as { error: unknown }).error), /ECONNREFUSED/);

    await until(() => s.connectedAt.length === 1, 'the connection');
    assert.deepEqual(s.outcomes, ['failed', 'failed', 'failed', 'failed', 'connected']);
    assert.deepEqual(s.connectedAt, [5]);
    const gaps = probedAt.slice(1).map((at, i) => at - probedAt[i]);
    // 20, 40, 80, then capped at 80 (timers may fire a little late, never early).
    [20, 40, 80, 80].forEach((least, i) => assert.ok(gaps[i] >= least - 2, `gap ${i}: ${gaps[i]}`));
  });

  it('counts a failed topic set-up as a failed try and tries again', async () => {
    let prepares = 0;
    const s = supervised({
      prepare: async () => {
        prepares++;
        if (prepares === 1) throw new Error('not controller');
      },
    });
    const started = await s.start();
    assert.equal(started.connected, false);
    await until(() => s.connectedAt.length === 1, 'the connection');
    assert.deepEqual(s.outcomes, ['failed', 'connected']);
  });

  it('stops trying once its owner closes', async () => {
    let probes = 0;
    const s = supervised({
      probe: async () => {
        probes++;
        throw new Error('down');
      },
    });
    await s.start();
    await until(() => probes >= 2, 'a second try');
    s.stop();
    const seen = probes;
    await sleep(300);
    assert.ok(probes <= seen + 1, `tried ${probes - seen} more times after the stop`);
    assert.deepEqual(s.connectedAt, []);
  });
});
