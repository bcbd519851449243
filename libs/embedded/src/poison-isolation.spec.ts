// The strike rules both buses share: a strike only in a round where the store works.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  deadLetterLogMessage,
  deadLetterReason,
  PoisonIsolation,
  type QuietTopicRule,
} from './poison-isolation';

const failOn =
  (...bad: string[]) =>
  async (item: string): Promise<void> => {
    if (bad.includes(item)) throw new Error(`cannot handle ${item}`);
  };
const storeDown = async (): Promise<void> => {
  throw new Error('connect ECONNREFUSED');
};

/** Items are "topic:id": an isolation whose scope is the item's topic. */
function topicScoped(maxAttempts: number, quiet?: QuietTopicRule): PoisonIsolation<string> {
  return new PoisonIsolation<string>(
    (s) => s,
    maxAttempts,
    (s) => s.split(':')[0],
    quiet,
  );
}

describe('PoisonIsolation', () => {
  it('counts a strike only while other events are handled, and calls the event poison at maxAttempts', async () => {
    const isolation = new PoisonIsolation<string>((s) => s, 2);
    const first = await isolation.round(['a', 'p', 'c'], failOn('p'));
    assert.deepEqual(first.handled, ['a', 'c']);
    assert.deepEqual(first.failing, ['p']);
    assert.equal(first.proven, true);
    const second = await isolation.round(['p'], failOn('p'), 'c');
    assert.deepEqual(second.failing, []);
    assert.deepEqual(
      second.poison.map((p) => [p.item, p.attempts]),
      [['p', 2]],
    );
  });

  it('counts nothing while every call fails, however many rounds', async () => {
    const isolation = new PoisonIsolation<string>((s) => s, 2);
    for (let round = 0; round < 10; round++) {
      const result = await isolation.round(['a', 'b', 'c', 'd', 'e'], storeDown);
      assert.equal(result.proven, false);
      assert.deepEqual(result.poison, []);
      assert.deepEqual(result.failing, ['a', 'b', 'c', 'd', 'e'], 'kept, in batch order');
    }
    assert.equal(isolation.striking, 0);
  });

  it('stops a round at once when the known-good event fails again (the store went down)', async () => {
    const isolation = new PoisonIsolation<string>((s) => s, 1);
    const calls: string[] = [];
    const result = await isolation.round(
      ['p'],
      async (item) => {
        calls.push(item);
        throw new Error('down');
      },
      'a',
    );
    assert.deepEqual(calls, ['a']);
    assert.deepEqual(result.poison, []);
    assert.deepEqual(result.failing, ['p']);
  });

  it('never dead-letters a lone event with nothing to prove the store works', async () => {
    const isolation = new PoisonIsolation<string>((s) => s, 1);
    for (let round = 0; round < 5; round++) {
      const result = await isolation.round(['p'], failOn('p'));
      assert.deepEqual(result.poison, []);
      assert.deepEqual(result.failing, ['p']);
    }
  });

  it('strikes a lone event when the subscription handled others (another partition) since it last failed', async () => {
    const isolation = new PoisonIsolation<string>((s) => s, 2);
    const first = await isolation.round(['p'], failOn('p'));
    assert.equal(first.proven, false, 'its first failure proves nothing');
    assert.deepEqual(first.failing, ['p']);
    isolation.forget(['x']); // another partition's batch handled meanwhile
    const second = await isolation.round(['p'], failOn('p'));
    assert.equal(second.proven, true);
    assert.deepEqual(second.failing, ['p']);
    assert.equal(isolation.striking, 1);
    // Nothing handled since: no strike, however often it fails again.
    for (let round = 0; round < 5; round++) {
      const alone = await isolation.round(['p'], failOn('p'));
      assert.equal(alone.proven, false);
      assert.deepEqual(alone.poison, []);
    }
    isolation.forget(['y']);
    const last = await isolation.round(['p'], failOn('p'));
    assert.deepEqual(
      last.poison.map((p) => [p.item, p.attempts]),
      [['p', 2]],
    );
  });

  it('strikes nothing for successes of another scope (one table refusing writes, others taking theirs)', async () => {
    // The scope stands for the topic, and so the table.
    const isolation = topicScoped(2);
    await isolation.round(['usage:p'], failOn('usage:p'));
    for (let round = 0; round < 5; round++) {
      isolation.forget(['completed:x']); // another topic's partition handled meanwhile
      const result = await isolation.round(['usage:p'], failOn('usage:p'));
      assert.equal(result.proven, false);
      assert.deepEqual(result.poison, []);
    }
    isolation.forget(['usage:y']); // the same topic's other partition handled
    const struck = await isolation.round(['usage:p'], failOn('usage:p'));
    assert.equal(struck.proven, true);
    assert.equal(isolation.striking, 1);
  });

  it('strikes nothing when the store went down after the others were handled', async () => {
    const isolation = new PoisonIsolation<string>((s) => s, 2);
    isolation.forget(['x']); // handled before the outage
    for (let round = 0; round < 5; round++) {
      const result = await isolation.round(['a'], storeDown);
      assert.equal(result.proven, false);
      assert.deepEqual(result.poison, []);
    }
    assert.equal(isolation.striking, 0);
  });

  it('finds the healthy events behind a run of poison ones, a few tries a round', async () => {
    const isolation = new PoisonIsolation<string>((s) => s, 1);
    const batch = ['p1', 'p2', 'p3', 'p4', 'ok'];
    const first = await isolation.round(batch, failOn('p1', 'p2', 'p3', 'p4'));
    assert.equal(first.proven, false, 'three failures and no success: tried no further');
    assert.deepEqual(first.failing, batch);
    const second = await isolation.round(batch, failOn('p1', 'p2', 'p3', 'p4'));
    assert.equal(second.proven, true);
    assert.deepEqual(second.handled, ['ok']);
    assert.deepEqual(second.poison.map((p) => p.item).sort(), ['p1', 'p2', 'p3', 'p4']);
  });

  it('strikes nothing when two or more events of one partition fail with nothing handled, though other partitions move (the partition fails, not an event)', async () => {
    const isolation = new PoisonIsolation<string>((s) => s, 2);
    for (let round = 0; round < 6; round++) {
      isolation.forget([`other-${round}`]); // another partition handled between its tries
      const result = await isolation.round(['a', 'b'], storeDown);
      assert.deepEqual(result.poison, []);
      assert.deepEqual(result.failing, ['a', 'b']);
    }
    assert.equal(isolation.striking, 0);
  });

  it('strikes nothing for a success of another scope in the same round (the embedded log hands every topic over at once)', async () => {
    const isolation = topicScoped(2);
    for (let round = 0; round < 6; round++) {
      const result = await isolation.round(['usage:p', 'completed:x'], failOn('usage:p'));
      assert.deepEqual(result.handled, ['completed:x']);
      assert.deepEqual(result.poison, [], `round ${round}`);
      assert.deepEqual(result.failing, ['usage:p']);
    }
    assert.equal(isolation.striking, 0);
    // A success of its own scope in the round is proof, as before.
    const struck = await isolation.round(['usage:p', 'usage:y', 'completed:x'], failOn('usage:p'));
    assert.deepEqual(struck.failing, ['usage:p']);
    assert.equal(isolation.striking, 1);
  });

  it('strikes nothing when a known-good event of another scope is handled again first', async () => {
    const isolation = topicScoped(1);
    const result = await isolation.round(['usage:p'], failOn('usage:p'), 'completed:x');
    assert.deepEqual(result.poison, []);
    assert.deepEqual(result.failing, ['usage:p']);
    const own = await isolation.round(['usage:p'], failOn('usage:p'), 'usage:x');
    assert.deepEqual(
      own.poison.map((p) => [p.item, p.rule]),
      [['usage:p', 'strikes']],
    );
  });

  it('takes back the strikes of a lone event once an event behind it fails too with nothing handled', async () => {
    const isolation = new PoisonIsolation<string>((s) => s, 3);
    await isolation.round(['a'], storeDown);
    isolation.forget(['x']);
    await isolation.round(['a'], storeDown);
    assert.equal(isolation.striking, 1, 'alone, with another partition handled: a strike');
    isolation.forget(['y']);
    await isolation.round(['a', 'b'], storeDown);
    assert.equal(isolation.striking, 0, 'its partition fails as a whole');
  });

  it('starts the strikes over when the error changes in kind (name and code)', async () => {
    const isolation = new PoisonIsolation<string>((s) => s, 2);
    const kinds = [new TypeError('bad row'), Object.assign(new Error('x'), { code: 'ECONNRESET' })];
    await isolation.round(['p'], async () => {
      throw kinds[0];
    });
    for (let round = 1; round <= 6; round++) {
      isolation.forget([`other-${round}`]);
      const result = await isolation.round(['p'], async () => {
        throw kinds[round % 2];
      });
      assert.deepEqual(result.poison, [], `round ${round}`);
    }
    isolation.forget(['other-last']);
    const same = await isolation.round(['p'], async () => {
      throw kinds[0];
    });
    assert.deepEqual(
      same.poison.map((p) => [p.item, p.attempts, p.rule]),
      [['p', 2, 'strikes']],
      'the same kind twice running',
    );
  });

  it('refuses attempts below one', () => {
    assert.throws(() => new PoisonIsolation<string>((s) => s, 0), /at least 1/);
  });

  it('masks secrets in the reason and bounds it', () => {
    const reason = deadLetterReason(new Error(`bad key sk-abcdefghijklmnop ${'x'.repeat(3_000)}`));
    assert.doesNotMatch(reason, /sk-abcdefghijklmnop/);
    assert.match(reason, /^Error: bad key /);
    assert.equal(reason.length, 2_000);
  });
});

