// payloadLogging in the split deployment: the ingress publishes request.payload events to
// real Kafka, the usage-sink service stores them in real ClickHouse (migration 009) and
// serves them by request id, plain and streamed, with redaction applied at the ingress.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { ClickHouseClient } from '@clickhouse/client';
import { createClickHouseClient, prepareEventTopics, sqlIdentifier } from '@aigw/infra';
import { startClickHouse, startKafka, type RealService } from '@aigw/testing';
import { startAdapterAndRouter, startApp, type AppProcess } from '@aigw/testing/processes';

const ANALYTICS_TOKEN = 'int-analytics-token-payloads';
const ANALYTICS = { headers: { authorization: `Bearer ${ANALYTICS_TOKEN}` } };

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface Payload {
  user: string;
  stream: boolean;
  status: number;
  backend: string | null;
  request: { body: string; truncated: boolean };
  response: { body: string; truncated: boolean };
}

describe('payload logging through real Kafka into ClickHouse (split services)', () => {
  let kafka: RealService;
  let clickhouse: RealService;
  let admin: ClickHouseClient;
  const apps: AppProcess[] = [];
  let ingress: AppProcess;
  let sink: AppProcess;
  const dir = mkdtempSync(join(tmpdir(), 'aigw-payload-kafka-'));
  const prefix = `it.payload.${randomUUID().slice(0, 8)}.`;
  const database = sqlIdentifier(`it_payload_${randomUUID().replace(/-/g, '').slice(0, 12)}`);
  const user = `payload-user-${randomUUID()}`;

  before(async () => {
    [kafka, clickhouse] = await Promise.all([startKafka(), startClickHouse()]);
    await prepareEventTopics(kafka.url, { prefix, partitions: 3 });
    admin = createClickHouseClient({ url: clickhouse.url });
    await admin.command({ query: `CREATE DATABASE ${database}` });
    writeFileSync(
      join(dir, 'config.yaml'),
      `kind: AIGatewayRoute
metadata: {name: logged}
spec:
  backends:
  - {name: local, provider: local, model: gpt-4o-mini}
  userIdentification: {header: x-user-id}
  security:
    promptValidation:
      redact: {detectors: [email]}
  payloadLogging: {enabled: true}
`,
    );
    const env = {
      AI_GATEWAY_CONFIG: join(dir, 'config.yaml'),
      KAFKA_BROKERS: kafka.url,
      AI_GATEWAY_KAFKA_TOPIC_PREFIX: prefix,
    };
    const router = await startAdapterAndRouter(env, dir, apps);
    ingress = await startApp('ingress', {
      ...env,
      AI_GATEWAY_DATA_DIR: join(dir, 'ingress'),
      ROUTER_URL: router.baseUrl,
    });
    apps.push(ingress);
    sink = await startApp(
      'usage-sink',
      {
        ...env,
        CLICKHOUSE_URL: clickhouse.url,
        CLICKHOUSE_DATABASE: database,
        AI_GATEWAY_DATA_DIR: join(dir, 'sink'),
        USAGE_SINK_FLUSH_MS: '100',
        // Logged payloads are served only with it set.
        AI_GATEWAY_ANALYTICS_TOKEN: ANALYTICS_TOKEN,
      },
      90_000,
    );
    apps.push(sink);
  });

  after(async () => {
    await Promise.all(apps.map((app) => app.stop()));
    await admin?.command({ query: `DROP DATABASE IF EXISTS ${database}` });
    await admin?.close();
    await Promise.all([kafka?.stop(), clickhouse?.stop()]);
  });

  async function chat(stream: boolean): Promise<string> {
    const response = await fetch(`${ingress.baseUrl}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-user-id': user },
      body: JSON.stringify({
        model: 'gpt-4o-mini',
        messages: [{ role: 'user', content: `mail jane@example.com (stream ${stream})` }],
        max_tokens: 16,
        ...(stream ? { stream: true } : {}),
      }),
    });
    assert.equal(response.status, 200, await response.text());
    return response.headers.get('x-request-id')!;
  }

  async function payloadOf(requestId: string): Promise<Payload> {
    const deadline = Date.now() + 60_000;
    for (;;) {
      const response = await fetch(
        `${sink.baseUrl}/v1/analytics/requests/${requestId}/payload`,
        ANALYTICS,
      );
      if (response.status === 200) return (await response.json()) as Payload;
      assert.equal(response.status, 404);
      if (Date.now() > deadline) assert.fail(`no payload for ${requestId}`);
      await sleep(250);
    }
  }

  it('a plain and a streamed call are stored in ClickHouse and served by request id', async () => {
    const plain = await payloadOf(await chat(false));
    const streamed = await payloadOf(await chat(true));
    for (const logged of [plain, streamed]) {
      assert.equal(logged.user, user);
      assert.equal(logged.status, 200);
      assert.equal(logged.backend, 'local');
      assert.match(logged.request.body, /mail \[REDACTED:email\]/);
      assert.ok(!logged.request.body.includes('jane@example.com'));
      assert.ok(logged.response.body.length > 0);
    }
    assert.equal(plain.stream, false);
    assert.equal(streamed.stream, true);
    const assembled = JSON.parse(streamed.response.body) as {
      choices: { content: string; finish_reason: string | null }[];
    };
    assert.ok(assembled.choices[0].content.length > 0);
    assert.ok(assembled.choices[0].finish_reason);
    const listed = (await (
      await fetch(
        `${sink.baseUrl}/v1/analytics/payloads?user=${encodeURIComponent(user)}`,
        ANALYTICS,
      )
    ).json()) as { rows: unknown[] };
    assert.equal(listed.rows.length, 2);
  });
});
