import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { FlightEvent } from './domain/flight';
import { aliveEntry, brokenEntry, eventsEntry, readFlightEntry } from './flight-stream-entries';

const chunk = (n: number): FlightEvent => ({ t: 'chunk', data: { n } });
const batch = (seq: number, ...events: FlightEvent[]) =>
  eventsEntry(
    seq,
    events.map((event) => JSON.stringify(event)),
  );

describe('a follower reading the entries of a flight stream', () => {
  it('takes numbered batches in order and says which one comes next', () => {
    assert.deepEqual(readFlightEntry(batch(1, chunk(1), chunk(2)), 1), {
      events: [chunk(1), chunk(2)],
      retained: true,
      nextSeq: 2,
    });
    assert.deepEqual(readFlightEntry(batch(2, chunk(3)), 2), {
      events: [chunk(3)],
      retained: true,
      nextSeq: 3,
    });
  });

  it('calls a skipped batch lost: the answer would have a hole', () => {
    assert.deepEqual(readFlightEntry(batch(3, chunk(5)), 2), { lost: true });
  });

  it('calls the leader’s broken mark lost', () => {
    assert.deepEqual(readFlightEntry(brokenEntry(), 4), { lost: true });
  });

  it('reads heartbeats and the no-store mark as no events, the number unchanged', () => {
    assert.deepEqual(readFlightEntry(aliveEntry(true), 3), {
      events: [],
      retained: true,
      nextSeq: 3,
    });
    assert.deepEqual(readFlightEntry(aliveEntry(false), 1), {
      events: [],
      retained: false,
      nextSeq: 1,
    });
  });

  it('calls a batch lost once a heartbeat written after it names it and it was not read', () => {
    // Batches 1 and 2 read (3 expected next): a beat naming 2 is fine, one naming 3 is not.
    assert.deepEqual(readFlightEntry(aliveEntry(true, 2), 3), {
      events: [],
      retained: true,
      nextSeq: 3,
    });
    assert.deepEqual(readFlightEntry(aliveEntry(true, 3), 3), { lost: true });
  });

  it('reads an unnumbered batch of an earlier version’s leader as it is', () => {
    assert.deepEqual(readFlightEntry(['e', JSON.stringify([chunk(1)])], 1), {
      events: [chunk(1)],
      retained: true,
      nextSeq: 1,
    });
  });
});
