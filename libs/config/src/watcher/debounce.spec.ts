import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import { afterEach, beforeEach, describe, it, mock } from 'node:test';
import { Debouncer } from './debounce';

// On fake timers, with performance.now() (the Debouncer's clock) read from the fake Date:
// what fires when is counted in milliseconds the test advances, never in a busy machine's.
describe('Debouncer', () => {
  beforeEach(() => {
    mock.timers.enable({ apis: ['setTimeout', 'setInterval', 'Date'], now: 0 });
    mock.method(performance, 'now', () => Date.now());
  });
  afterEach(() => {
    mock.timers.reset();
    mock.restoreAll();
  });

  /** Advances the fake clock `ms`, one millisecond at a time, so every timer runs on its ms. */
  const advance = (ms: number) => {
    for (let i = 0; i < ms; i++) mock.timers.tick(1);
  };

  it('fires once after a quiet time', () => {
    const firedAt: number[] = [];
    const debounce = new Debouncer(() => firedAt.push(Date.now()), 40, 1000);
    debounce.trigger();
    debounce.trigger();
    advance(10);
    debounce.trigger();
    advance(39);
    assert.deepEqual(firedAt, [], 'not before 40 ms after the last trigger');
    advance(1);
    assert.deepEqual(firedAt, [50]);
    advance(1000);
    assert.deepEqual(firedAt, [50], 'once');
  });

  it('fires by the maximum wait while triggers never stop, then starts a new burst', () => {
    const firedAt: number[] = [];
    const debounce = new Debouncer(() => firedAt.push(Date.now()), 60, 200);
    const beat = setInterval(() => debounce.trigger(), 20);
    debounce.trigger();
    advance(500);
    clearInterval(beat);
    debounce.cancel();
    // The first burst starts at 0 and fires by its maximum wait; the next starts with the
    // next trigger (the one due at 200 ms, or at 220 if it ran before the fire on the same
    // millisecond: the fake timers' order) and fires 200 ms after it.
    assert.equal(firedAt[0], 200, `fired at ${firedAt.join(', ')} ms`);
    assert.equal(firedAt.length, 2, `fired at ${firedAt.join(', ')} ms`);
    assert.ok(firedAt[1] === 400 || firedAt[1] === 420, `fired at ${firedAt.join(', ')} ms`);
  });

  it('fires nothing once cancelled', () => {
    let fired = 0;
    const debounce = new Debouncer(() => (fired += 1), 20, 100);
    debounce.trigger();
    debounce.cancel();
    advance(200);
    assert.equal(fired, 0);
  });
});
