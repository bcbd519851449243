import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { encodeEvent, type EncodedEvent } from '@aigw/contracts';
import { numberedUsageEvent } from '@aigw/testing';
import { EventSpool, spooledBytes } from './event-spool';

const dir = mkdtempSync(join(tmpdir(), 'aigw-spool-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function usageEvent(user: string, n: number): EncodedEvent {
  return encodeEvent(numberedUsageEvent(user, n));
}

const idOf = (e: EncodedEvent): string => e.headers['aigw-event-id'];

describe('EventSpool', () => {
  it('keeps events in append order and forgets them once acknowledged', () => {
    const spool = new EventSpool(join(dir, 'order.db'));
    const events = Array.from({ length: 10 }, (_, i) => usageEvent(i % 2 ? 'a' : 'b', i));
    const first = spool.append(events.slice(0, 4));
    const second = spool.append(events.slice(4));
    assert.equal(first.accepted, 4);
    assert.equal(second.accepted, 6);
    assert.ok((second.firstSeq ?? 0) > (first.lastSeq ?? Infinity));
    assert.equal(spool.count, 10);
    assert.equal(
      spool.bytes,
      events.reduce((sum, e) => sum + spooledBytes(e), 0),
    );

    const head = spool.peek(3);
    assert.deepEqual(head.map(idOf), events.slice(0, 3).map(idOf));
    assert.deepEqual(head[0].value, events[0].value, 'the payload comes back byte for byte');
    assert.deepEqual(head[0].headers, events[0].headers);
    assert.equal(head[0].key, events[0].key);
    assert.equal(head[0].topic, events[0].topic);

    spool.removeThrough(head[2].seq);
    assert.equal(spool.count, 7);
    assert.deepEqual(spool.peek(100).map(idOf), events.slice(3).map(idOf));
    spool.removeRange(second.firstSeq ?? 0, second.lastSeq ?? 0);
    assert.deepEqual(spool.peek(100).map(idOf), [idOf(events[3])]);
    spool.removeThrough(Number.MAX_SAFE_INTEGER);
    assert.equal(spool.count, 0);
    assert.equal(spool.bytes, 0);
    spool.close();
  });

  // A full disk: SQLite refuses even deletes. Acknowledged rows are counted once, never
  // peeked again, and a removal never throws into the producer's acknowledgement.
  it('on a full disk, forgets an acknowledged range once and holds it as acknowledged', () => {
    const spool = new EventSpool(join(dir, 'full.db'));
    const events = Array.from({ length: 6 }, (_, i) => usageEvent('u', i));
    const first = spool.append(events.slice(0, 3));
    const second = spool.append(events.slice(3));
    const size = spooledBytes(events[0]);
    const full = () => {
      throw Object.assign(new Error('database or disk is full'), { errcode: 13 });
    };
    for (const statement of ['deleteThroughStmt', 'deleteRangeStmt'] as const) {
      (spool as unknown as Record<string, { run: () => never }>)[statement] = { run: full };
    }
    // A replay acknowledged the first batch; then the original send of it is acknowledged.
    spool.removeThrough(first.lastSeq ?? 0);
    assert.equal(spool.count, 3);
    spool.removeRange(first.firstSeq ?? 0, first.lastSeq ?? 0);
    assert.equal(spool.count, 3, 'rows removeThrough acknowledged are not forgotten twice');
    assert.equal(spool.bytes, 3 * size);
    // The oldest rows left, acknowledged: held as such though the delete fails.
    spool.removeRange(second.firstSeq ?? 0, second.lastSeq ?? 0);
    assert.equal(spool.count, 0);
    assert.deepEqual(spool.peek(10), []);
    spool.close();
  });

  it('refuses the newest events past its byte bound and never evicts stored ones', () => {
    const events = Array.from({ length: 10 }, (_, i) => usageEvent('u', i));
    const size = spooledBytes(events[0]);
    // Room for three and a half events.
    const spool = new EventSpool(join(dir, 'bound.db'), { maxBytes: Math.floor(size * 3.5) });
    const first = spool.append(events.slice(0, 2));
    assert.equal(first.accepted, 2);
    assert.equal(first.refused.length, 0);

    const second = spool.append(events.slice(2, 6));
    assert.equal(second.accepted, 1);
    assert.equal(second.reason, 'full');
    assert.deepEqual(second.refused.map(idOf), events.slice(3, 6).map(idOf));
    assert.ok(spool.bytes <= spool.maxBytes);

    const third = spool.append(events.slice(6, 7));
    assert.equal(third.accepted, 0, 'full: a new event is turned away');
    assert.deepEqual(spool.peek(10).map(idOf), events.slice(0, 3).map(idOf), 'old ones stay');

    spool.removeThrough(spool.peek(1)[0].seq);
    assert.equal(spool.append(events.slice(7, 8)).accepted, 1, 'room again after a replay');
    assert.deepEqual(spool.peek(10).map(idOf), [events[1], events[2], events[7]].map(idOf));
    spool.close();
  });

  it('says whether a write commits, without storing an event', () => {
    const spool = new EventSpool(join(dir, 'writable.db'));
    assert.equal(spool.writable(), true);
    assert.equal(spool.writable(), true, 'again: the probe row is changed in place');
    assert.equal(spool.count, 0);
    assert.deepEqual(spool.peek(10), []);
    spool.close();
    assert.equal(spool.writable(), false, 'closed');
  });

  it('belongs to one process at a time', () => {
    const path = join(dir, 'owned.db');
    const owner = new EventSpool(path);
    assert.throws(() => new EventSpool(path), /in use by another process/);
    owner.close();
    new EventSpool(path).close();
  });

  it('survives a restart of the process: a new spool on the same file replays the old rows', () => {
    const path = join(dir, 'restart.db');
    const events = Array.from({ length: 25 }, (_, i) => usageEvent(`u${i % 3}`, i));
    const before = new EventSpool(path);
    before.append(events);
    before.removeThrough(before.peek(5)[4].seq);
    const bytes = before.bytes;
    before.close();

    const reopened = new EventSpool(path);
    assert.equal(reopened.count, 20);
    assert.equal(reopened.bytes, bytes);
    assert.deepEqual(reopened.peek(100).map(idOf), events.slice(5).map(idOf));
    const more = reopened.append([usageEvent('late', 99)]);
    assert.ok((more.firstSeq ?? 0) > reopened.peek(100)[18].seq, 'new rows go after the old');
    reopened.close();
  });
});
