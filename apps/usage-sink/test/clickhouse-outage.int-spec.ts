// The usage-sink service while ClickHouse is unreachable (real Kafka, real ClickHouse behind
// a proxy the test cuts): ClickHouse is a dependency every replica shares, so the pod stays
// ready (failing it took every sink pod out at once and stalled rollouts), and reports it on
// /readyz (checks, failing, notGating) and ai_gateway_dependency_reachable. The events that
// arrive meanwhile are not lost: their writes fail, the deliveries stay uncommitted and are
// retried, and every one is stored once ClickHouse is back.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { ClickHouseClient } from '@clickhouse/client';
import {
  createClickHouseClient,
  createKafka,
  EventSpool,
  KafkaEventBus,
  prepareEventTopics,
  sqlIdentifier,
  sqlString,
} from '@aigw/infra';
import {
  CuttableProxy,
  metricSum,
  numberedUsageEvent,
  startClickHouse,
  startKafka,
  until,
  type RealService,
} from '@aigw/testing';
import { startApp, type AppProcess } from '@aigw/testing/processes';

interface Readyz {
  checks: Record<string, string>;
  notGating: string[];
  failing: string[];
}

describe('usage-sink while ClickHouse is unreachable', () => {
  let kafka: RealService;
  let clickhouse: RealService;
  let admin: ClickHouseClient;
  let proxy: CuttableProxy;
  let sink: AppProcess | undefined;
  let bus: KafkaEventBus | undefined;
  const dir = mkdtempSync(join(tmpdir(), 'aigw-sink-ch-outage-'));
  const prefix = `it.choutage.${randomUUID().slice(0, 8)}.`;
  const database = sqlIdentifier(`it_choutage_${randomUUID().replace(/-/g, '').slice(0, 12)}`);
  const user = `outage-user-${randomUUID()}`;

  before(async () => {
    [kafka, clickhouse] = await Promise.all([startKafka(), startClickHouse()]);
    await prepareEventTopics(kafka.url, { prefix, partitions: 3 });
    admin = createClickHouseClient({ url: clickhouse.url });
    await admin.command({ query: `CREATE DATABASE ${database}` });
    proxy = new CuttableProxy(new URL(clickhouse.url));
    await proxy.open();
    writeFileSync(
      join(dir, 'config.yaml'),
      `kind: AIGatewayRoute
metadata: {name: sink}
spec:
  backends:
  - {name: local, provider: local, model: gpt-4o-mini}
`,
    );
    sink = await startApp(
      'usage-sink',
      {
        AI_GATEWAY_CONFIG: join(dir, 'config.yaml'),
        KAFKA_BROKERS: kafka.url,
        AI_GATEWAY_KAFKA_TOPIC_PREFIX: prefix,
        CLICKHOUSE_URL: `http://127.0.0.1:${proxy.port}`,
        CLICKHOUSE_DATABASE: database,
        AI_GATEWAY_DATA_DIR: join(dir, 'sink'),
        USAGE_SINK_BATCH_SIZE: '5',
        USAGE_SINK_FLUSH_MS: '200',
      },
      90_000,
    );
  });

  after(async () => {
    await sink?.stop();
    await bus?.close();
    await proxy?.cut();
    await admin?.command({ query: `DROP DATABASE IF EXISTS ${database}` });
    await admin?.close();
    await Promise.all([kafka?.stop(), clickhouse?.stop()]);
    rmSync(dir, { recursive: true, force: true });
  });

  const readyz = async () => {
    const response = await fetch(`http://127.0.0.1:${sink!.adminPort}/readyz`);
    return { status: response.status, body: (await response.json()) as Readyz };
  };
  const metric = async (name: string, labels: Record<string, string> = {}) =>
    metricSum(
      await (await fetch(`http://127.0.0.1:${sink!.adminPort}/stats/prometheus`)).text(),
      name,
      labels,
    );
  const stored = async () => {
    const [row] = await (
      await admin.query({
        query: `SELECT uniqExact(event_id) AS n FROM ${database}.usage_events WHERE user_id = ${sqlString(user)}`,
        format: 'JSONEachRow',
      })
    ).json<{ n: string | number }>();
    return Number(row?.n ?? 0);
  };

  it('stays ready and reports ClickHouse down, then stores every event that came meanwhile', async () => {
    const before = await readyz();
    assert.equal(before.status, 200);
    assert.equal(before.body.checks.clickhouse, 'reachable');

    await proxy.cut();
    const down = await readyz();
    assert.equal(down.status, 200, `ready with ClickHouse down: ${JSON.stringify(down.body)}`);
    assert.equal(down.body.checks.clickhouse, 'unreachable');
    assert.ok(down.body.notGating.includes('clickhouse'), JSON.stringify(down.body));
    assert.ok(down.body.failing.includes('clickhouse'), JSON.stringify(down.body));
    assert.equal(await metric('ai_gateway_dependency_reachable', { dependency: 'clickhouse' }), 0);

    const events = Array.from({ length: 12 }, (_, n) => numberedUsageEvent(user, n));
    bus = new KafkaEventBus(createKafka({ clientId: 'aigw-ch-outage-test', brokers: kafka.url }), {
      spool: new EventSpool(join(dir, 'publisher-spool.db')),
      topicPrefix: prefix,
    });
    await bus.start();
    events.forEach((event) => bus!.publish(event));
    await bus.flush();
    // Consumed, and the writes fail (retried, not committed, nothing dead-lettered).
    await until(
      'the sink to fail writing them',
      async () => (await metric('ai_gateway_usage_sink_write_failures_total')) >= 2,
      { deadlineMs: 60_000 },
    );
    assert.equal(await stored(), 0);
    assert.equal((await readyz()).status, 200);

    await proxy.open();
    await until('every event to be stored', async () => (await stored()) === events.length, {
      deadlineMs: 90_000,
    });
    const back = await readyz();
    assert.equal(back.status, 200);
    assert.equal(back.body.checks.clickhouse, 'reachable');
    assert.deepEqual(back.body.failing, []);
    assert.equal(await metric('ai_gateway_dependency_reachable', { dependency: 'clickhouse' }), 1);
    assert.equal(await metric('ai_gateway_event_handler_dead_lettered_total'), 0);
  });
});
