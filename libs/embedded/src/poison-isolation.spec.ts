// The strike rules both buses share: a strike only in a round where the store works.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { deadLetterReason, PoisonIsolation } from './poison-isolation';

const failOn =
  (...bad: string[]) =>
  async (item: string): Promise<void> => {
    if (bad.includes(item)) throw new Error(`cannot handle ${item}`);
  };
const storeDown = async (): Promise<void> => {
  throw new Error('connect ECONNREFUSED');
};

describe('PoisonIsolation', () => {
  it('counts a strike only while other events are handled, and calls the event poison at maxAttempts', async () => {
    const isolation = new PoisonIsolation<string>((s) => s, 2);
    const first = await isolation.round(['a', 'p', 'c'], failOn('p'));
    assert.deepEqual(first.handled, ['a', 'c']);
    assert.deepEqual(first.failing, ['p']);
    assert.equal(first.proven, true);
    const second = await isolation.round(['p'], failOn('p'), 'c');
    assert.deepEqual(second.failing, []);
    assert.deepEqual(
      second.poison.map((p) => [p.item, p.attempts]),
      [['p', 2]],
    );
  });

  it('counts nothing while every call fails, however many rounds', async () => {
    const isolation = new PoisonIsolation<string>((s) => s, 2);
    for (let round = 0; round < 10; round++) {
      const result = await isolation.round(['a', 'b', 'c', 'd', 'e'], storeDown);
      assert.equal(result.proven, false);
      assert.deepEqual(result.poison, []);
      assert.deepEqual(result.failing, ['a', 'b', 'c', 'd', 'e'], 'kept, in batch order');
    }
    assert.equal(isolation.striking, 0);
  });

  it('stops a round at once when the known-good event fails again (the store went down)', async () => {
    const isolation = new PoisonIsolation<string>((s) => s, 1);
    const calls: string[] = [];
    const result = await isolation.round(
      ['p'],
      async (item) => {
        calls.push(item);
        throw new Error('down');
      },
      'a',
    );
    assert.deepEqual(calls, ['a']);
    assert.deepEqual(result.poison, []);
    assert.deepEqual(result.failing, ['p']);
  });

  it('never dead-letters a lone event with nothing to prove the store works', async () => {
    const isolation = new PoisonIsolation<string>((s) => s, 1);
    for (let round = 0; round < 5; round++) {
      const result = await isolation.round(['p'], failOn('p'));
      assert.deepEqual(result.poison, []);
      assert.deepEqual(result.failing, ['p']);
    }
  });

  it('strikes a lone event when the subscription handled others (another partition) since it last failed', async () => {
    const isolation = new PoisonIsolation<string>((s) => s, 2);
    const first = await isolation.round(['p'], failOn('p'));
    assert.equal(first.proven, false, 'its first failure proves nothing');
    assert.deepEqual(first.failing, ['p']);
    isolation.forget(['x']); // another partition's batch handled meanwhile
    const second = await isolation.round(['p'], failOn('p'));
    assert.equal(second.proven, true);
    assert.deepEqual(second.failing, ['p']);
    assert.equal(isolation.striking, 1);
    // Nothing handled since: no strike, however often it fails again.
    for (let round = 0; round < 5; round++) {
      const alone = await isolation.round(['p'], failOn('p'));
      assert.equal(alone.proven, false);
      assert.deepEqual(alone.poison, []);
    }
    isolation.forget(['y']);
    const last = await isolation.round(['p'], failOn('p'));
    assert.deepEqual(
      last.poison.map((p) => [p.item, p.attempts]),
      [['p', 2]],
    );
  });

  it('strikes nothing for successes of another scope (one table refusing writes, others taking theirs)', async () => {
    // Items are "scope:id"; the scope stands for the topic, and so the table.
    const isolation = new PoisonIsolation<string>(
      (s) => s,
      2,
      (s) => s.split(':')[0],
    );
    await isolation.round(['usage:p'], failOn('usage:p'));
    for (let round = 0; round < 5; round++) {
      isolation.forget(['completed:x']); // another topic's partition handled meanwhile
      const result = await isolation.round(['usage:p'], failOn('usage:p'));
      assert.equal(result.proven, false);
      assert.deepEqual(result.poison, []);
    }
    isolation.forget(['usage:y']); // the same topic's other partition handled
    const struck = await isolation.round(['usage:p'], failOn('usage:p'));
    assert.equal(struck.proven, true);
    assert.equal(isolation.striking, 1);
  });

  it('strikes nothing when the store went down after the others were handled', async () => {
    const isolation = new PoisonIsolation<string>((s) => s, 2);
    isolation.forget(['x']); // handled before the outage
    for (let round = 0; round < 5; round++) {
      const result = await isolation.round(['a'], storeDown);
      assert.equal(result.proven, false);
      assert.deepEqual(result.poison, []);
    }
    assert.equal(isolation.striking, 0);
  });

  it('finds the healthy events behind a run of poison ones, a few tries a round', async () => {
    const isolation = new PoisonIsolation<string>((s) => s, 1);
    const batch = ['p1', 'p2', 'p3', 'p4', 'ok'];
    const first = await isolation.round(batch, failOn('p1', 'p2', 'p3', 'p4'));
    assert.equal(first.proven, false, 'three failures and no success: tried no further');
    assert.deepEqual(first.failing, batch);
    const second = await isolation.round(batch, failOn('p1', 'p2', 'p3', 'p4'));
    assert.equal(second.proven, true);
    assert.deepEqual(second.handled, ['ok']);
    assert.deepEqual(second.poison.map((p) => p.item).sort(), ['p1', 'p2', 'p3', 'p4']);
  });

  it('refuses attempts below one', () => {
    assert.throws(() => new PoisonIsolation<string>((s) => s, 0), /at least 1/);
  });

  it('masks secrets in the reason and bounds it', () => {
    const reason = deadLetterReason(new Error(`bad key sk-abcdefghijklmnop ${'x'.repeat(3_000)}`));
    assert.doesNotMatch(reason, /sk-abcdefghijklmnop/);
    assert.match(reason, /^Error: bad key /);
    assert.equal(reason.length, 2_000);
  });
});
