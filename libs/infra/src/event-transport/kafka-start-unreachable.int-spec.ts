// A data-plane service restarted during a Kafka outage: its bus starts against a broker
// that is down (this suite's own, stopped before the start), serves (publish spools,
// subscriptions wait, the bus stays ready), and once the broker is back creates the
// topics, starts its consumers and replays the spool: every event arrives exactly once.
// It serves at once: the start waits for one quick try (on a client without retries, as
// the service runtime's), not for the bus client's retries (about 25 s with the runtime's
// settings, which this file's client has), and every try is reported.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { it } from 'node:test';
import { Topic, type TokenUsageRecorded } from '@aigw/contracts';
import { engineSkipReason, numberedUsageEvent } from '@aigw/testing';
import { createKafka } from '../kafka/kafka-client';
import { EventSpool } from './event-spool';
import type { ConnectionAttemptOutcome } from './kafka-connection-supervisor';
import { KafkaEventBus } from './kafka-event-bus';
import { restartableKafkaClient, until } from '../testing/real-kafka-buses';

const skip = engineSkipReason('a Kafka broker of its own to stop and restart');

// The service runtime's reconnect settings: about 25 s of retries before a connect fails.
const own = restartableKafkaClient(
  'start-unreachable',
  { initialRetryTime: 300, maxRetryTime: 5_000, retries: 8 },
  skip,
);
/** A start (to the first answered publish) this long would have waited on Kafka's retries. */
const SERVES_WITHIN_MS = 2_000;

/** Counts deliveries per event id, so a duplicate or a gap shows. */
function counter() {
  const seen = new Map<string, number>();
  return {
    seen,
    handle: async (events: readonly unknown[]) => {
      for (const event of events as TokenUsageRecorded[]) {
        seen.set(event.eventId, (seen.get(event.eventId) ?? 0) + 1);
      }
    },
  };
}

it(
  'started while Kafka is down: serves from the spool, then delivers every event exactly once',
  { skip },
  async () => {
    await own.broker.stopBroker();
    const tries: ConnectionAttemptOutcome[] = [];
    const bus = new KafkaEventBus(own.kafka, {
      spool: new EventSpool(join(own.dir, 'ingress-spool.db')),
      retryMinMs: 200,
      retryMaxMs: 2_000,
      observer: { connectionAttempt: (outcome) => tries.push(outcome) },
    });
    const probeClient = createKafka({
      clientId: 'start-unreachable-probe',
      brokers: own.broker.url,
      config: { retry: { retries: 0 } },
    });
    const probe = async () => {
      const admin = probeClient.admin();
      try {
        await admin.connect();
      } finally {
        await admin.disconnect();
      }
    };
    const group = counter();
    const view = counter();
    try {
      const since = Date.now();
      const started = await bus.start({ topicPartitions: 3, whileUnreachable: 'spool', probe });
      assert.equal(started.connected, false, 'Kafka did not answer at start');

      // Both kinds of subscription a data-plane service makes resolve without Kafka.
      await bus.subscribe({
        group: 'unreachable-start-group',
        topics: [Topic.UsageRecorded],
        handle: group.handle,
      });
      await bus.subscribe({
        group: 'unreachable-start-view',
        ephemeral: true,
        topics: [Topic.UsageRecorded],
        handle: view.handle,
      });

      // The first request a service answers: an event published and safe (in the spool).
      const first = numberedUsageEvent('user-0', 400);
      bus.publish(first);
      await bus.flush();
      const servedAfter = Date.now() - since;
      assert.ok(
        servedAfter < SERVES_WITHIN_MS,
        `started and answered in ${servedAfter} ms, bound ${SERVES_WITHIN_MS}`,
      );
      assert.equal(bus.spooledCount, 1);
      assert.equal(bus.status().reachable, false);

      const published: TokenUsageRecorded[] = [first];
      for (let n = 0; n < 300; n++) {
        const event = numberedUsageEvent(`user-${n % 6}`, n);
        bus.publish(event);
        published.push(event);
      }
      await bus.flush();
      assert.equal(bus.spooledCount, 301, 'every event waits on disk');
      const waiting = bus.status();
      assert.deepEqual(
        { state: waiting.state, ready: waiting.ready },
        { state: 'spooling', ready: true },
      );
      assert.equal(group.seen.size + view.seen.size, 0);
      // Tried again in the background meanwhile, each try reported.
      await until(() => tries.length >= 3, 'three tries while Kafka is down', 20_000);
      assert.deepEqual([...new Set(tries)], ['failed'], 'no try succeeded while Kafka is down');

      await own.broker.startBroker();
      // More traffic while the bus finds the broker again.
      for (let n = 300; n < 400; n++) {
        const event = numberedUsageEvent(`user-${n % 6}`, n);
        bus.publish(event);
        published.push(event);
      }
      await until(() => bus.spooledCount === 0 && bus.pendingCount === 0, 'the spool to drain');
      await until(
        () => group.seen.size >= published.length && view.seen.size >= published.length,
        'every event at both consumers',
      );
      await new Promise((r) => setTimeout(r, 2_000)); // room for a duplicate to show

      for (const [name, seen] of [
        ['group', group.seen],
        ['view', view.seen],
      ] as const) {
        assert.equal(seen.size, published.length, `${name}: nothing lost, nothing extra`);
        for (const event of published) assert.equal(seen.get(event.eventId), 1, `${name}: once`);
      }
      await until(() => bus.status().state === 'connected', 'the bus connected');
      assert.equal(bus.status().reachable, true);
      assert.equal(tries.at(-1), 'connected');
      assert.equal(tries.filter((outcome) => outcome === 'connected').length, 1);
    } finally {
      await bus.close();
    }
  },
);
