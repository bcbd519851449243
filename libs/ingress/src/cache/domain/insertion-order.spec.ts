import { it } from 'node:test';
import assert from 'node:assert/strict';
import { InsertionOrder } from './insertion-order';

it('gives the oldest item left, whichever items were removed, each at most once', () => {
  const order = new InsertionOrder<string>();
  const [a, b, c] = ['a', 'b', 'c'].map((item) => order.add(item));
  order.remove(b);
  assert.equal(order.oldest, 'a');
  order.remove(a);
  assert.equal(order.oldest, 'c');
  order.remove(a); // already gone: nothing changes
  assert.equal(order.oldest, 'c');
  const d = order.add('d');
  order.remove(c);
  assert.equal(order.oldest, 'd');
  order.remove(d);
  assert.equal(order.oldest, undefined);
  order.add('e');
  assert.equal(order.oldest, 'e', 'usable again once emptied');
});
