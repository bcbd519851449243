// The usage sink on the Kafka bus of the split deployment, against the real broker of the
// run: deliveries of many partitions share the sink's batched writes.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, it } from 'node:test';
import { type GatewayEvent } from '@aigw/contracts';
import { createKafka, EventSpool, KafkaEventBus } from '@aigw/infra';
import { numberedUsageEvent, startKafka, type RealService } from '@aigw/testing';
import { SqliteUsageStore } from './embedded/sqlite-usage.store';
import { UsageSinkConsumer } from './usage-sink.consumer';

let broker: RealService;
const dir = mkdtempSync(join(tmpdir(), 'aigw-sink-kafka-'));
const closers: (() => Promise<void> | void)[] = [];

before(async () => {
  broker = await startKafka();
});
after(async () => {
  for (const close of closers.reverse()) await close();
  await broker?.stop();
  rmSync(dir, { recursive: true, force: true });
});

it('keeps up with events spread over many partitions: their deliveries share one write', async () => {
  const kafka = createKafka({ clientId: 'usage-sink-kafka-int-spec', brokers: broker.url });
  const bus = new KafkaEventBus(kafka, {
    spool: new EventSpool(join(dir, 'spool.db')),
    topicPrefix: `it.sink.${randomUUID().slice(0, 8)}.`,
  });
  closers.push(() => bus.close());
  await bus.start({ topicPartitions: 24 });

  // Many users' usage: spread over the topic's 24 partitions, a few hundred events each.
  const events: GatewayEvent[] = Array.from({ length: 2_400 }, (_, n) =>
    numberedUsageEvent(`sink-user-${n % 96}`, n),
  );
  events.forEach((e) => bus.publish(e));
  await bus.flush();

  const store = new SqliteUsageStore(join(dir, 'analytics.db'));
  closers.push(() => store.close());
  const writes: number[] = [];
  // The split usage-sink's batching: up to 1000 events per write, or what waited 1 s.
  const sink = new UsageSinkConsumer(
    {
      write: async (batch) => {
        await store.write(batch);
        writes.push(batch.length);
      },
    },
    { maxItems: 1_000, maxWaitMs: 1_000 },
  );
  await bus.subscribe(sink); // resolves once the group is joined
  const started = Date.now();
  const deadline = started + 60_000;
  let stored = 0;
  while ((stored = writes.reduce((a, b) => a + b, 0)) < events.length && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 50));
  }
  const tookMs = Date.now() - started;
  assert.equal(stored, events.length);
  // One partition's delivery at a time, each waiting out the 1 s for company that could not
  // come, took 25 to 60 s here in one write per partition: behind any steady load for good.
  assert.ok(tookMs < 15_000, `took ${tookMs} ms in ${writes.length} writes`);
  assert.ok(writes.length <= 12, `${writes.length} writes for ${events.length} events`);
});
