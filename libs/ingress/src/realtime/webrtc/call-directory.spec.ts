import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import type Redis from 'ioredis';
import { RedisCallDirectory } from './call-directory';

/** A subscribing connection whose first subscriptions fail (Redis away), then succeed. */
class FlakySubscriber extends EventEmitter {
  failures: number;
  constructor(failures: number) {
    super();
    this.failures = failures;
  }
  async subscribe(): Promise<void> {
    if (this.failures-- > 0) throw new Error('Command timed out');
  }
}

/** A subscribing connection whose subscription completes when the test says. */
class SlowSubscriber extends EventEmitter {
  subscribed!: () => void;
  subscribe(): Promise<void> {
    return new Promise((resolve) => (this.subscribed = resolve));
  }
}

describe('RedisCallDirectory', () => {
  it('announces a call only once its replica listens for the hang-ups passed on, so one found is heard', async () => {
    const subscriber = new SlowSubscriber();
    const written: string[] = [];
    const redis = { set: async (key: string) => void written.push(key) };
    const directory = new RedisCallDirectory(
      redis as unknown as Redis,
      subscriber as unknown as Redis,
    );
    // As the calls endpoint does with its first call: listens, and announces it.
    const listening = directory.listen(() => undefined);
    const placed = directory.placed('rtc_first', 'header:x-user-id:alice', 'voice');
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(written, [], 'not announced before the subscription');
    subscriber.subscribed();
    await Promise.all([listening, placed]);
    assert.equal(written.length, 1);
  });

  it('hears each hang-up once after subscriptions that failed were tried again', async () => {
    const subscriber = new FlakySubscriber(2);
    const directory = new RedisCallDirectory({} as Redis, subscriber as unknown as Redis);
    const heard: string[] = [];
    const hangUp = (callId: string) => heard.push(callId);
    // As the calls endpoint does: tried again with the next call placed.
    await assert.rejects(directory.listen(hangUp));
    await assert.rejects(directory.listen(hangUp));
    await directory.listen(hangUp);
    subscriber.emit('message', `aigw:realtime-call-hangup:v1:${directory.replica}`, 'rtc_one');
    subscriber.emit('message', 'aigw:realtime-call-hangup:v1:another-replica', 'rtc_two');
    assert.deepEqual(heard, ['rtc_one']);
    assert.equal(subscriber.listenerCount('message'), 1);
  });
});
