import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Debouncer } from './debounce';

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('Debouncer', () => {
  it('fires once after a quiet time', async () => {
    let fired = 0;
    const debounce = new Debouncer(() => (fired += 1), 40, 1000);
    debounce.trigger();
    debounce.trigger();
    await pause(10);
    debounce.trigger();
    assert.equal(fired, 0);
    await pause(100);
    assert.equal(fired, 1);
  });

  it('fires by the maximum wait while triggers never stop, then starts a new burst', async () => {
    const firedAt: number[] = [];
    const start = Date.now();
    const debounce = new Debouncer(() => firedAt.push(Date.now() - start), 60, 200);
    const beat = setInterval(() => debounce.trigger(), 20);
    debounce.trigger();
    await pause(500);
    clearInterval(beat);
    debounce.cancel();
    assert.ok(firedAt.length >= 2, `fired at ${firedAt.join(', ')} ms`);
    assert.ok(firedAt[0] >= 190 && firedAt[0] < 320, `first fired at ${firedAt[0]} ms`);
  });

  it('fires nothing once cancelled', async () => {
    let fired = 0;
    const debounce = new Debouncer(() => (fired += 1), 20, 100);
    debounce.trigger();
    debounce.cancel();
    await pause(80);
    assert.equal(fired, 0);
  });
});
