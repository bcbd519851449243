// The consumer side's supervision against stand-in kafkajs consumers: one kafkajs gives up
// on, and one that goes quiet, are replaced by fresh ones that go on delivering, from the
// committed offsets of a group or from where a view had read. The real broker is in
// kafka-event-bus.int-spec.ts and kafka-outage.int-spec.ts.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { Topic, type TokenUsageRecorded } from '@aigw/contracts';
import { numberedUsageEvent } from '@aigw/testing';
import { type KafkaEventBus, type KafkaEventBusOptions } from './kafka-event-bus';
import { busOnFakeKafka, EVENTS, FakeKafka, pollUntil } from '../testing/fake-kafka-consumer';

const dir = mkdtempSync(join(tmpdir(), 'aigw-bus-consumers-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const busOn = (kafka: FakeKafka, options: Partial<KafkaEventBusOptions> = {}): KafkaEventBus =>
  busOnFakeKafka(kafka, dir, options);

describe('KafkaEventBus consumers', () => {
  it('subscribed before Kafka ever answered: no consumer until it does, then one that delivers', async () => {
    const kafka = new FakeKafka();
    kafka.down = true;
    const bus = busOn(kafka, { consumerStallMs: 50 });
    const started = await bus.start({ createTopics: false, whileUnreachable: 'spool' });
    assert.equal(started.connected, false);
    const handled: number[] = [];
    await bus.subscribe({
      group: 'budget-state-view',
      ephemeral: true,
      topics: [Topic.UsageRecorded],
      handle: async (events) => {
        for (const e of events as TokenUsageRecorded[]) handled.push(e.inputTokens);
      },
    });
    await new Promise((r) => setTimeout(r, 200)); // past the stall limit: not a stall
    assert.equal(kafka.consumers.length, 0, 'no consumer while Kafka does not answer');
    assert.equal(bus.status().ready, true);

    kafka.down = false;
    await pollUntil(() => kafka.consumers.length === 1, 'the consumer started once Kafka answered');
    const consumer = kafka.current;
    assert.match(consumer.groupId, /^budget-state-view\.view\./);
    await pollUntil(() => bus.status().state === 'connected', 'fetching');
    await consumer.deliver(Topic.UsageRecorded, 0, 0, [numberedUsageEvent('u', 1)]);
    assert.deepEqual(handled, [1]);
    await bus.close();
    assert.equal(consumer.disconnected, true);
    assert.equal(kafka.consumers.length, 1, 'started once, never replaced');
  });

  it('closed before Kafka ever answered: no consumer is ever made', async () => {
    const kafka = new FakeKafka();
    kafka.down = true;
    const bus = busOn(kafka);
    await bus.start({ createTopics: false, whileUnreachable: 'spool' });
    await bus.subscribe({ group: 'g', topics: [Topic.UsageRecorded], handle: async () => {} });
    await bus.close();
    kafka.down = false;
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(kafka.consumers.length, 0);
  });

  it('replaces a consumer kafkajs gave up on, and the fresh one delivers', async () => {
    const kafka = new FakeKafka();
    const replaced: { group: string; reason: string }[] = [];
    const handled: number[] = [];
    const bus = busOn(kafka, { observer: { consumerReplaced: (l) => replaced.push(l) } });
    await bus.subscribe({
      group: 'budget',
      topics: [Topic.UsageRecorded],
      handle: async (events) => {
        for (const e of events as TokenUsageRecorded[]) handled.push(e.inputTokens);
      },
    });
    const first = kafka.current;
    first.alive = false;
    first.emit(EVENTS.CRASH, { error: new Error('not retriable'), restart: false });
    assert.equal(bus.status().state, 'unreachable');

    await pollUntil(() => kafka.consumers.length === 2, 'a fresh consumer');
    assert.equal(first.disconnected, true);
    const second = kafka.current;
    assert.equal(second.groupId, 'budget', 'the same group: it resumes at the committed offsets');
    await second.deliver(Topic.UsageRecorded, 0, 7, [
      numberedUsageEvent('u', 1),
      numberedUsageEvent('u', 2),
    ]);
    assert.deepEqual(handled, [1, 2]);
    assert.deepEqual(second.commits, [{ topic: Topic.UsageRecorded, partition: 0, offset: '9' }]);
    assert.deepEqual(replaced, [{ group: 'budget', reason: 'crashed' }]);
    await pollUntil(() => bus.status().state === 'connected', 'fetching again');
    await bus.close();
  });

  it("tells a subscriber when its group rebalances, and survives the subscriber's failure", async () => {
    const kafka = new FakeKafka();
    let rebalances = 0;
    const bus = busOn(kafka);
    await bus.subscribe({
      group: 'budget',
      topics: [Topic.UsageRecorded],
      handle: async () => {},
      onRebalance: () => {
        rebalances++;
        if (rebalances === 2) throw new Error('hand-over failed');
      },
    });
    kafka.current.emit(EVENTS.REBALANCING, { groupId: 'budget' });
    assert.equal(rebalances, 1);
    kafka.current.emit(EVENTS.REBALANCING, { groupId: 'budget' });
    assert.equal(rebalances, 2, 'a failing hand-over is logged, not thrown into kafkajs');
    await bus.subscribe({ group: 'sink', topics: [Topic.UsageRecorded], handle: async () => {} });
    kafka.current.emit(EVENTS.REBALANCING, { groupId: 'sink' });
    assert.equal(rebalances, 2, 'a subscriber without the hook is left alone');
    await bus.close();
  });

  it('leaves a consumer kafkajs restarts by itself to kafkajs', async () => {
    const kafka = new FakeKafka();
    const replaced: unknown[] = [];
    const bus = busOn(kafka, { observer: { consumerReplaced: (l) => replaced.push(l) } });
    await bus.subscribe({ group: 'sink', topics: [Topic.UsageRecorded], handle: async () => {} });
    kafka.current.emit(EVENTS.CRASH, { error: new Error('broker gone'), restart: true });
    await new Promise((r) => setTimeout(r, 400)); // past the stall bound; it keeps fetching
    assert.equal(kafka.consumers.length, 1);
    assert.deepEqual(replaced, []);
    await bus.close();
  });

  it('replaces a consumer that went quiet; a view resumes where it had read', async () => {
    const kafka = new FakeKafka();
    const replaced: { group: string; reason: string }[] = [];
    const warnings: string[] = [];
    const bus = busOn(kafka, {
      observer: { consumerReplaced: (l) => replaced.push(l) },
      logger: { info: () => undefined, warn: (m) => warnings.push(m), error: () => undefined },
    });
    await bus.subscribe({
      group: 'ingress-budget-view',
      topics: [Topic.UsageRecorded],
      ephemeral: true,
      handle: async () => {},
    });
    const first = kafka.current;
    await first.deliver(Topic.UsageRecorded, 2, 40, [
      numberedUsageEvent('u', 1),
      numberedUsageEvent('u', 2),
      numberedUsageEvent('u', 3),
    ]);
    first.alive = false; // hangs without a word, as tulios/kafkajs#659 reports

    await pollUntil(() => kafka.consumers.length === 2, 'a fresh consumer');
    assert.deepEqual(replaced, [{ group: 'ingress-budget-view', reason: 'stalled' }]);
    assert.ok(warnings.includes('replacing an event consumer with a fresh one'));
    const second = kafka.current;
    assert.deepEqual(second.seeks, [{ topic: Topic.UsageRecorded, partition: 2, offset: '43' }]);
    assert.deepEqual(first.commits, [], 'a view never commits');
    await new Promise((r) => setTimeout(r, 400)); // the fresh one fetches: left alone
    assert.equal(kafka.consumers.length, 2);
    await bus.close();
  });

  it('does not take a handler retrying a batch for a stall', async () => {
    const kafka = new FakeKafka();
    const replaced: unknown[] = [];
    let release: () => void = () => undefined;
    const bus = busOn(kafka, { observer: { consumerReplaced: (l) => replaced.push(l) } });
    await bus.subscribe({
      group: 'budget',
      topics: [Topic.UsageRecorded],
      handle: () => new Promise<void>((resolve) => (release = resolve)),
    });
    const consumer = kafka.current;
    consumer.alive = false; // kafkajs waits for the handler: no fetch meanwhile
    const delivered = consumer.deliver(Topic.UsageRecorded, 0, 0, [numberedUsageEvent('u', 1)]);
    await new Promise((r) => setTimeout(r, 400));
    assert.deepEqual(replaced, []);
    release();
    await delivered;
    consumer.alive = true;
    await bus.close();
  });

  it('does not take a slow first join for a stall', async () => {
    const kafka = new FakeKafka();
    const replaced: unknown[] = [];
    const bus = busOn(kafka, { observer: { consumerReplaced: (l) => replaced.push(l) } });
    await bus.subscribe({ group: 'budget', topics: [Topic.UsageRecorded], handle: async () => {} });
    kafka.joinAfterMs = 500; // past the 150 ms stall bound, with the watch running
    await bus.subscribe({ group: 'sink', topics: [Topic.UsageRecorded], handle: async () => {} });
    assert.equal(kafka.consumers.length, 2);
    assert.deepEqual(replaced, []);
    await bus.close();
  });

  it('stops replacing once the bus closes', async () => {
    const kafka = new FakeKafka();
    const bus = busOn(kafka);
    await bus.subscribe({ group: 'budget', topics: [Topic.UsageRecorded], handle: async () => {} });
    kafka.current.alive = false;
    await bus.close();
    await new Promise((r) => setTimeout(r, 400));
    assert.equal(kafka.consumers.length, 1);
    assert.equal(kafka.current.disconnected, true);
  });
});
