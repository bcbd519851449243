import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Topic, type EventTopic, type SerializedEvent } from '@aigw/contracts';
import { SqliteEventLog } from './sqlite-event-log';

const DAY = 24 * 60 * 60 * 1000;
const T0 = Date.UTC(2026, 0, 1);
let ids = 0;

function event(topic: EventTopic, key = 'user-1'): SerializedEvent {
  ids += 1;
  return { topic, key, eventId: `event-${ids}`, json: JSON.stringify({ n: ids }) };
}

function stored(log: SqliteEventLog, topic: EventTopic): string[] {
  return log.read([topic], 0, 1_000).map((row) => row.value);
}

describe('retention of the embedded event log', () => {
  it('deletes events once their topic retention has passed since a later mark, no earlier', () => {
    const log = new SqliteEventLog(':memory:');
    log.append([event(Topic.RequestAccepted), event(Topic.UsageRecorded)]);
    assert.equal(log.pruneExpired(T0, 100), 0, 'nothing is old yet');
    log.append([event(Topic.RequestAccepted)]); // after the mark at T0: younger than it

    assert.equal(log.pruneExpired(T0 + 7 * DAY - 1, 100), 0, 'one millisecond short of 7 days');
    assert.equal(log.pruneExpired(T0 + 7 * DAY, 100), 1, 'request events keep 7 days');
    assert.equal(log.count(Topic.RequestAccepted), 1);
    assert.equal(log.count(Topic.UsageRecorded), 1, 'usage keeps 40 days');

    assert.equal(log.pruneExpired(T0 + 40 * DAY, 100), 2);
    assert.equal(log.count(), 0);
  });

  it('keeps only the newest event of each key on a compacted topic', () => {
    const log = new SqliteEventLog(':memory:');
    const states = [
      event(Topic.BudgetState, 'alice|perMinute'),
      event(Topic.BudgetState, 'bob|perMinute'),
      event(Topic.BudgetState, 'alice|perMinute'),
      event(Topic.BudgetState, 'alice|perMinute'),
    ];
    log.append(states);
    assert.equal(log.pruneExpired(T0, 100), 2);
    assert.deepEqual(stored(log, Topic.BudgetState), [states[1].json, states[3].json]);
    assert.equal(log.pruneExpired(T0 + 400 * DAY, 100), 0, 'the newest per key stays forever');
  });

  it('deletes at most the given number per call, oldest first', () => {
    const log = new SqliteEventLog(':memory:');
    const old = [1, 2, 3, 4, 5].map(() => event(Topic.RequestCompleted));
    log.append(old);
    log.pruneExpired(T0, 100);
    assert.equal(log.pruneExpired(T0 + 8 * DAY, 2), 2);
    assert.deepEqual(stored(log, Topic.RequestCompleted), [old[2].json, old[3].json, old[4].json]);
    assert.equal(log.pruneExpired(T0 + 8 * DAY, 2), 2);
    assert.equal(log.pruneExpired(T0 + 8 * DAY, 2), 1);
    assert.equal(log.count(), 0);
  });

  it('never gives a deleted position to a new event', () => {
    const log = new SqliteEventLog(':memory:');
    log.append([event(Topic.Fallback), event(Topic.Fallback)]);
    log.pruneExpired(T0, 100);
    log.pruneExpired(T0 + 8 * DAY, 100);
    assert.equal(log.count(), 0);
    const [seq] = log.appendAll([event(Topic.Fallback)]);
    assert.equal(seq, 3);
  });
});
