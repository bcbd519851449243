import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BackendHealth } from './backend-health';

describe('BackendHealth: what an operator reads, reset and drain', () => {
  it('a fresh backend is available with no failures', () => {
    assert.deepEqual(new BackendHealth().snapshot('a'), {
      state: 'available',
      consecutiveFailures: 0,
    });
  });

  it('a Retry-After cooldown says its trigger, the Retry-After, since and until', () => {
    let now = 1_000;
    const health = new BackendHealth(undefined, () => now);
    health.recordFailure('a', 60_000, 'rateLimit');
    assert.deepEqual(health.snapshot('a'), {
      state: 'cooling',
      cooling: {
        since: 1_000,
        until: 61_000,
        reason: 'retry_after',
        trigger: 'rateLimit',
        retryAfterMs: 60_000,
      },
      consecutiveFailures: 1,
      lastFailure: { at: 1_000, trigger: 'rateLimit' },
    });
    // Past its end it is available again, its last failure still told.
    now = 61_001;
    const after = health.snapshot('a');
    assert.equal(after.state, 'available');
    assert.equal(after.cooling, undefined);
    assert.deepEqual(after.lastFailure, { at: 1_000, trigger: 'rateLimit' });
  });

  it('failures in a row cool with the trigger of the one that tipped it; later ones keep the cause', () => {
    let now = 0;
    const health = new BackendHealth(
      { failureThreshold: 2, cooldownMs: 10_000, maxRetryAfterMs: 1 },
      () => now,
    );
    health.recordFailure('a', undefined, 'error');
    now = 5;
    health.recordFailure('a', undefined, 'timeout');
    now = 7;
    health.recordFailure('a', undefined, 'error');
    const snapshot = health.snapshot('a');
    assert.deepEqual(snapshot.cooling, {
      since: 5,
      until: 10_007,
      reason: 'failures',
      trigger: 'timeout',
    });
    assert.equal(snapshot.consecutiveFailures, 3);
    assert.deepEqual(snapshot.lastFailure, { at: 7, trigger: 'error' });
  });

  it('reset ends a cooldown and the failures in a row at once', () => {
    const health = new BackendHealth();
    health.recordFailure('a', 60_000, 'rateLimit');
    assert.equal(health.isCooling('a'), true);
    health.reset('a');
    assert.equal(health.isCooling('a'), false);
    assert.equal(health.isOutOfRotation('a'), false);
    const snapshot = health.snapshot('a');
    assert.equal(snapshot.state, 'available');
    assert.equal(snapshot.consecutiveFailures, 0);
    // A new failure starts counting from one, not from before the reset.
    assert.equal(health.recordFailure('a', undefined, 'error'), undefined);
  });

  it('drain takes a backend out of rotation until reset; a success does not end it', () => {
    const health = new BackendHealth(undefined, () => 42);
    health.drain('a', { operator: 'ops', reason: 'key rotation' });
    assert.equal(health.isOutOfRotation('a'), true);
    assert.equal(health.isCooling('a'), false, 'the cooling gauge stays about cooldowns');
    health.recordSuccess('a');
    assert.deepEqual(health.snapshot('a'), {
      state: 'drained',
      drained: { operator: 'ops', reason: 'key rotation', since: 42 },
      consecutiveFailures: 0,
    });
    assert.equal(health.isOutOfRotation('b'), false);
    assert.deepEqual(health.drainedBackends(), ['a']);
    health.reset('a');
    assert.deepEqual(health.drainedBackends(), []);
    assert.equal(health.isOutOfRotation('a'), false);
    assert.equal(health.snapshot('a').state, 'available');
  });

  it('broken streams in a row cool a backend as failures do; a finished stream or a reset forgets them', () => {
    const health = new BackendHealth();
    assert.equal(health.recordBrokenStream('a'), undefined);
    assert.equal(health.recordBrokenStream('a'), undefined);
    health.recordFinishedStream('a');
    assert.equal(health.recordBrokenStream('a'), undefined);
    health.reset('a');
    health.recordBrokenStream('a');
    health.recordBrokenStream('a');
    // The first event of each was a success: it does not break the row.
    health.recordSuccess('a');
    assert.deepEqual(health.recordBrokenStream('a'), { reason: 'failures', ms: 30_000 });
    assert.equal(health.snapshot('a').state, 'cooling');
    assert.equal(health.snapshot('a').cooling?.trigger, 'error');
  });
});
