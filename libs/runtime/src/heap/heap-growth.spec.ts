import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { applyHeapGrowth, DEFAULT_HEAP_GROWING_PERCENT, heapGrowingPercent } from './heap-growth';

describe('AI_GATEWAY_HEAP_GROWING_PERCENT', () => {
  it('caps the old generation at 30% growth unless set', () => {
    assert.equal(DEFAULT_HEAP_GROWING_PERCENT, 30);
    assert.equal(heapGrowingPercent({}), 30);
    assert.equal(heapGrowingPercent({ AI_GATEWAY_HEAP_GROWING_PERCENT: ' ' }), 30);
    assert.equal(heapGrowingPercent({ AI_GATEWAY_HEAP_GROWING_PERCENT: '75' }), 75);
    assert.equal(heapGrowingPercent({ AI_GATEWAY_HEAP_GROWING_PERCENT: '300' }), 300);
    assert.equal(heapGrowingPercent({ AI_GATEWAY_HEAP_GROWING_PERCENT: '0' }), 0);
  });

  it('is undefined for anything but a whole number from 0 to 300', () => {
    for (const value of ['-1', '2.5', 'lots', '301', '1e9', '0x1e', '1e2', '+30', '1000']) {
      assert.equal(heapGrowingPercent({ AI_GATEWAY_HEAP_GROWING_PERCENT: value }), undefined);
    }
  });

  it('hands V8 the flag, and nothing for 0 (V8 keeps its own) or a bad value', () => {
    const given: string[] = [];
    const setFlags = (flags: string): void => void given.push(flags);
    assert.equal(applyHeapGrowth({}, setFlags), 30);
    assert.equal(applyHeapGrowth({ AI_GATEWAY_HEAP_GROWING_PERCENT: '50' }, setFlags), 50);
    assert.equal(applyHeapGrowth({ AI_GATEWAY_HEAP_GROWING_PERCENT: '0' }, setFlags), 0);
    assert.equal(applyHeapGrowth({ AI_GATEWAY_HEAP_GROWING_PERCENT: 'x' }, setFlags), undefined);
    assert.deepEqual(given, ['--heap-growing-percent=30', '--heap-growing-percent=50']);
  });
});