/** A clock the test moves by hand. */
function fakeClock(start = 1_000_000) {
  let now = start;
  return { now: () => now, advance: (ms: number) => void (now += ms) };
}

const MINUTE = 60_000;

/**
 * An isolation of 5 strikes whose quiet-topic rule letters after `attempts` failures alone
 * over 10 minutes of `clock`; its topic's last good event, handled before the poison one
 * came, is 'good'.
 */
function quietIsolation(clock: { now: () => number }, attempts: number) {
  const isolation = new PoisonIsolation<string>((s) => s, 5, undefined, {
    attempts,
    afterMs: 10 * MINUTE,
    now: clock.now,
  });
  isolation.forget(['good']);
  return isolation;
}

describe('PoisonIsolation: the quiet-topic rule (a lone event, nothing else of its topic moving)', () => {
  it('letters it after N failures over T once it fails again between two successes of the last event of its topic, handled again', async () => {
    const clock = fakeClock();
    const isolation = quietIsolation(clock, 3);
    const calls: string[] = [];
    const handle = async (item: string) => {
      calls.push(item);
      if (item === 'p') throw new Error('cannot apply');
    };
    for (let round = 0; round < 20; round++) {
      const result = await isolation.round(['p'], handle);
      assert.deepEqual(result.poison, [], `round ${round}: not T yet`);
      clock.advance(29_000);
    }
    assert.ok(!calls.includes('good'), 'no check before N and T');
    clock.advance(MINUTE); // 10m40s since its first failure, 21 failures
    const result = await isolation.round(['p'], handle);
    assert.deepEqual(
      calls.slice(-4),
      ['p', 'good', 'p', 'good'],
      'its last try between two checks (the last good event handled again)',
    );
    assert.deepEqual(
      result.poison.map((p) => [p.item, p.attempts, p.rule]),
      [['p', 22, 'quiet-topic']],
    );
    assert.deepEqual(result.failing, []);
    assert.equal(result.proven, true);
  });

  it('handles it, never letters it, when the store came back between its last failure and the check', async () => {
    const clock = fakeClock();
    const isolation = quietIsolation(clock, 3);
    let storeUp = false;
    const calls: string[] = [];
    const handle = async (item: string) => {
      calls.push(item);
      if (item === 'good') storeUp = true; // it recovers the moment the check runs
      if (!storeUp) throw new Error('read-only');
    };
    for (let round = 0; round < 2; round++) {
      assert.deepEqual((await isolation.round(['p'], handle)).poison, []);
      clock.advance(5 * MINUTE);
    }
    const result = await isolation.round(['p'], handle);
    assert.deepEqual(calls.slice(-3), ['p', 'good', 'p'], 'tried again after the check');
    assert.deepEqual(result.poison, []);
    assert.deepEqual(result.handled, ['p']);
    assert.deepEqual(result.failing, []);
    assert.equal(result.proven, true);
  });

  it('letters nothing when the store goes down between its last try and the second check, and waits T again', async () => {
    const clock = fakeClock();
    const isolation = quietIsolation(clock, 3);
    let goodCalls = 0;
    const handle = async (item: string) => {
      if (item !== 'good') throw new Error('cannot apply');
      goodCalls++;
      if (goodCalls === 2) throw new Error('connection refused'); // down at the second check
    };
    for (let round = 0; round < 2; round++) {
      assert.deepEqual((await isolation.round(['p'], handle)).poison, []);
      clock.advance(5 * MINUTE);
    }
    const judged = await isolation.round(['p'], handle);
    assert.equal(goodCalls, 2, 'both checks ran');
    assert.deepEqual(judged.poison, []);
    assert.deepEqual(judged.failing, ['p']);
    // Its clock started over: N failures over T again before the next judgement.
    clock.advance(5 * MINUTE);
    for (let round = 0; round < 2; round++) {
      assert.deepEqual((await isolation.round(['p'], handle)).poison, [], `round ${round}`);
      clock.advance(5 * MINUTE);
    }
    assert.equal(goodCalls, 2, 'no check before T again');
    const again = await isolation.round(['p'], handle);
    assert.deepEqual(
      again.poison.map((p) => p.rule),
      ['quiet-topic'],
    );
  });

  it('waits T even after N failures, and N failures even after T', async () => {
    const clock = fakeClock();
    const isolation = quietIsolation(clock, 3);
    for (let round = 0; round < 10; round++) {
      assert.deepEqual((await isolation.round(['p'], failOn('p'))).poison, []);
    }
    clock.advance(10 * MINUTE - 1);
    assert.deepEqual((await isolation.round(['p'], failOn('p'))).poison, [], 'a ms short of T');
    const slow = quietIsolation(clock, 3);
    assert.deepEqual((await slow.round(['q'], failOn('q'))).poison, []);
    clock.advance(60 * MINUTE);
    assert.deepEqual((await slow.round(['q'], failOn('q'))).poison, [], 'two failures of three');
    assert.equal((await slow.round(['q'], failOn('q'))).poison.length, 1);
  });

  it('letters nothing while the store is down (the check fails too), however long, and waits T again after it', async () => {
    const clock = fakeClock();
    const isolation = quietIsolation(clock, 3);
    // Down for 95 minutes: its check runs (and fails) at minutes 10, 20, ... 90.
    for (let round = 0; round < 95; round++) {
      const result = await isolation.round(['p'], storeDown);
      assert.deepEqual(result.poison, [], `round ${round}`);
      assert.equal(result.proven, false);
      clock.advance(MINUTE);
    }
    // The store is back at minute 95; the event is poison after all. Its last check failed
    // at minute 90, and its clock started over then: T from there, minute 100.
    let lettered: number | undefined;
    for (let minute = 0; minute <= 12 && lettered === undefined; minute++) {
      if ((await isolation.round(['p'], failOn('p'))).poison.length > 0) lettered = minute;
      clock.advance(MINUTE);
    }
    assert.equal(lettered, 5, 'lettered T after its last failed check, not at once');
  });

  it("after a restart (nothing of its topic handled since), takes no other topic's success as proof: its store down past T while another topic flows letters nothing", async () => {
    const clock = fakeClock();
    const isolation = topicScoped(5, { attempts: 2, afterMs: 10 * MINUTE, now: clock.now });
    const calls: string[] = [];
    // The usage table refuses writes; the other topic's store takes its events.
    const usageDown = async (item: string) => {
      calls.push(item);
      if (item.startsWith('usage:')) throw new Error('too many parts');
    };
    const fromLog = async (item: string) => {
      assert.equal(item, 'usage:held');
      return 'usage:before-restart'; // the last usage event before the committed position
    };
    for (let round = 0; round < 60; round++) {
      isolation.forget([`adjusted:${round}`]); // the consumer's other topic moves
      const result = await isolation.round(['usage:held'], usageDown, undefined, fromLog);
      assert.deepEqual(result.poison, [], `minute ${round}`);
      assert.deepEqual(result.failing, ['usage:held']);
      clock.advance(MINUTE);
    }
    // The check, the event read from the log, runs once per T and fails with the store.
    assert.equal(calls.filter((c) => c === 'usage:before-restart').length, 5);
  });

  it('after a restart, letters a real poison event once the last event of its topic read from the log, handled again, succeeds', async () => {
    const clock = fakeClock();
    const isolation = new PoisonIsolation<string>((s) => s, 5, undefined, {
      attempts: 3,
      afterMs: 10 * MINUTE,
      now: clock.now,
    });
    const calls: string[] = [];
    const handle = async (item: string) => {
      calls.push(item);
      if (item === 'p') throw new Error('cannot apply');
    };
    const reads: string[] = [];
    const fromLog = async (item: string) => {
      reads.push(item);
      return 'before-restart';
    };
    let lettered: number | undefined;
    for (let minute = 0; minute <= 30 && lettered === undefined; minute++) {
      const result = await isolation.round(['p'], handle, undefined, fromLog);
      if (result.poison.length > 0) {
        assert.deepEqual(
          result.poison.map((p) => [p.item, p.rule]),
          [['p', 'quiet-topic']],
        );
        lettered = minute;
      }
      clock.advance(MINUTE);
    }
    assert.equal(lettered, 10, 'after N failures over T');
    assert.deepEqual(reads, ['p'], 'the log read once, at the check');
    assert.deepEqual(calls.slice(-2), ['p', 'before-restart']);
  });

  it('letters nothing when the log holds no earlier event of its topic (a new topic) or cannot be read, until one of its events is handled', async () => {
    const clock = fakeClock();
    const isolation = topicScoped(5, { attempts: 2, afterMs: 10 * MINUTE, now: clock.now });
    const logs = [async () => undefined, async () => Promise.reject(new Error('broker away'))];
    for (let round = 0; round < 40; round++) {
      isolation.forget([`adjusted:${round}`]);
      const fromLog = logs[round % 2];
      const result = await isolation.round(['usage:p'], failOn('usage:p'), undefined, fromLog);
      assert.deepEqual(result.poison, [], `minute ${round}`);
      clock.advance(MINUTE);
    }
    isolation.forget(['usage:first']); // an event of its topic handled (another partition's)
    let lettered: number | undefined;
    for (let minute = 0; minute <= 12 && lettered === undefined; minute++) {
      const result = await isolation.round(['usage:p'], failOn('usage:p'), undefined, logs[0]);
      if (result.poison.length > 0) lettered = minute;
      clock.advance(MINUTE);
    }
    // Its last check (none to make) was at minute 30, so its N over T are done at 40; that
    // try earns a strike instead (its topic moved since it last failed), and the next one
    // is judged by the quiet-topic rule, with the event just handled as its check.
    assert.equal(lettered, 1);
  });

  it('letters two back-to-back events at the end of the topic one after the other, each once its own N failures over T are done', async () => {
    const clock = fakeClock();
    const isolation = quietIsolation(clock, 3);
    const calls: string[] = [];
    const handle = async (item: string) => {
      calls.push(item);
      if (item !== 'good') throw new Error('cannot apply');
    };
    const letters: { item: string; rule: string; minute: number }[] = [];
    let pending = ['p1', 'p2'];
    for (let minute = 0; minute <= 30 && pending.length > 0; minute++) {
      const result = await isolation.round(pending, handle);
      for (const p of result.poison) letters.push({ item: p.item, rule: p.rule, minute });
      pending = [...result.failing];
      clock.advance(MINUTE);
    }
    assert.deepEqual(letters, [
      { item: 'p1', rule: 'quiet-topic', minute: 10 },
      // Its clock starts at its first failure at the end of the topic, minute 11.
      { item: 'p2', rule: 'quiet-topic', minute: 21 },
    ]);
    assert.equal(calls.filter((c) => c === 'good').length, 4, 'two checks per letter');
    assert.equal(isolation.striking, 0);
  });

  it('letters neither of two back-to-back events while the store is down (the check fails too), and both once it is back', async () => {
    const clock = fakeClock();
    const isolation = quietIsolation(clock, 3);
    for (let round = 0; round < 95; round++) {
      const result = await isolation.round(['p1', 'p2'], storeDown);
      assert.deepEqual(result.poison, [], `round ${round}`);
      assert.deepEqual(result.failing, ['p1', 'p2']);
      assert.equal(result.proven, false);
      clock.advance(MINUTE);
    }
    const back = await isolation.round(['p1', 'p2'], async () => undefined);
    assert.deepEqual(back.handled, ['p1', 'p2']);
    assert.deepEqual(back.poison, []);
  });

  it('judges no run of two by the quiet-topic rule while the rest of its topic moves (its partition fails as a whole)', async () => {
    const clock = fakeClock();
    const isolation = quietIsolation(clock, 3);
    for (let round = 0; round < 60; round++) {
      isolation.forget([`other-${round}`]); // the topic's other partition handled meanwhile
      const result = await isolation.round(['p1', 'p2'], failOn('p1', 'p2'));
      assert.deepEqual(result.poison, [], `round ${round}`);
      clock.advance(MINUTE);
    }
    assert.equal(isolation.striking, 0);
  });

  it('starts its clock over when its error changes in kind', async () => {
    const clock = fakeClock();
    const isolation = quietIsolation(clock, 2);
    await isolation.round(['p'], failOn('p'));
    clock.advance(9 * MINUTE);
    const refused = Object.assign(new Error('refused'), { code: 'ECONNREFUSED' });
    const refusedOnP = async (item: string): Promise<void> => {
      if (item === 'p') throw refused;
    };
    await isolation.round(['p'], refusedOnP);
    clock.advance(2 * MINUTE);
    assert.deepEqual(
      (await isolation.round(['p'], refusedOnP)).poison,
      [],
      '2 minutes of this kind',
    );
    clock.advance(8 * MINUTE);
    const result = await isolation.round(['p'], refusedOnP);
    assert.equal(result.poison.length, 1);
  });

  it('refuses quiet-topic attempts below one and a negative wait', () => {
    assert.throws(
      () => new PoisonIsolation<string>((s) => s, 5, undefined, { attempts: 0 }),
      /quiet-topic attempts/,
    );
    assert.throws(
      () => new PoisonIsolation<string>((s) => s, 5, undefined, { afterMs: -1 }),
      /quiet-topic wait/,
    );
  });
});

describe('deadLetterLogMessage', () => {
  it('names the rule that lettered the event, as both buses log it', () => {
    assert.match(deadLetterLogMessage('strikes'), /while others pass \(rule strikes\)$/);
    assert.match(
      deadLetterLogMessage('quiet-topic'),
      /alone on a quiet topic.*\(rule quiet-topic\)$/,
    );
  });
});
