// How long a deduplication leader's Redis lock lasts: as long as its call runs (renewed by
// its heartbeats, only while it still names that call), the rest of the window after it,
// and not long past a leader that died. Real Redis, two replicas.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type Redis from 'ioredis';
import type { GatewayAnswer } from '@aigw/contracts/data-plane';
import { createRedisClient } from '@aigw/infra';
import { startRedis, type RealService } from '@aigw/testing';
import { answerFromFlight } from './domain/flight';
import type { LockRenewalFailure } from './flight-lock';
import {
  dedupLockKey,
  RedisFlightCoordinator,
  type RedisFlightOptions,
} from './redis-flight-coordinator';
import { controlledStream, jsonAnswer } from './testing/flight-answers';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Heartbeats every 100 ms; a leader silent 500 ms is gone, and so is its lock. */
const FAST: RedisFlightOptions = { beatMs: 100, leaderTimeoutMs: 500 };
/** A window far shorter than the calls below. */
const WINDOW_MS = 300;

async function collect(answer: GatewayAnswer): Promise<string[]> {
  assert.equal(answer.kind, 'stream');
  const out: string[] = [];
  for await (const chunk of answer.events) out.push(String(chunk.n));
  return out;
}

describe('a deduplication leader’s lock (real Redis)', () => {
  let redis: RealService;
  let admin: Redis;
  const clients: Redis[] = [];
  const coordinators: RedisFlightCoordinator[] = [];

  /** A replica and the renewal failures it reported. */
  function replica(options: RedisFlightOptions = {}) {
    const client = createRedisClient(redis.url);
    clients.push(client);
    const renewalFailures: LockRenewalFailure[] = [];
    const coordinator = new RedisFlightCoordinator(client, {
      ...FAST,
      ...options,
      onLockRenewalFailed: (reason) => renewalFailures.push(reason),
    });
    coordinators.push(coordinator);
    return { coordinator, client, renewalFailures };
  }

  before(async () => {
    redis = await startRedis();
    admin = createRedisClient(redis.url);
    clients.push(admin);
  });
  after(async () => {
    for (const coordinator of coordinators) await coordinator.close();
    for (const client of clients) client.disconnect();
    await redis.stop();
  });

  it('lasts while a call runs past its window: an identical request on another replica joins it, no second call', async () => {
    const a = replica();
    const b = replica();
    const key = randomUUID();
    const lead = await a.coordinator.lead(key, WINDOW_MS);
    assert.ok('leader' in lead);
    const { answer, push } = controlledStream();
    const running = lead.leader.run(Promise.resolve(answer));
    push({ n: 1 });
    await sleep(WINDOW_MS * 3); // a slow reasoning model, three windows in

    const late = await b.coordinator.lead(key, WINDOW_MS);
    assert.ok('follower' in late, 'the running call is joined, the provider not called again');
    const followed = answerFromFlight(late.follower).then(collect);
    push({ n: 2 });
    push(null);
    await running;
    assert.deepEqual(await followed, ['1', '2'], 'read from its start');
    assert.deepEqual(a.renewalFailures, []);

    // Over past its window: the key is free at once, the next identical request calls.
    assert.equal(await admin.exists(dedupLockKey(key)), 0);
    const next = await a.coordinator.lead(key, WINDOW_MS);
    assert.ok('leader' in next);
    await next.leader.run(Promise.resolve(jsonAnswer()));
  });

  it('ending within its window, lasts the rest of it for late followers', async () => {
    const a = replica();
    const key = randomUUID();
    const lead = await a.coordinator.lead(key, 2_000);
    assert.ok('leader' in lead);
    await sleep(300); // renewals meanwhile never shorten the window's lock
    await lead.leader.run(Promise.resolve(jsonAnswer()));
    const ttl = await admin.pttl(dedupLockKey(key));
    assert.ok(ttl > 1_000 && ttl <= 1_700, `the rest of the window, not a lease: ${ttl} ms`);
  });

  it('never lapses between two beats, even with a leader timeout set shorter than a beat', async () => {
    const a = replica({ beatMs: 100, leaderTimeoutMs: 40 });
    const key = randomUUID();
    const lead = await a.coordinator.lead(key, 50);
    assert.ok('leader' in lead);
    const { answer, push } = controlledStream();
    const running = lead.leader.run(Promise.resolve(answer));
    const until = Date.now() + 600;
    while (Date.now() < until) {
      assert.equal(await admin.exists(dedupLockKey(key)), 1, 'the running call’s lock lapsed');
      await sleep(10);
    }
    push(null);
    await running;
    assert.equal(await admin.exists(dedupLockKey(key)), 0, 'freed at its end, past its window');
  });

  it('outlives a leader that died by the leader timeout at most', async () => {
    const ghostClient = createRedisClient(redis.url);
    const ghost = new RedisFlightCoordinator(ghostClient, FAST);
    const key = randomUUID();
    const lead = await ghost.lead(key, WINDOW_MS);
    assert.ok('leader' in lead);
    void lead.leader.run(new Promise<GatewayAnswer>(() => undefined)); // never answers
    await sleep(WINDOW_MS * 3);
    assert.equal(await admin.exists(dedupLockKey(key)), 1, 'renewed while it lived');

    // Its replica dies: no more heartbeats, no more renewals.
    await ghost.close();
    ghostClient.disconnect();
    const diedAt = Date.now();
    while ((await admin.exists(dedupLockKey(key))) === 1) {
      assert.ok(Date.now() - diedAt < 1_000, 'the lock outlived its dead leader too long');
      await sleep(20);
    }
    const next = await replica().coordinator.lead(key, WINDOW_MS);
    assert.ok('leader' in next, 'the next identical request calls');
    await next.leader.run(Promise.resolve(jsonAnswer()));
  });

  it('is renewed only while it names the call: another’s lock is left alone, and the loss counted once', async () => {
    const a = replica();
    const key = randomUUID();
    const lock = dedupLockKey(key);
    const lead = await a.coordinator.lead(key, WINDOW_MS);
    assert.ok('leader' in lead);
    const { answer, push } = controlledStream();
    const running = lead.leader.run(Promise.resolve(answer));
    // Its lock lapses (Redis away past the lease, say) and another call takes the key.
    await admin.set(lock, 'another-flight', 'PX', 400);
    await sleep(700); // seven heartbeats
    assert.equal(await admin.exists(lock), 0, 'the other call’s lock was not extended');
    assert.deepEqual(a.renewalFailures, ['lost']);

    // Nor is a later one's shortened or freed when this call ends.
    await admin.set(lock, 'a-third-flight', 'PX', 60_000);
    push(null);
    await running;
    assert.equal(await admin.get(lock), 'a-third-flight');
    assert.ok((await admin.pttl(lock)) > 50_000);
    assert.deepEqual(a.renewalFailures, ['lost']);
  });
});
