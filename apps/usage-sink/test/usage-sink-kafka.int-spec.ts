// The usage-sink service end to end through real Kafka into real ClickHouse: the split
// data plane (ingress, router, provider-adapter) publishes every request's events, the
// sink consumes them as its own process, and is SIGKILLed mid-consumption and restarted.
// Whatever Kafka redelivers, ClickHouse must hold exactly one row per served request, in
// the raw tables, the rollups and the analytics API.
//
// The split services rather than the all-in-one gateway: the gateway always runs its own
// sink (openUsageAnalytics, group "usage-sink") and with KAFKA_BROKERS it would join the
// same group and take partitions (into its own store) away from the sink under test.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { ClickHouseClient } from '@clickhouse/client';
import {
  createClickHouseClient,
  createKafka,
  prepareEventTopics,
  sqlIdentifier,
  sqlString,
} from '@aigw/infra';
import { metricSum, startClickHouse, startKafka, type RealService } from '@aigw/testing';
import { startAdapterAndRouter, startApp, type AppProcess } from '@aigw/testing/processes';
import { SINK_TOPICS, USAGE_SINK_GROUP } from '@aigw/usage-sink';

type KafkaAdmin = ReturnType<ReturnType<typeof createKafka>['admin']>;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const HOUR_MS = 3_600_000;

/** What ClickHouse holds for one user, raw and rolled up. */
interface Counts {
  usageFinal: number;
  usageRows: number;
  usageEventIds: number;
  usageRequestIds: number;
  completedFinal: number;
  completedRows: number;
  acceptedFinal: number;
  acceptedRows: number;
  usageHourly: number;
  usageDaily: number;
  requestsHourly: number;
  latencyHourly: number;
  rawInputTokens: number;
  rollupInputTokens: number;
  rawOutputTokens: number;
  rollupOutputTokens: number;
}

