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
    // Each answer's events weigh a little over 1000 bytes: two do not fit in 1500.
    const { flights, evicted } = coordinator({ maxBytes: 1_500, maxEntries: 100 });
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
    const { flights, evicted } = coordinator({ maxBytes: 500, maxEntries: 1 });
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

  it('counts an answer with a character past U+00FF at the two bytes a character V8 holds it in', async () => {
    // One em dash in a 20000-character answer: 20 KB in UTF-8, 40 KB of heap. Counted in
    // UTF-8, a 4 MiB bound held 8.3 MiB.
    const gc = runInNewContext('gc') as () => void;
    const bound = 4 * 1024 * 1024;
    gc();
    const before = process.memoryUsage().heapUsed;
    const { flights } = coordinator({ maxBytes: bound, maxEntries: 100_000 });
    for (let i = 0; i < 1_000; i++) {
      const key = createHash('sha256').update(String(i)).digest('hex');
      // Parsed, as an upstream answer is: no string shared between answers.
      const text = JSON.parse(
        JSON.stringify(`${i}${'x'.repeat(10_000)}\u2014${'x'.repeat(9_999)}`),
      );
      await answered(flights, key, text);
    }
    gc();
    const grown = process.memoryUsage().heapUsed - before;
    assert.ok(
      grown < 1.25 * bound,
      `heap grew ${(grown / 2 ** 20).toFixed(1)} MiB for a 4 MiB bound`,
    );
    await flights.close();
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
