// A broker that stops answering without closing its connections (its host hung, packets
// dropped) while the service stops: close() must end within its drain (closeDrainMs) and a
// little more, with every event published in the spool for the next start, not wait on
// the broker's requests (kafkajs' disconnect waits for each one in flight, up to its
// request timeout, 30 s, and a send's retries go on behind it).
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { it } from 'node:test';
import { engineSkipReason, numberedUsageEvent } from '@aigw/testing';
import { EventSpool } from './event-spool';
import { KafkaEventBus } from './kafka-event-bus';
import { restartableKafkaClient, until } from '../testing/real-kafka-buses';

const skip = engineSkipReason('a Kafka broker of its own to freeze');

// The services' client retries (service-runtime.ts).
const own = restartableKafkaClient(
  'close-frozen',
  { initialRetryTime: 300, maxRetryTime: 5_000, retries: 8 },
  skip,
);

/** The drain close() is given; it may take a few seconds past it, never the broker's 30. */
const CLOSE_DRAIN_MS = 2_000;
const CLOSE_BOUND_MS = CLOSE_DRAIN_MS + 8_000;

it(
  'closes within its drain while the broker hangs, every event in the spool',
  { skip },
  async () => {
    const spoolPath = join(own.dir, 'frozen-spool.db');
    const bus = new KafkaEventBus(own.kafka, {
      spool: new EventSpool(spoolPath),
      retryMinMs: 200,
      retryMaxMs: 2_000,
      closeDrainMs: CLOSE_DRAIN_MS,
    });
    await bus.start({ topicPartitions: 1 });
    bus.publish(numberedUsageEvent('alice', 0));
    await bus.flush();
    assert.equal(bus.spooledCount, 0, 'Kafka acknowledges before it hangs');

    await own.broker.freezeBroker();
    let closedAfterMs: number | undefined;
    try {
      for (let n = 1; n <= 5; n++) bus.publish(numberedUsageEvent('alice', n));
      await until(() => bus.spooledCount === 5, 'the unacknowledged batch spooled', 15_000);
      for (let n = 6; n <= 8; n++) bus.publish(numberedUsageEvent('alice', n));
      const started = Date.now();
      await Promise.race([
        bus.close(),
        new Promise((resolve) => setTimeout(resolve, 60_000).unref()),
      ]);
      closedAfterMs = Date.now() - started;
    } finally {
      await own.broker.thawBroker();
    }
    assert.ok(closedAfterMs < CLOSE_BOUND_MS, `close() took ${closedAfterMs} ms`);
    const reopened = new EventSpool(spoolPath);
    try {
      assert.equal(reopened.count, 8, 'every event not acknowledged waits for the next start');
    } finally {
      reopened.close();
    }
  },
);