describe('usage-sink through real Kafka: one ClickHouse row per served request', () => {
  let kafka: RealService;
  let clickhouse: RealService;
  let admin: ClickHouseClient;
  let ch: ClickHouseClient;
  let kafkaAdmin: KafkaAdmin;
  const dataPlane: AppProcess[] = [];
  let ingress: AppProcess;
  let sink: AppProcess | undefined;
  let sinkRuns = 0;

  const dir = mkdtempSync(join(tmpdir(), 'aigw-sink-kafka-'));
  const prefix = `it.sink.${randomUUID().slice(0, 8)}.`;
  const database = sqlIdentifier(`it_sinkkafka_${randomUUID().replace(/-/g, '').slice(0, 12)}`);
  const groupId = `${prefix}${USAGE_SINK_GROUP}`;
  const topics = SINK_TOPICS.map((topic) => `${prefix}${topic}`);
  const user = `sink-user-${randomUUID()}`;
  const startedAt = Date.now();
  /** x-request-id of every request answered 200, in the order they finished. */
  const served: string[] = [];
  let env: Record<string, string>;

  before(async () => {
    [kafka, clickhouse] = await Promise.all([startKafka(), startClickHouse()]);
    await prepareEventTopics(kafka.url, { prefix, partitions: 3 });
    admin = createClickHouseClient({ url: clickhouse.url });
    await admin.command({ query: `CREATE DATABASE ${database}` });
    ch = createClickHouseClient({ url: clickhouse.url, database });
    kafkaAdmin = createKafka({ clientId: 'aigw-sink-test', brokers: kafka.url }).admin();
    await kafkaAdmin.connect();

    writeFileSync(
      join(dir, 'config.yaml'),
      `kind: AIGatewayRoute
metadata: {name: sink}
spec:
  backends:
  - {name: local, provider: local, model: gpt-4o-mini}
  userIdentification: {header: x-user-id}
`,
    );
    env = {
      AI_GATEWAY_CONFIG: join(dir, 'config.yaml'),
      KAFKA_BROKERS: kafka.url,
      AI_GATEWAY_KAFKA_TOPIC_PREFIX: prefix,
    };
    const router = await startAdapterAndRouter(env, dir, dataPlane);
    ingress = await startApp('ingress', {
      ...env,
      AI_GATEWAY_DATA_DIR: join(dir, 'ingress'),
      ROUTER_URL: router.baseUrl,
    });
    dataPlane.push(ingress);
  });

  after(async () => {
    await Promise.all([sink?.stop(), ...dataPlane.map((app) => app.stop())]);
    await kafkaAdmin?.disconnect();
    await ch?.close();
    await admin?.command({ query: `DROP DATABASE IF EXISTS ${database}` });
    await admin?.close();
    await Promise.all([kafka?.stop(), clickhouse?.stop()]);
  });

  // Small, quick batches: many writes and commits, so a kill lands between some of them.
  const startSink = async (): Promise<AppProcess> => {
    sinkRuns++;
    return startApp(
      'usage-sink',
      {
        ...env,
        CLICKHOUSE_URL: clickhouse.url,
        CLICKHOUSE_DATABASE: database,
        AI_GATEWAY_DATA_DIR: join(dir, `sink-${sinkRuns}`),
        USAGE_SINK_BATCH_SIZE: '5',
        USAGE_SINK_FLUSH_MS: '200',
      },
      90_000,
    );
  };

  async function chat(i: number, stream: boolean): Promise<string> {
    const response = await fetch(`${ingress.baseUrl}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-user-id': user },
      // A distinct prompt per request: nothing could be answered from another.
      body: JSON.stringify({
        model: 'gpt-4o-mini',
        messages: [{ role: 'user', content: `question number ${i}` }],
        max_tokens: 16,
        ...(stream ? { stream: true, stream_options: { include_usage: true } } : {}),
      }),
    });
    const body = await response.text();
    assert.equal(response.status, 200, body);
    if (stream) assert.match(body, /data: \[DONE\]\s*$/);
    const requestId = response.headers.get('x-request-id');
    assert.ok(requestId, 'every answer carries x-request-id');
    return requestId;
  }

  /** Requests `from` .. `from + count - 1`, every fourth streamed, a few at a time. */
  async function serve(from: number, count: number, concurrency = 3): Promise<string[]> {
    const ids: string[] = [];
    let next = from;
    const worker = async () => {
      while (next < from + count) {
        const i = next++;
        ids.push(await chat(i, i % 4 === 0));
      }
    };
    await Promise.all(Array.from({ length: concurrency }, worker));
    return ids;
  }

  async function rows<T>(query: string): Promise<T[]> {
    return (await ch.query({ query, format: 'JSONEachRow' })).json<T>();
  }
  async function one(query: string): Promise<Record<string, string | number>> {
    const [row] = await rows<Record<string, string | number>>(query);
    assert.ok(row, query);
    return row;
  }

  const who = `user_id = ${sqlString(user)}`;

  async function counts(): Promise<Counts> {
    const usageFinal = await one(
      `SELECT count() AS n, sum(input_tokens) AS tin, sum(output_tokens) AS tout
       FROM usage_events FINAL WHERE ${who}`,
    );
    const usage = await one(
      `SELECT count() AS n, uniqExact(event_id) AS ids, uniqExact(request_id) AS requests
       FROM usage_events WHERE ${who}`,
    );
    const completedFinal = await one(
      `SELECT count() AS n FROM request_completed_events FINAL WHERE ${who}`,
    );
    const completed = await one(`SELECT count() AS n FROM request_completed_events WHERE ${who}`);
    const acceptedFinal = await one(
      `SELECT count() AS n FROM request_accepted_events FINAL WHERE ${who}`,
    );
    const accepted = await one(`SELECT count() AS n FROM request_accepted_events WHERE ${who}`);
    const hourly = await one(
      `SELECT sum(requests) AS n, sum(tokens_in) AS tin, sum(tokens_out) AS tout
       FROM usage_hourly WHERE ${who}`,
    );
    const daily = await one(`SELECT sum(requests) AS n FROM usage_daily WHERE ${who}`);
    const requestsHourly = await one(`SELECT sum(requests) AS n FROM requests_hourly WHERE ${who}`);
    const latency = await one(`SELECT countMerge(requests) AS n FROM latency_hourly WHERE ${who}`);
    return {
      usageFinal: Number(usageFinal.n),
      usageRows: Number(usage.n),
      usageEventIds: Number(usage.ids),
      usageRequestIds: Number(usage.requests),
      completedFinal: Number(completedFinal.n),
      completedRows: Number(completed.n),
      acceptedFinal: Number(acceptedFinal.n),
      acceptedRows: Number(accepted.n),
      usageHourly: Number(hourly.n),
      usageDaily: Number(daily.n),
      requestsHourly: Number(requestsHourly.n),
      latencyHourly: Number(latency.n),
      rawInputTokens: Number(usageFinal.tin),
      rollupInputTokens: Number(hourly.tin),
      rawOutputTokens: Number(usageFinal.tout),
      rollupOutputTokens: Number(hourly.tout),
    };
  }

  /** Committed offset and high watermark of the sink's group, summed over its topics. */
  async function groupPosition(): Promise<{ committed: number; end: number; behind: number }> {
    let committed = 0;
    let end = 0;
    let behind = 0;
    const offsets = await kafkaAdmin.fetchOffsets({ groupId, topics });
    for (const topic of topics) {
      const highs = await kafkaAdmin.fetchTopicOffsets(topic);
      const mine = offsets.find((o) => o.topic === topic)?.partitions ?? [];
      for (const { partition, high } of highs) {
        const at = Math.max(0, Number(mine.find((p) => p.partition === partition)?.offset ?? -1));
        committed += at;
        end += Number(high);
        behind += Math.max(0, Number(high) - at);
      }
    }
    return { committed, end, behind };
  }

  /**
   * Waits until ClickHouse holds at least `expected` requests of the user in every raw
   * table and the sink's group has committed everything in its topics (so nothing more
   * is on its way), then answers what is stored. Failing to settle is a lost event.
   */
  async function settle(expected: number): Promise<Counts> {
    const deadline = Date.now() + 180_000;
    let latest = await counts();
    for (;;) {
      const stored =
        latest.usageFinal >= expected &&
        latest.completedFinal >= expected &&
        latest.acceptedFinal >= expected;
      if (stored && (await groupPosition()).behind === 0) return counts();
      if (Date.now() > deadline) {
        assert.fail(
          `not settled at ${expected} served requests: ${JSON.stringify(latest)}, ` +
            `group ${JSON.stringify(await groupPosition())}`,
        );
      }
      await sleep(500);
      latest = await counts();
    }
  }

  async function analytics<T>(path: string): Promise<T> {
    const from = new Date(Math.floor(startedAt / HOUR_MS) * HOUR_MS - HOUR_MS).toISOString();
    const to = new Date(Math.floor(Date.now() / HOUR_MS) * HOUR_MS + 2 * HOUR_MS).toISOString();
    assert.ok(sink, 'the sink is running');
    const query = new URLSearchParams({ user, from, to });
    const response = await fetch(`${sink.baseUrl}/v1/analytics/${path}?${query.toString()}`);
    const body = await response.text();
    assert.equal(response.status, 200, body);
    return JSON.parse(body) as T;
  }

  /** Every count is exactly the served requests, and the stored ids are theirs. */
  async function assertExactlyServed(stored: Counts): Promise<void> {
    const n = served.length;
    assert.equal(new Set(served).size, n, 'the ingress gave every request its own id');
    assert.deepEqual(
      {
        usageFinal: stored.usageFinal,
        usageRows: stored.usageRows,
        usageEventIds: stored.usageEventIds,
        usageRequestIds: stored.usageRequestIds,
        completedFinal: stored.completedFinal,
        completedRows: stored.completedRows,
        acceptedFinal: stored.acceptedFinal,
        acceptedRows: stored.acceptedRows,
        usageHourly: stored.usageHourly,
        usageDaily: stored.usageDaily,
        requestsHourly: stored.requestsHourly,
        latencyHourly: stored.latencyHourly,
      },
      {
        usageFinal: n,
        // Without FINAL too: the writer never inserts an id the table holds, which is
        // what keeps the rollup views (fed by every insert) exact.
        usageRows: n,
        usageEventIds: n,
        usageRequestIds: n,
        completedFinal: n,
        completedRows: n,
        acceptedFinal: n,
        acceptedRows: n,
        usageHourly: n,
        usageDaily: n,
        requestsHourly: n,
        latencyHourly: n,
      },
    );
    assert.ok(stored.rawInputTokens > 0 && stored.rawOutputTokens > 0, JSON.stringify(stored));
    assert.equal(stored.rollupInputTokens, stored.rawInputTokens);
    assert.equal(stored.rollupOutputTokens, stored.rawOutputTokens);

    // The very requests served, no others: by request id in both raw tables.
    for (const table of ['usage_events', 'request_completed_events']) {
      const ids = await rows<{ request_id: string }>(
        `SELECT DISTINCT request_id FROM ${table} FINAL WHERE ${who}`,
      );
      assert.deepEqual(ids.map((r) => r.request_id).sort(), [...served].sort(), table);
    }

    const usage = await analytics<{ totals: { requests: number; inputTokens: number } }>('usage');
    assert.equal(usage.totals.requests, n);
    assert.equal(usage.totals.inputTokens, stored.rawInputTokens);
    const rates = await analytics<{ requests: number }>('rates');
    assert.equal(rates.requests, n);
  }

  it('stores each request once when the sink is SIGKILLed mid-consumption and restarted', async () => {
    sink = await startSink();
    // Bursts of requests until the sink has written some of them but not all: it is
    // consuming, and that is when it dies.
    const deadline = Date.now() + 120_000;
    let atKill: Counts | undefined;
    while (!atKill) {
      served.push(...(await serve(served.length, 4)));
      const now = await counts();
      if (now.usageRows > 0 && now.usageRows < served.length) atKill = now;
      else assert.ok(Date.now() < deadline, `never caught the sink mid-way: ${now.usageRows}`);
    }
    const servedAtKill = served.length;
    await sink.stop('SIGKILL');
    sink = undefined;
    // The rest of the first 40, and 20 more, while no sink runs: they wait in Kafka.
    served.push(...(await serve(served.length, Math.max(0, 40 - served.length) + 20)));
    const whileDown = await counts();

    sink = await startSink();
    const stored = await settle(served.length);
    process.stdout.write(
      `# SIGKILL with ${atKill.usageRows} of ${servedAtKill} served requests' usage rows ` +
        `stored (${whileDown.usageRows} once inserts in flight landed); served ` +
        `${served.length} in all; after restart: ${JSON.stringify(stored)}\n`,
    );
    await assertExactlyServed(stored);
  });

  it('stores nothing twice when a restart redelivers every event from the start', async () => {
    assert.ok(sink, 'the sink from the previous test runs');
    await sink.stop('SIGKILL');
    sink = undefined;
    // The killed member leaves the group only when its session times out (10 s).
    const deadline = Date.now() + 60_000;
    for (;;) {
      const { groups } = await kafkaAdmin.describeGroups([groupId]);
      if (groups[0]?.state === 'Empty' || groups[0]?.state === 'Dead') break;
      assert.ok(Date.now() < deadline, `group still ${groups[0]?.state}`);
      await sleep(500);
    }
    // Lose every committed offset: the restarted sink reads all topics from the start
    // (as after a lost commit, but for every event already stored).
    await kafkaAdmin.deleteGroups([groupId]);
    const reset = await groupPosition();
    assert.equal(reset.committed, 0);
    assert.ok(reset.end >= 3 * served.length, JSON.stringify(reset));
    served.push(...(await serve(served.length, 10)));

    sink = await startSink();
    const stored = await settle(served.length);
    const position = await groupPosition();
    process.stdout.write(
      `# redelivered ${position.committed} messages from offset 0; served ` +
        `${served.length}; stored ${JSON.stringify(stored)}\n`,
    );
    // Consumed again from offset 0 up to the end: every stored event came a second time.
    assert.equal(position.committed, position.end);
    await assertExactlyServed(stored);

    // The sink reports its lag per partition it consumed: 0 everywhere once caught up
    // (the gauge is set just after each commit, so it may trail the commit briefly).
    const lagDeadline = Date.now() + 30_000;
    for (;;) {
      const metrics = await (await fetch(`http://127.0.0.1:${sink.adminPort}/metrics`)).text();
      assert.match(metrics, /^ai_gateway_kafka_consumer_lag\{group="usage-sink",/m);
      const lag = metricSum(metrics, 'ai_gateway_kafka_consumer_lag', { group: 'usage-sink' });
      if (lag === 0) break;
      assert.ok(Date.now() < lagDeadline, `the sink still reports a lag of ${lag}`);
      await sleep(200);
    }
  });
});
