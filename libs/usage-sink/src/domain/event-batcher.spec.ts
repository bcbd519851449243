import assert from 'node:assert/strict';
import { test } from 'node:test';
import { EventBatcher } from './event-batcher';

test('deliveries within the wait are written together, once', async () => {
  const writes: number[][] = [];
  const batcher = new EventBatcher<number>(async (items) => void writes.push([...items]), {
    maxItems: 100,
    maxWaitMs: 20,
  });
  await Promise.all([batcher.add([1, 2]), batcher.add([3])]);
  assert.deepEqual(writes, [[1, 2, 3]]);
});

test('a full batch is written at once, without waiting', async () => {
  const writes: number[][] = [];
  const batcher = new EventBatcher<number>(async (items) => void writes.push([...items]), {
    maxItems: 2,
    maxWaitMs: 60_000,
  });
  await batcher.add([1, 2]);
  assert.deepEqual(writes, [[1, 2]]);
});

test('a failed write rejects every delivery in it; the next batch is written', async () => {
  let fail = true;
  const written: number[] = [];
  const batcher = new EventBatcher<number>(
    async (items) => {
      if (fail) throw new Error('store down');
      written.push(...items);
    },
    { maxItems: 10, maxWaitMs: 5 },
  );
  const first = [batcher.add([1]), batcher.add([2])];
  await Promise.all(first.map((p) => assert.rejects(p, /store down/)));
  fail = false;
  await batcher.add([1, 2]);
  assert.deepEqual(written, [1, 2]);
});

test('writes never overlap', async () => {
  let active = 0;
  let most = 0;
  const batcher = new EventBatcher<number>(
    async () => {
      most = Math.max(most, ++active);
      await new Promise((resolve) => setTimeout(resolve, 5));
      active--;
    },
    { maxItems: 1, maxWaitMs: 0 },
  );
  await Promise.all([1, 2, 3, 4].map((n) => batcher.add([n])));
  assert.equal(most, 1);
});

test('a write that fails for one delivery in it stores the others and rejects only that one', async () => {
  const writes: number[][] = [];
  const batcher = new EventBatcher<number>(
    async (items) => {
      writes.push([...items]);
      if (items.includes(13)) throw new Error('Cannot parse input: 13');
    },
    { maxItems: 100, maxWaitMs: 20 },
  );
  const [good, poisoned, alsoGood] = [batcher.add([1, 2]), batcher.add([13]), batcher.add([3])];
  await good;
  await alsoGood;
  await assert.rejects(poisoned, /Cannot parse input: 13/);
  // The shared write, then each delivery alone, in order.
  assert.deepEqual(writes, [[1, 2, 13, 3], [1, 2], [13], [3]]);
});

test('when the store is down, a failed shared write tries only a few deliveries alone', async () => {
  let writes = 0;
  const batcher = new EventBatcher<number>(
    async () => {
      writes++;
      throw new Error('connect ECONNREFUSED');
    },
    { maxItems: 100, maxWaitMs: 20 },
  );
  const deliveries = Array.from({ length: 10 }, (_, n) => batcher.add([n]));
  await Promise.all(deliveries.map((d) => assert.rejects(d, /ECONNREFUSED/)));
  // The shared write and three alone: past three failures with none stored, the rest fail.
  assert.equal(writes, 4);
});
