import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type Redis from 'ioredis';
import { createRedisClient } from '@aigw/infra';
import { startRedis, until, type RealService } from '@aigw/testing';
import { digestOf } from '../client-secrets/client-secret-store';
import { openCallDirectory, type RedisCallDirectory } from './call-directory';

const OWNER = 'header:x-user-id:alice';

describe('realtime calls directory in real Redis', () => {
  let redis: RealService;
  let probe: Redis;
  // Two replicas: one watches the call, the other is asked to control it.
  let watching: RedisCallDirectory;
  let asked: RedisCallDirectory;

  before(async () => {
    redis = await startRedis();
    probe = createRedisClient(redis.url);
    watching = openCallDirectory(redis.url) as RedisCallDirectory;
    asked = openCallDirectory(redis.url) as RedisCallDirectory;
  });
  after(async () => {
    await asked.close();
    probe.disconnect();
    await redis.stop();
  });

  it('names a call placed on one replica to another, which passes its hang-up on to the first; the record goes with the call', async () => {
    const heard: string[] = [];
    await watching.listen((callId) => heard.push(callId));
    await watching.placed('rtc_one', OWNER, 'voice');

    const record = await asked.find('rtc_one');
    assert.deepEqual(record, {
      ownerDigest: digestOf(OWNER),
      model: 'voice',
      replica: watching.replica,
    });
    // Redis holds no user id and no call id in clear, and lets a record lapse.
    const keys = await probe.keys('aigw:realtime-call:*');
    assert.equal(keys.length, 1);
    assert.ok(!keys[0].includes('rtc_one'));
    assert.ok(!(await probe.get(keys[0]))!.includes('alice'));
    assert.ok((await probe.pttl(keys[0])) > 60 * 60 * 1000);

    assert.equal(await asked.askHangUp('rtc_one', record), true);
    await until('the hang-up is heard', () => heard.length > 0, { everyMs: 10 });
    assert.deepEqual(heard, ['rtc_one']);

    await watching.ended('rtc_one');
    assert.equal(await asked.find('rtc_one'), undefined);
    assert.equal(await asked.find('rtc_never_placed'), undefined);
  });

  it('tells a hang-up for a replica gone from the one that asked: nobody heard it', async () => {
    await watching.placed('rtc_two', OWNER, 'voice');
    const record = (await asked.find('rtc_two'))!;
    await watching.close();
    assert.equal(await asked.askHangUp('rtc_two', record), false);
  });
});
