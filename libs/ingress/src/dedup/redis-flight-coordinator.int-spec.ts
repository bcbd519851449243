import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type Redis from 'ioredis';
import { DataPlaneError, DataPlaneErrorCode, type GatewayAnswer } from '@aigw/contracts/data-plane';
import { createRedisClient } from '@aigw/infra';
import { startRedis, type RealService } from '@aigw/testing';
import { answerFromFlight } from './domain/flight';
import { RedisFlightCoordinator } from './redis-flight-coordinator';
import { controlledStream, jsonAnswer, USAGE } from './testing/flight-answers';

async function collect(answer: GatewayAnswer): Promise<string[]> {
  assert.equal(answer.kind, 'stream');
  const out: string[] = [];
  for await (const chunk of answer.events) out.push(String(chunk.n));
  return out;
}

describe('deduplication through real Redis (two replicas)', () => {
  let redis: RealService;
  const clients: Redis[] = [];
  let a: RedisFlightCoordinator;
  let b: RedisFlightCoordinator;

  before(async () => {
    redis = await startRedis();
    const client = () => {
      const c = createRedisClient(redis.url);
      clients.push(c);
      return c;
    };
    a = new RedisFlightCoordinator(client(), { beatMs: 100, leaderTimeoutMs: 1_500 });
    b = new RedisFlightCoordinator(client(), { beatMs: 100, leaderTimeoutMs: 1_500 });
  });
  after(async () => {
    await a.close();
    await b.close();
    for (const c of clients) c.disconnect();
    await redis.stop();
  });

  it('one leader; followers on the other replica, early and late, read the whole stream', async () => {
    const key = randomUUID();
    const lead = await a.lead(key, 30_000);
    assert.ok('leader' in lead);
    const raced = await b.lead(key, 30_000);
    assert.ok('follower' in raced, 'the second replica joins instead of calling');
    const { answer, push } = controlledStream();
    const running = lead.leader.run(Promise.resolve(answer));
    const early = answerFromFlight(raced.follower).then(collect);
    push({ n: 1 });
    push({ n: 2 });
    await new Promise((resolve) => setTimeout(resolve, 200));
    const lateFlight = await b.join(key);
    assert.ok(lateFlight);
    const late = answerFromFlight(lateFlight).then(collect);
    push({ n: 3 });
    push(null);
    await running;
    assert.deepEqual(await early, ['1', '2', '3']);
    assert.deepEqual(await late, ['1', '2', '3']);
    // A replica that had never seen the key also reads it from the start.
    const freshClient = clients[0].duplicate();
    clients.push(freshClient);
    const fresh = new RedisFlightCoordinator(freshClient);
    try {
      const flight = await fresh.join(key);
      assert.ok(flight);
      assert.deepEqual(await answerFromFlight(flight).then(collect), ['1', '2', '3']);
      assert.deepEqual(await flight.usage, USAGE);
    } finally {
      await fresh.close();
    }
  });

  it('a leader that goes silent gives its followers an error, not a hang', async () => {
    const key = randomUUID();
    const ghostClient = clients[0].duplicate();
    const ghost = new RedisFlightCoordinator(ghostClient, { beatMs: 100 });
    const lead = await ghost.lead(key, 30_000);
    assert.ok('leader' in lead);
    void lead.leader.run(new Promise<GatewayAnswer>(() => undefined)); // never answers
    const follower = await b.join(key);
    assert.ok(follower);
    const answer = answerFromFlight(follower);
    await new Promise((resolve) => setTimeout(resolve, 300));
    // Its replica dies: no more heartbeats, nothing more written.
    await ghost.close();
    ghostClient.disconnect();
    await assert.rejects(answer, /stopped answering/);
    // The key is free again: the next caller leads.
    const next = await a.lead(key, 30_000);
    assert.ok('leader' in next);
    void next.leader.run(Promise.resolve(jsonAnswer()));
  });

  it('a failed call gives its followers the error, then frees the key on every replica', async () => {
    const key = randomUUID();
    const lead = await a.lead(key, 30_000);
    assert.ok('leader' in lead);
    const raced = await b.lead(key, 30_000);
    assert.ok('follower' in raced);
    const followed = answerFromFlight(raced.follower);
    // Handled from now: it may reject before `running` resolves (the leader then frees the key).
    followed.catch(() => undefined);
    let fail!: (error: Error) => void;
    const call = new Promise<GatewayAnswer>((_, reject) => (fail = reject));
    const running = lead.leader.run(call);
    fail(new DataPlaneError(DataPlaneErrorCode.UpstreamError, 'provider down'));
    await running;
    await assert.rejects(followed, /provider down/);
    // Within the window, an identical request is not handed the old error: it calls again.
    assert.equal(await b.join(key), undefined, 'the other replica does not join it');
    const again = await a.lead(key, 30_000);
    assert.ok('leader' in again, 'the next caller leads a new call');
    await again.leader.run(Promise.resolve(jsonAnswer()));
    const joined = await b.join(key);
    assert.ok(joined);
    assert.equal((await answerFromFlight(joined)).status, 200);
  });

  it('a no-store leader shares its answer while it runs; once over, no replica keeps it', async () => {
    const key = randomUUID();
    const lead = await a.lead(key, 30_000, false);
    assert.ok('leader' in lead);
    const raced = await b.lead(key, 30_000);
    assert.ok('follower' in raced, 'shared while it runs');
    const { answer, push } = controlledStream();
    const running = lead.leader.run(Promise.resolve(answer));
    const followed = answerFromFlight(raced.follower).then(collect);
    push({ n: 1 });
    push(null);
    await running;
    assert.deepEqual(await followed, ['1']);
    await new Promise((resolve) => setImmediate(resolve));
    // Within the window, neither replica serves it again: the next caller leads.
    assert.equal(await b.join(key), undefined, 'the replica of the follower keeps nothing');
    assert.equal(await a.join(key), undefined, 'the replica of the leader keeps nothing');
    const next = await b.lead(key, 30_000);
    assert.ok('leader' in next, 'the next caller makes its own call');
    await next.leader.run(Promise.resolve(jsonAnswer()));
  });
});
