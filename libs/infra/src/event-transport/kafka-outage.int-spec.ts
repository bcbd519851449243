// The outage the issue asks for, on a broker of this suite's own: publish continuously,
// stop the broker mid-load, keep publishing (events spool; publish never blocks or
// throws), start it again, and check that a consumer deduping on event id applies every
// event exactly once, in per-key order, and that the spool drains to zero.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { it } from 'node:test';
import { Topic, type TokenUsageRecorded } from '@aigw/contracts';
import { engineSkipReason, numberedUsageEvent } from '@aigw/testing';
import { EventSpool } from './event-spool';
import { KafkaEventBus } from './kafka-event-bus';
import { restartableKafkaClient, until } from '../testing/real-kafka-buses';

// A broker to stop and start is always this suite's own container, even when the
// services are given by address.
const skip = engineSkipReason('a Kafka broker of its own to stop and restart');

// Reconnect attempts stay short, so the recovery is seen soon after the broker is back.
const own = restartableKafkaClient(
  'outage',
  { initialRetryTime: 200, maxRetryTime: 2_000, retries: 10 },
  skip,
);

const pause = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

it(
  'Kafka stopped and restarted mid-load: every usage event is applied exactly once',
  { skip },
  async () => {
    const publisher = new KafkaEventBus(own.kafka, {
      spool: new EventSpool(join(own.dir, 'publisher-spool.db')),
      retryMinMs: 200,
      retryMaxMs: 2_000,
    });
    // The budget service's side, as another process would have it.
    const consumer = new KafkaEventBus(own.kafka, {
      spool: new EventSpool(join(own.dir, 'consumer-spool.db')),
    });
    const published: TokenUsageRecorded[] = [];
    const applied = new Map<string, number>(); // event id -> times applied (the dedupe store)
    const appliedOrder = new Map<string, number[]>(); // user -> n, in the order applied
    let deliveries = 0;
    let maxSpooled = 0;
    let publishFailures = 0;
    try {
      await publisher.start({ topicPartitions: 3 });
      await consumer.subscribe({
        group: 'outage-budget',
        topics: [Topic.UsageRecorded],
        handle: async (events) => {
          for (const event of events as TokenUsageRecorded[]) {
            deliveries++;
            if (applied.has(event.eventId)) continue; // consumers dedupe on the event id
            applied.set(event.eventId, 1);
            appliedOrder.set(event.userId, [
              ...(appliedOrder.get(event.userId) ?? []),
              event.inputTokens,
            ]);
          }
        },
      });

      // Continuous load from a timer: 10 events every 10 ms, across 8 users.
      let n = 0;
      const load = setInterval(() => {
        for (let i = 0; i < 10; i++, n++) {
          const event = numberedUsageEvent(`user-${n % 8}`, n);
          try {
            publisher.publish(event);
            published.push(event);
          } catch {
            publishFailures++;
          }
        }
        maxSpooled = Math.max(maxSpooled, publisher.spooledCount);
      }, 10);
      try {
        await until(() => applied.size > 200, 'traffic flowing before the outage');
        await own.broker.stopBroker();
        const atStop = published.length;
        await until(() => publisher.spooledCount > 0, 'events reaching the spool');
        await until(() => published.length > atStop + 1_000, 'publishing during the outage');
        assert.equal(publisher.status().state, 'spooling');
        await own.broker.startBroker();
        await pause(2_000); // load continues across the recovery
      } finally {
        clearInterval(load);
      }
      await publisher.flush();
      await until(() => publisher.spooledCount === 0, 'the spool to drain');
      await until(() => applied.size >= published.length, 'every event at the consumer');

      assert.equal(publishFailures, 0, 'publish never threw');
      assert.ok(maxSpooled > 0, 'the outage went through the spool');
      assert.equal(applied.size, published.length, 'nothing lost, nothing extra');
      for (const event of published) assert.equal(applied.get(event.eventId), 1);
      for (let user = 0; user < 8; user++) {
        const expected = published
          .filter((e) => e.userId === `user-${user}`)
          .map((e) => e.inputTokens);
        assert.deepEqual(appliedOrder.get(`user-${user}`), expected, `user-${user} in order`);
      }
      assert.equal(publisher.spooledCount, 0);
      assert.equal(publisher.status().state, 'connected');
      // Redeliveries beyond the first are allowed (at-least-once) and absorbed by the dedupe.
      console.log(
        `outage: ${published.length} published, ${maxSpooled} max spooled, ` +
          `${deliveries - applied.size} redelivered and deduplicated`,
      );
    } finally {
      await Promise.allSettled([consumer.close(), publisher.close()]);
    }
  },
);
