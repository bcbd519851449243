import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { runInNewContext } from 'node:vm';
import { setFlagsFromString } from 'node:v8';
import type { GatewayAnswer, TokenUsage } from '@aigw/contracts/data-plane';
import { answerFromFlight, type Flight } from './flight';
import {
  InProcessFlightCoordinator,
  type FlightMemoryLimits,
  type LeadOutcome,
} from './flight-coordinator';

setFlagsFromString('--expose-gc'); // for the heap measure below

const USAGE: TokenUsage = {
  inputTokens: 12,
  outputTokens: 6,
  cachedInputTokens: 0,
  source: 'reported',
};
const SERVED = { backend: 'b', provider: 'openai', model: 'gpt-4o' };
const WINDOW_MS = 60_000;

function answer(text: string): GatewayAnswer {
  return {
    kind: 'json',
    status: 200,
    body: { choices: [{ message: { content: text } }] },
    usage: USAGE,
    servedBy: SERVED,
  };
}

function leaderOf(outcome: LeadOutcome) {
  assert.ok('leader' in outcome, 'expected to lead a call of its own');
  return outcome.leader;
}

function followed(outcome: LeadOutcome): Flight {
  assert.ok('follower' in outcome, 'expected to join the call held in memory');
  return outcome.follower;
}

/** Leads a call under `key` and lets it answer with `text`. */
async function answered(flights: InProcessFlightCoordinator, key: string, text: string) {
  const leader = leaderOf(await flights.lead(key, WINDOW_MS));
  await leader.run(Promise.resolve(answer(text)));
  await leader.flight.usage;
  await new Promise((resolve) => setImmediate(resolve)); // its size is counted on the answer
  return leader.flight;
}

function coordinator(limits: Omit<FlightMemoryLimits, 'onEvict'>) {
  const evicted: string[] = [];
  const flights = new InProcessFlightCoordinator(Date.now, {
    ...limits,
    onEvict: () => evicted.push('evicted'),
  });
  return { flights, evicted };
}

