// The usage sink under Kafka churn, on a broker of this suite's own and the run's real
// ClickHouse: a second sink replica joins the group mid-stream, the broker is stopped and
// started while events flow (the producer spooling, both sinks mid-write), and the first
// replica leaves mid-stream. At the end every event is stored once: in the raw table and
// in the rollups the analytics API reads (which a second insert would count twice).
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { ClickHouseClient } from '@clickhouse/client';
import {
  createClickHouseClient,
  createKafka,
  EventSpool,
  KafkaEventBus,
  migrate,
  sqlIdentifier,
} from '@aigw/infra';
import {
  engineSkipReason,
  numberedUsageEvent,
  startClickHouse,
  startRestartableKafka,
  until,
  type RealService,
  type RestartableKafka,
} from '@aigw/testing';
import { ClickHouseUsageWriter } from './clickhouse/clickhouse-usage.writer';
import { UsageSinkConsumer } from './usage-sink.consumer';

const skip = engineSkipReason('a Kafka broker of its own to stop and restart');
const USERS = 8;

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('the usage sink under Kafka churn (own broker, real ClickHouse)', { skip }, () => {
  let kafka: RestartableKafka;
  let clickhouse: RealService;
  let root: ClickHouseClient;
  const clients: ClickHouseClient[] = [];
  /** Every bus opened, closed after the file whatever its outcome (a close is idempotent). */
  const buses: KafkaEventBus[] = [];
  const dir = mkdtempSync(join(tmpdir(), 'aigw-sink-churn-'));
  const run = randomUUID().replace(/-/g, '').slice(0, 12);
  const database = sqlIdentifier(`it_sink_churn_${run}`);
  const prefix = `it.sink-churn.${run}.`;

  before(async () => {
    [kafka, clickhouse] = await Promise.all([startRestartableKafka(), startClickHouse()]);
    root = createClickHouseClient({ url: clickhouse.url });
    await root.command({ query: `CREATE DATABASE ${database}` });
    await migrate(client());
  });
  after(async () => {
    await Promise.allSettled(buses.map((bus) => bus.close()));
    await root?.command({ query: `DROP DATABASE IF EXISTS ${database}` }).catch(() => undefined);
    await Promise.allSettled([...clients, root].map((c) => c?.close()));
    await Promise.allSettled([kafka?.stop(), clickhouse?.stop()]);
    rmSync(dir, { recursive: true, force: true });
  });

  function client(): ClickHouseClient {
    const opened = createClickHouseClient({ url: clickhouse.url, database });
    clients.push(opened);
    return opened;
  }

  /** A bus as a service opens it: its own client (a process of its own) and spool. */
  function openBus(name: string): KafkaEventBus {
    const kafkaClient = createKafka({
      clientId: `sink-churn-${name}`,
      brokers: kafka.url,
      config: { retry: { initialRetryTime: 300, maxRetryTime: 5_000, retries: 8 } },
    });
    const bus = new KafkaEventBus(kafkaClient, {
      spool: new EventSpool(join(dir, `${name}.db`)),
      topicPrefix: prefix,
      retryMinMs: 200,
      retryMaxMs: 2_000,
    });
    buses.push(bus);
    return bus;
  }

  /** A usage-sink replica: its own bus, ClickHouse client and batcher; counts deliveries. */
  async function sinkReplica(name: string) {
    const bus = openBus(name);
    await bus.start({ topicPartitions: 6 });
    const sink = new UsageSinkConsumer(new ClickHouseUsageWriter(client()), {
      maxItems: 1_000,
      maxWaitMs: 500,
    });
    const replica = {
      bus,
      delivered: 0,
      // As the service stops: the bus hands back what it holds, then the batcher writes.
      stop: async () => {
        await bus.close();
        await sink.drain();
      },
    };
    await bus.subscribe({
      group: sink.group,
      topics: sink.topics,
      concurrentPartitions: sink.concurrentPartitions,
      handle: async (events) => {
        await sink.handle(events);
        replica.delivered += events.length;
      },
    });
    return replica;
  }

  async function count(query: string): Promise<number> {
    const result = await root.query({ query, format: 'JSONEachRow' });
    const [row] = await result.json<{ n: string | number }>();
    return Number(row?.n ?? 0);
  }

  it('stores every event once through a join, a broker restart and a leave', async () => {
    const publisher = openBus('ingress');
    await publisher.start({ topicPartitions: 6 });
    let n = 0;
    const load = setInterval(() => {
      for (let i = 0; i < 4; i++, n++) {
        publisher.publish(numberedUsageEvent(`sink-churn-${run}-${n % USERS}`, n));
      }
    }, 15);
    const a = await sinkReplica('sink-a');
    let b: Awaited<ReturnType<typeof sinkReplica>> | undefined;
    try {
      await until('events stored before the join', () => a.delivered > 100, {
        deadlineMs: 120_000,
      });
      b = await sinkReplica('sink-b');
      const beforeStop = a.delivered + b.delivered;
      await until(
        'events stored after the join',
        () => a.delivered + b!.delivered > beforeStop + 100,
        { deadlineMs: 120_000 },
      );
      await kafka.stopBroker();
      await pause(3_000); // events keep coming: they wait in the producer's spool
      await kafka.startBroker();
      const afterRestart = a.delivered + b.delivered;
      await until(
        'events stored after the restart',
        () => a.delivered + b!.delivered > afterRestart + 100,
        { deadlineMs: 180_000 },
      );
      await a.stop(); // the first replica leaves mid-stream
      const afterLeave = b.delivered;
      await until('the second replica stores alone', () => b!.delivered > afterLeave + 100, {
        deadlineMs: 120_000,
      });
    } finally {
      clearInterval(load);
    }
    await publisher.flush();
    await until('the producer spool is empty', () => publisher.spooledCount === 0, {
      deadlineMs: 120_000,
    });
    const users = `user_id LIKE 'sink-churn-${run}-%'`;
    await until(
      'every event stored',
      async () => (await count(`SELECT count() AS n FROM ${database}.usage_events FINAL`)) >= n,
      { deadlineMs: 180_000 },
    );
    await pause(2_000); // anything still on its way lands before the counts
    assert.equal(
      await count(`SELECT count() AS n FROM ${database}.usage_events FINAL`),
      n,
      'one raw row per event',
    );
    assert.equal(
      await count(`SELECT sum(requests) AS n FROM ${database}.usage_hourly WHERE ${users}`),
      n,
      'the hourly rollup counts each event once',
    );
    assert.equal(
      await count(`SELECT sum(requests) AS n FROM ${database}.usage_daily WHERE ${users}`),
      n,
      'the daily rollup counts each event once',
    );
    console.log(
      `sink churn: ${n} events, ${a.delivered + (b?.delivered ?? 0)} delivered ` +
        `(${a.delivered + (b?.delivered ?? 0) - n} redelivered)`,
    );
    await Promise.allSettled([b?.stop(), publisher.close()]);
  });
});
