import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { mapBounded } from './bounded-map';

describe('mapBounded', () => {
  it('keeps the order of the items, not of completion, with at most `limit` running', async () => {
    let running = 0;
    let most = 0;
    const items = Array.from({ length: 20 }, (_, index) => index);
    const results = await mapBounded(items, 3, async (item) => {
      running += 1;
      most = Math.max(most, running);
      // Later items finish first, so completion order is the reverse of the items'.
      await sleep(20 - item);
      running -= 1;
      return item * 10;
    });
    assert.deepEqual(
      results,
      items.map((item) => item * 10),
    );
    assert.equal(most, 3);
  });

  it('starts nothing more after a failure and rejects with it', async () => {
    const started: number[] = [];
    await assert.rejects(
      mapBounded([0, 1, 2, 3, 4, 5], 2, async (item) => {
        started.push(item);
        await sleep(5);
        if (item === 1) throw new Error('item 1 failed');
        return item;
      }),
      /item 1 failed/,
    );
    // 0 and 1 ran together; 0's worker took 2 before 1 failed, and nothing after.
    assert.deepEqual(started, [0, 1, 2]);
  });

  it('answers an empty list without calling anything', async () => {
    assert.deepEqual(await mapBounded([], 8, () => Promise.reject(new Error('called'))), []);
  });
});