describe('finished answers kept for late followers', () => {
  it('drops the earliest finished answer past maxBytes; a running call stays joinable', async () => {
    // Each answer weighs a little over 2000 bytes (its 1000 characters and bookkeeping): two
    // do not fit in 3500.
    const { flights, evicted } = coordinator({ maxBytes: 3_500, maxEntries: 100 });
    const running = leaderOf(await flights.lead('running', WINDOW_MS));
    await answered(flights, 'first', 'a'.repeat(1_000));
    await answered(flights, 'second', 'b'.repeat(1_000));

    assert.deepEqual(evicted, ['evicted']);
    // The evicted answer's next caller makes its own call.
    leaderOf(await flights.lead('first', WINDOW_MS));
    followed(await flights.lead('second', WINDOW_MS));
    assert.equal(followed(await flights.lead('running', WINDOW_MS)), running.flight);
  });

  it('drops the earliest finished answer past maxEntries', async () => {
    const { flights, evicted } = coordinator({ maxBytes: 1_000_000, maxEntries: 2 });
    await answered(flights, 'one', 'x');
    await answered(flights, 'two', 'y');
    assert.deepEqual(evicted, []);
    await answered(flights, 'three', 'z');
    assert.deepEqual(evicted, ['evicted']);
    assert.equal(await flights.join('one'), undefined);
    assert.ok(await flights.join('two'));
    assert.ok(await flights.join('three'));
  });

  it('never drops a running call, however much it has streamed', async () => {
    const { flights, evicted } = coordinator({ maxBytes: 3_000, maxEntries: 1 });
    const running = leaderOf(await flights.lead('stream', WINDOW_MS));
    running.flight.append({ t: 'head', kind: 'stream', status: 200, servedBy: SERVED });
    for (let i = 0; i < 20; i++) {
      running.flight.append({
        t: 'chunk',
        data: { choices: [{ delta: { content: 'c'.repeat(100) } }] },
      });
    }
    await answered(flights, 'small', 'x');
    await answered(flights, 'other', 'y');
    assert.equal(await flights.join('stream'), running.flight);
    assert.deepEqual(evicted, ['evicted'], 'only the finished "small" went');

    // Once it ends it is too large to keep (alone: the others stay); a follower already on
    // it still reads it whole.
    const follower = answerFromFlight(followed(await flights.lead('stream', WINDOW_MS)));
    running.flight.append({ t: 'end', usage: USAGE });
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(await flights.join('stream'), undefined);
    assert.ok(await flights.join('other'));
    assert.equal(evicted.length, 2);
    const streamed = await follower;
    assert.equal(streamed.kind, 'stream');
    let chunks = 0;
    if (streamed.kind === 'stream') for await (const _ of streamed.events) chunks++;
    assert.equal(chunks, 20);
  });

  /** How much the heap grew holding `count` answers `text(i)` within `bound`. */
  async function heapGrowth(bound: number, count: number, text: (i: number) => string) {
    const gc = runInNewContext('gc') as () => void;
    gc();
    const before = process.memoryUsage().heapUsed;
    const { flights } = coordinator({ maxBytes: bound, maxEntries: 1_000_000 });
    for (let i = 0; i < count; i++) {
      const key = createHash('sha256').update(String(i)).digest('hex');
      // Parsed, as an upstream answer is: no string shared between answers.
      await answered(flights, key, JSON.parse(JSON.stringify(text(i))) as string);
    }
    gc();
    return process.memoryUsage().heapUsed - before;
  }

  it('counts an answer with a character past U+00FF at the two bytes a character V8 holds it in', async () => {
    // One em dash in a 20000-character answer: 20 KB in UTF-8, 40 KB of heap. Counted in
    // UTF-8, a 4 MiB bound held 8.4 MiB.
    const bound = 4 * 1024 * 1024;
    const grown = await heapGrowth(
      bound,
      1_000,
      (i) => `${i}${'x'.repeat(10_000)}\u2014${'x'.repeat(9_999)}`,
    );
    assert.ok(
      grown < 1.25 * bound,
      `heap grew ${(grown / 2 ** 20).toFixed(1)} MiB for a 4 MiB bound`,
    );
  });

  it('counts each answer’s key, objects and bookkeeping, not its JSON alone', async () => {
    // Small answers (100 characters) weigh mostly their Flight, timer and objects: counted by
    // their JSON alone, a 4 MiB bound held 11.9 MiB in a plain process (18 MiB here), now 3.9
    // MiB (6.2 here: under node:test each held promise weighs ~500 bytes more).
    const bound = 4 * 1024 * 1024;
    const grown = await heapGrowth(bound, 10_000, (i) => `${i}${'x'.repeat(100)}`);
    assert.ok(grown < 2 * bound, `heap grew ${(grown / 2 ** 20).toFixed(1)} MiB for a 4 MiB bound`);
  });
});

describe('a call running past its window', () => {
  /** A clock the test moves by hand. */
  function fakeClock() {
    let nowMs = 1_000_000;
    return { now: () => nowMs, advance: (ms: number) => (nowMs += ms) };
  }

  it('keeps its one leader: an identical request past the window joins it, not a second call', async () => {
    const clock = fakeClock();
    const flights = new InProcessFlightCoordinator(clock.now);
    const leader = leaderOf(await flights.lead('slow', 5_000));
    clock.advance(30_000); // a long reasoning call, six windows in
    assert.equal(followed(await flights.lead('slow', 5_000)), leader.flight);
    assert.equal(await flights.join('slow'), leader.flight);
  });

  it('frees its key once it ends past the window: the next identical request calls', async () => {
    const clock = fakeClock();
    const flights = new InProcessFlightCoordinator(clock.now);
    const leader = leaderOf(await flights.lead('slow', 5_000));
    clock.advance(30_000);
    await leader.run(Promise.resolve(answer('late')));
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(await flights.join('slow'), undefined);
    const next = leaderOf(await flights.lead('slow', 5_000));
    assert.notEqual(next.flight, leader.flight);
  });

  it('ending within its window, its answer stays joinable for the rest of it, then goes', async () => {
    const clock = fakeClock();
    const flights = new InProcessFlightCoordinator(clock.now);
    const leader = leaderOf(await flights.lead('quick', 5_000));
    clock.advance(1_000);
    await leader.run(Promise.resolve(answer('done')));
    await new Promise((resolve) => setImmediate(resolve));
    clock.advance(3_000);
    assert.equal(await flights.join('quick'), leader.flight, 'still within the window');
    clock.advance(1_001);
    assert.equal(await flights.join('quick'), undefined, 'the window is over');
  });
});
