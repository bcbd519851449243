// Deduplication across two replicas when one of them loses Redis mid-request. Real Redis;
// a replica's connections go through a TCP link the test cuts (a network failure), while
// the other replica's stay up.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type Redis from 'ioredis';
import { startRedis, type RealService } from '@aigw/testing';
import { reuseRedisClient } from '../cache/reuse-redis-client';
import { answerFromFlight, type Flight } from './domain/flight';
import {
  dedupLockKey,
  RedisFlightCoordinator,
  type RedisFlightOptions,
} from './redis-flight-coordinator';
import { CuttableLink } from './testing/cuttable-link';
import { controlledStream, jsonAnswer } from './testing/flight-answers';

/** Reads the flight's stream, the chunks so far in `seen`; rejects as the stream breaks. */
function reading(flight: Flight) {
  const seen: string[] = [];
  const done = answerFromFlight(flight).then(async (answer) => {
    assert.equal(answer.kind, 'stream');
    for await (const chunk of answer.events) seen.push(String(chunk.n));
    return seen;
  });
  done.catch(() => undefined);
  return { seen, done };
}

async function until(what: string, ok: () => boolean, withinMs = 5_000): Promise<void> {
  const deadline = Date.now() + withinMs;
  while (!ok()) {
    if (Date.now() > deadline) assert.fail(`not within ${withinMs} ms: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Releases the first chunk and waits until the follower has read it. */
async function firstChunkRead(
  push: (chunk: { n: number }) => void,
  followed: { seen: string[] },
): Promise<void> {
  push({ n: 1 });
  await until('the follower read the first chunk', () => followed.seen.length === 1);
}

/** The follower errors a replica counted ('dedup follow'). */
function followErrors(replica: { errors: string[] }): number {
  return replica.errors.filter((what) => what === 'dedup follow').length;
}

describe('deduplication across replicas when one loses Redis mid-request (real Redis)', () => {
  let redis: RealService;
  const clients: Redis[] = [];
  const closers: (() => Promise<void>)[] = [];

  /** A replica: its own client (as the gateway opens it) and coordinator, maybe via a link. */
  async function replica(options: RedisFlightOptions, viaLink = false) {
    const link = viaLink ? await CuttableLink.open(redis.url) : undefined;
    const client = reuseRedisClient(link?.url ?? redis.url);
    client.on('error', () => undefined);
    clients.push(client);
    const errors: string[] = [];
    /** Flights it stopped following because their leader went silent. */
    const silentLeaders: string[] = [];
    const coordinator = new RedisFlightCoordinator(client, {
      beatMs: 100,
      ...options,
      onSilentLeader: () => silentLeaders.push('silent'),
      onError: (what) => errors.push(what),
    });
    closers.push(async () => {
      await coordinator.close();
      await link?.close();
    });
    await until('connected', () => client.status === 'ready');
    return { coordinator, client, link, errors, silentLeaders };
  }

  type Replica = Awaited<ReturnType<typeof replica>>;

  /**
   * A key led on `leader`'s replica and followed on `follower`'s, the leader's call a
   * stream the test releases with `push`.
   */
  async function sharedStream(leader: Replica, follower: Replica) {
    const key = randomUUID();
    const lead = await leader.coordinator.lead(key, 30_000);
    assert.ok('leader' in lead);
    const raced = await follower.coordinator.lead(key, 30_000);
    assert.ok('follower' in raced);
    const { answer, push } = controlledStream();
    const running = lead.leader.run(Promise.resolve(answer));
    return { key, lead, raced, push, running };
  }

  before(async () => {
    redis = await startRedis();
  });
  after(async () => {
    for (const close of closers) await close();
    for (const client of clients) client.disconnect();
    await redis.stop();
  });

  it('a follower whose replica loses Redis gets a clear error at once, not a 502 after the leader timeout', async () => {
    const leader = await replica({});
    const follower = await replica({ leaderTimeoutMs: 10_000 }, true);
    const { lead, raced, push, running } = await sharedStream(leader, follower);
    const own = reading(lead.leader.flight);
    const followed = reading(raced.follower);
    await firstChunkRead(push, followed);

    const cutAt = Date.now();
    follower.link?.cut();
    await assert.rejects(followed.done, /this gateway replica lost its connection to Redis/);
    const waited = Date.now() - cutAt;
    assert.ok(waited < 4_000, `the follower waited ${waited} ms`);
    assert.equal(followErrors(follower), 1, 'counted once, for the one follower');

    // The leader is not touched: its own caller gets the whole answer.
    push({ n: 2 });
    push(null);
    await running;
    assert.deepEqual(await own.done, ['1', '2']);
  });

  it('a follower whose leader lost Redis for good (its own Redis fine) gets a clear error after a few missed heartbeats, not 10 s', async () => {
    // The gateway's cadence: a heartbeat a second, the default leader timeout.
    const leader = await replica({ beatMs: 1_000 }, true);
    const follower = await replica({ beatMs: 1_000 });
    const { key, lead, raced, push, running } = await sharedStream(leader, follower);
    const own = reading(lead.leader.flight);
    const followed = reading(raced.follower);
    await firstChunkRead(push, followed);

    const cutAt = Date.now();
    leader.link?.cut(); // never restored
    await assert.rejects(followed.done, /stopped answering .*a retry makes its own call/);
    const waited = Date.now() - cutAt;
    assert.ok(waited >= 1_900 && waited < 4_500, `the follower waited ${waited} ms`);
    assert.deepEqual(follower.silentLeaders, ['silent'], 'counted once');
    assert.equal(followErrors(follower), 0, 'not its own replica’s loss');
    assert.deepEqual(followed.seen, ['1']);

    // The key is freed: the retry, on the follower's replica, makes its own call.
    const next = await follower.coordinator.lead(key, 30_000);
    assert.ok('leader' in next, 'the next caller leads');
    await next.leader.run(Promise.resolve(jsonAnswer()));

    // The leader's own caller still gets the whole answer from memory.
    push({ n: 2 });
    push(null);
    await running;
    assert.deepEqual(await own.done, ['1', '2']);
  });

  it('a flap of the follower’s connection shorter than readerLossMs resumes where it was', async () => {
    const leader = await replica({});
    const follower = await replica({ readerLossMs: 2_000 }, true);
    const { raced, push, running } = await sharedStream(leader, follower);
    const followed = reading(raced.follower);
    await firstChunkRead(push, followed);

    follower.link?.cut();
    push({ n: 2 }); // written while the follower's replica cannot read
    await new Promise((resolve) => setTimeout(resolve, 300));
    follower.link?.restore();
    push({ n: 3 });
    push(null);
    await running;
    assert.deepEqual(await followed.done, ['1', '2', '3']);
    assert.equal(followErrors(follower), 0);
  });

  it('a follower replica whose event loop stalls past the command timeout still gets the whole answer', async () => {
    // Redis and the leader are fine; the follower's process is busy (a GC pause, a large
    // body parsed) while its blocking read is out, so that read's command timeout fires
    // before its reply is taken: one failed read, not a replica that cannot read.
    const leader = await replica({});
    const follower = await replica({});
    const { raced, push, running } = await sharedStream(leader, follower);
    const followed = reading(raced.follower);
    await firstChunkRead(push, followed);
    await new Promise((resolve) => setTimeout(resolve, 50));
    await new Promise<void>((resolve) =>
      setImmediate(() => {
        const end = Date.now() + 2_300;
        while (Date.now() < end); // the stall
        resolve();
      }),
    );
    push({ n: 2 });
    push(null);
    await running;
    assert.deepEqual(await followed.done, ['1', '2']);
    assert.equal(followErrors(follower), 0);
  });

  it('a follower whose own reads fail is not told its leader went, even past the leader timeout', async () => {
    const leader = await replica({});
    const follower = await replica({ leaderTimeoutMs: 500, readerLossMs: 1_500 }, true);
    const { key, raced, push, running } = await sharedStream(leader, follower);
    const followed = reading(raced.follower);
    await firstChunkRead(push, followed);
    follower.link?.cut();
    await assert.rejects(followed.done, /this gateway replica lost its connection to Redis/);
    push(null);
    await running;
    // Its leader was fine: the key still names its flight for the rest of the window.
    assert.ok(await leader.coordinator.join(key));
  });

  it('a lock whose reply timed out is freed: no other replica follows a call nobody makes', async () => {
    const leader = await replica({}, true);
    const other = await replica({});
    const key = randomUUID();
    leader.link?.holdReplies(); // Redis stalls for the leader's replica past the command timeout
    const lead = await leader.coordinator.lead(key, 30_000);
    assert.ok('leader' in lead, 'the request makes its own call');
    assert.ok(leader.errors.includes('dedup lock'));
    leader.link?.releaseReplies();
    void lead.leader.run(Promise.resolve(jsonAnswer()));
    // Its SET did run in Redis; the lock it took is given back.
    const deadline = Date.now() + 3_000;
    while ((await other.client.exists(dedupLockKey(key))) === 1) {
      assert.ok(Date.now() < deadline, 'a lock nobody leads is still there');
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const next = await other.coordinator.lead(key, 30_000);
    assert.ok('leader' in next, 'an identical request on the other replica makes the call');
    await next.leader.run(Promise.resolve(jsonAnswer()));
  });

  it('a leader whose batch reply times out though Redis took it (Redis slow, not gone): a follower elsewhere still gets the whole answer', async () => {
    const leader = await replica({}, true);
    const follower = await replica({});
    const { lead, raced, push, running } = await sharedStream(leader, follower);
    const own = reading(lead.leader.flight);
    const followed = reading(raced.follower);
    await firstChunkRead(push, followed);

    leader.link?.holdReplies(); // Redis runs the leader's writes, its replies come late
    push({ n: 2 });
    await until('the follower read the second chunk', () => followed.seen.length === 2);
    await until('the leader’s write timed out', () => leader.errors.includes('dedup publish'));
    leader.link?.releaseReplies();
    push({ n: 3 });
    push(null);
    await running;

    assert.deepEqual(await own.done, ['1', '2', '3']);
    assert.deepEqual(await followed.done, ['1', '2', '3'], 'no chunk was missing');
    assert.equal(followErrors(follower), 0);
  });

  it('a leader whose last batch so far never reached Redis: its next beat tells a follower elsewhere at once', async () => {
    const leader = await replica({}, true);
    const follower = await replica({});
    const { raced, push, running } = await sharedStream(leader, follower);
    const followed = reading(raced.follower);
    await firstChunkRead(push, followed);

    leader.link?.cut();
    await until('the leader saw its connection go', () => leader.client.status !== 'ready');
    push({ n: 2 }); // never reaches Redis; the call then goes quiet (a long tool call, say)
    await new Promise((resolve) => setTimeout(resolve, 50));
    leader.link?.restore();
    const restoredAt = Date.now();
    await assert.rejects(followed.done, /before all of its answer was shared/);
    assert.ok(Date.now() - restoredAt < 3_000, 'told by a beat, not the leader timeout');
    assert.deepEqual(followed.seen, ['1']);
    push(null);
    await running;
  });

  it('a leader that loses Redis mid-stream: its caller gets the whole answer, a follower elsewhere an error, never a hole', async () => {
    const leader = await replica({}, true);
    const follower = await replica({});
    const { key, lead, raced, push, running } = await sharedStream(leader, follower);
    const own = reading(lead.leader.flight);
    const followed = reading(raced.follower);
    await firstChunkRead(push, followed);

    leader.link?.cut();
    await until('the leader saw its connection go', () => leader.client.status !== 'ready');
    push({ n: 2 }); // never reaches Redis
    await new Promise((resolve) => setTimeout(resolve, 50));
    leader.link?.restore();
    await until('the leader reconnected', () => leader.client.status === 'ready');
    push({ n: 3 });
    push(null);
    await running;

    assert.deepEqual(await own.done, ['1', '2', '3'], 'the leader’s own caller reads memory');
    await assert.rejects(followed.done, /before all of its answer was shared/);
    assert.deepEqual(followed.seen, ['1'], 'nothing after the hole was handed on');
    // The key is free: the next identical request on the other replica makes its own call.
    const next = await follower.coordinator.lead(key, 30_000);
    assert.ok('leader' in next, 'the next caller leads');
    await next.leader.run(Promise.resolve(jsonAnswer()));
  });
});
