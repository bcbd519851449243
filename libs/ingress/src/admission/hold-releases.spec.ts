import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { bindLimit, userLimits, type BudgetStore } from '@aigw/budget-core';
import { admissionOn, ask, refusalOf, START } from './admission-fixture';
import { HoldReleases, type HoldReleaseOutcome } from './hold-releases';

/** A store whose release fails `failures` times, then works; it counts the tries. */
function flakyStore(failures: number) {
  const tries: string[] = [];
  const released: string[] = [];
  const store: Pick<BudgetStore, 'release'> = {
    release: async (id) => {
      tries.push(id);
      if (tries.length <= failures) throw new Error('Connection is closed.');
      released.push(id);
    },
  };
  return { store, tries, released };
}

/** The outcomes told, and a promise of the next one. */
function outcomes() {
  const told: HoldReleaseOutcome[] = [];
  let wake: (() => void) | undefined;
  return {
    told,
    onOutcome: (outcome: HoldReleaseOutcome) => {
      told.push(outcome);
      wake?.();
    },
    next: () => new Promise<void>((resolve) => (wake = resolve)),
  };
}

describe('HoldReleases', () => {
  it('releases at once when the store answers', async () => {
    const { store, tries } = flakyStore(0);
    const seen = outcomes();
    const releases = new HoldReleases(store, { holdMs: 60_000, onOutcome: seen.onOutcome });
    await releases.release('h-1');
    assert.deepEqual(tries, ['h-1']);
    assert.deepEqual(seen.told, ['released']);
    assert.equal(releases.pending, 0);
  });

  it('retries a failed release with growing waits until the store recovers, off the caller', async () => {
    const { store, tries, released } = flakyStore(2);
    const seen = outcomes();
    const releases = new HoldReleases(store, {
      holdMs: 60_000,
      firstDelayMs: 5,
      backoff: 4,
      onOutcome: seen.onOutcome,
    });
    // Timers count from libuv's loop clock, read as each turn of the loop begins: start on a
    // fresh turn (a timer's callback), so the first wait is not counted from a stale reading.
    await new Promise((resolve) => setTimeout(resolve, 1));
    const started = Date.now();
    const done = seen.next();
    await releases.release('h-2'); // the first try failed: the caller is not told, nor kept
    assert.deepEqual(tries, ['h-2']);
    assert.equal(releases.pending, 1, 'a retry waits');
    await done;
    assert.deepEqual(tries, ['h-2', 'h-2', 'h-2'], 'failed twice, released the third time');
    assert.deepEqual(released, ['h-2']);
    assert.deepEqual(seen.told, ['released_on_retry']);
    // That clock keeps whole milliseconds, so each wait can end up to 1 ms early on Date.now()'s.
    const waited = Date.now() - started;
    assert.ok(waited >= 5 + 20 - 2, `waited 5 ms, then 20 ms (${waited} ms in all)`);
    assert.equal(releases.pending, 0);
  });

  it('stops after its retries and leaves the hold to lapse', async () => {
    const { store, tries } = flakyStore(Infinity);
    const seen = outcomes();
    const releases = new HoldReleases(store, {
      holdMs: 60_000,
      retries: 2,
      firstDelayMs: 1,
      onOutcome: seen.onOutcome,
    });
    const done = seen.next();
    await releases.release('h-3');
    await done;
    assert.equal(tries.length, 3, 'the first try and 2 retries');
    assert.deepEqual(seen.told, ['left_to_lapse']);
    assert.equal(releases.pending, 0);
  });

  it('makes no retry the hold would outlast anyway, nor more than it may keep waiting', async () => {
    const lapsing = flakyStore(Infinity);
    const seen = outcomes();
    // The hold lapses in 100 ms; the first retry would wait 250 ms.
    await new HoldReleases(lapsing.store, { holdMs: 100, onOutcome: seen.onOutcome }).release(
      'h-4',
    );
    assert.equal(lapsing.tries.length, 1);
    assert.deepEqual(seen.told, ['left_to_lapse']);

    const crowded = flakyStore(Infinity);
    const releases = new HoldReleases(crowded.store, {
      holdMs: 600_000,
      firstDelayMs: 60_000,
      maxWaiting: 1,
      onOutcome: seen.onOutcome,
    });
    await releases.release('h-5');
    await releases.release('h-6');
    assert.equal(releases.pending, 1, 'one waits; the other is left to lapse');
    assert.deepEqual(seen.told, ['left_to_lapse', 'left_to_lapse']);
  });
});

describe('BudgetAdmission giving a hold back while the store fails', () => {
  it('does not fail the caller, and frees the room once the store recovers', async () => {
    const seen = outcomes();
    const { admission, store, route } = admissionOn(
      '  - {name: b, provider: openai, model: chat}',
      '  tokenBudget: {perMinute: {limit: 100}}',
      { now: START },
      { onHoldReleased: seen.onOutcome, releaseRetries: { firstDelayMs: 2 } },
    );
    const admitted = await admission.admit(ask('dana', 60));
    // The hold fills the minute: a second call is refused while it stands.
    await refusalOf(admission.admit(ask('dana', 60)));
    const release = store.release.bind(store);
    let down = 1;
    (store as BudgetStore).release = async (id) => {
      if (down-- > 0) throw new Error('Command timed out');
      return release(id);
    };
    const recovered = seen.next();
    await admission.release(admitted); // resolves: the answer never waits on the retry
    await recovered;
    assert.deepEqual(seen.told, ['released_on_retry']);
    const [limit] = userLimits({ route, userKey: 'dana' }).map((l) => bindLimit(l, START));
    const [balance] = await store.balances([limit], START);
    assert.equal(balance.reserved, 0, 'the hold is given back, not kept until it lapses');
    assert.ok((await admission.admit(ask('dana', 60))).reservationId);
  });
});
