import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MAX_BODY_DEPTH, nestsDeeperThan } from './json-depth';

const nested = (levels: number): unknown => JSON.parse('['.repeat(levels) + ']'.repeat(levels));

test('a body nested up to the limit passes and one level more does not', () => {
  assert.equal(nestsDeeperThan(nested(MAX_BODY_DEPTH), MAX_BODY_DEPTH), false);
  assert.equal(nestsDeeperThan(nested(MAX_BODY_DEPTH + 1), MAX_BODY_DEPTH), true);
  assert.equal(nestsDeeperThan({ a: [{ b: { c: 1 } }] }, 4), false);
  assert.equal(nestsDeeperThan({ a: [{ b: { c: {} } }] }, 4), true);
});

test('scalars and flat bodies pass; depth far past the stack is found, recursing no deeper than the limit', () => {
  for (const value of [null, 1, 'x', true, {}, [], { model: 'm', messages: [] }]) {
    assert.equal(nestsDeeperThan(value, 2), false);
  }
  assert.equal(nestsDeeperThan(nested(200_000), MAX_BODY_DEPTH), true);
});

test('a wide body is walked whole: the deep branch is found after many shallow ones', () => {
  const wide = { messages: Array.from({ length: 10_000 }, () => ({ role: 'user', content: 'x' })) };
  assert.equal(nestsDeeperThan(wide, 3), false);
  (wide.messages[0] as Record<string, unknown>).content = [[['too deep']]];
  assert.equal(nestsDeeperThan(wide, 3), true);
});
