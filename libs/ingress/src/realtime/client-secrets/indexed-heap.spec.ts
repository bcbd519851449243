import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { IndexedHeap } from './indexed-heap';

interface Item {
  readonly name: string;
  priority: number;
}

/** Pops every item, smallest priority first. */
function drain(heap: IndexedHeap<Item>): string[] {
  const order: string[] = [];
  for (let top = heap.peek(); top; top = heap.peek()) {
    order.push(top.name);
    heap.remove(top);
  }
  return order;
}

describe('IndexedHeap', () => {
  it('keeps the first by its order on top through adds, removals from within, and changes', () => {
    const heap = new IndexedHeap<Item>((a, b) => a.priority < b.priority);
    const items = [5, 3, 8, 1, 9, 2, 7].map((priority) => ({ name: `p${priority}`, priority }));
    for (const item of items) heap.upsert(item);
    assert.equal(heap.size, 7);
    assert.equal(heap.peek()?.name, 'p1');
    heap.remove(items[1]); // p3, from within
    assert.equal(heap.has(items[1]), false);
    items[4].priority = 0; // p9 moves to the top
    heap.upsert(items[4]);
    items[3].priority = 10; // p1 moves to the bottom
    heap.upsert(items[3]);
    heap.remove({ name: 'stranger', priority: -1 });
    assert.deepEqual(drain(heap), ['p9', 'p2', 'p5', 'p7', 'p8', 'p1']);
    assert.equal(heap.size, 0);
  });

  it('orders many items as a sort would', () => {
    const heap = new IndexedHeap<Item>((a, b) => a.priority < b.priority);
    const items = Array.from({ length: 500 }, (_, i) => ({
      name: String(i),
      priority: (i * 7919) % 503,
    }));
    for (const item of items) heap.upsert(item);
    for (const item of items.filter((_, i) => i % 3 === 0)) heap.remove(item);
    const expected = items
      .filter((_, i) => i % 3 !== 0)
      .sort((a, b) => a.priority - b.priority)
      .map((item) => item.name);
    assert.deepEqual(drain(heap), expected);
  });
});
