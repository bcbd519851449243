import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { isUUID } from 'class-validator';
import { EventIdGenerator, newEventId } from './event-id';

const V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

/** The Unix milliseconds a UUIDv7 carries in its first 48 bits. */
const millisOf = (id: string): number => parseInt(id.slice(0, 8) + id.slice(9, 13), 16);

function assertIncreasing(ids: readonly string[]): void {
  for (let i = 1; i < ids.length; i++) {
    assert.ok(ids[i] > ids[i - 1], `${ids[i]} should sort after ${ids[i - 1]}`);
  }
}

describe('event ids', () => {
  it('are UUIDv7 strings that the envelope validator accepts', () => {
    for (let i = 0; i < 1_000; i++) {
      const id = newEventId();
      assert.match(id, V7);
      assert.ok(isUUID(id), id);
      assert.ok(isUUID(id, '7'), id);
    }
  });

  it('carry the time they were made', () => {
    const before = Date.now();
    const id = newEventId();
    const after = Date.now();
    assert.ok(millisOf(id) >= before && millisOf(id) <= after, `${id} at ${before}..${after}`);
  });

  it('strictly increase and never repeat, many within one millisecond', () => {
    const ids = Array.from({ length: 100_000 }, newEventId);
    assertIncreasing(ids);
    assert.equal(new Set(ids).size, ids.length);
  });

  it('keep increasing within a frozen millisecond, across random refills', () => {
    const generator = new EventIdGenerator(() => 1_700_000_000_000);
    const ids = Array.from({ length: 10_000 }, () => generator.next());
    assertIncreasing(ids);
    assert.ok(ids.every((id) => millisOf(id) === 1_700_000_000_000));
  });

  it('keep increasing when the clock steps back', () => {
    let now = 1_700_000_000_500;
    const generator = new EventIdGenerator(() => now);
    const first = generator.next();
    now -= 400;
    const second = generator.next();
    now += 1_000;
    const third = generator.next();
    assertIncreasing([first, second, third]);
    assert.equal(millisOf(second), 1_700_000_000_500, 'the timestamp is carried forward');
    assert.equal(millisOf(third), 1_700_000_001_100);
  });

  it('differ in their random tail between generators in the same millisecond', () => {
    const a = new EventIdGenerator(() => 1_700_000_000_000);
    const b = new EventIdGenerator(() => 1_700_000_000_000);
    assert.notEqual(a.next().slice(19), b.next().slice(19));
  });
});
