// Two routes that each name a backend `openai`, at different prices: route `chat` serves
// gpt-4o-mini, route `embed` text-embedding-3-small with a daily dollar cap. Each call is
// priced by its own route's backend, not by the first route naming `openai`: in the cost
// header, the usage event (which names the route), the stored usage rows and the budget
// balance of the route that served it.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { DatabaseSync } from 'node:sqlite';
import { Topic } from '@aigw/contracts';
import { FakeOpenAiUpstream } from '@aigw/testing/fake-provider';
import { startApp, type AppProcess } from '@aigw/testing/processes';
import { embeddedEventLog, type RecordedEvent } from './budget-scenarios';

const COST_HEADER = 'x-ai-gateway-cost-usd';
const CHAT_PRICE = 1.0;
const EMBED_PRICE = 0.5;
const DAILY_CAP = 10;
/** The fake's usage: a chat answer 12 in and 6 out, an embedding 4 in. */
const CHAT_DOLLARS = ((12 + 6) / 1000) * CHAT_PRICE;
const EMBED_DOLLARS = (4 / 1000) * EMBED_PRICE;

function config(baseUrl: string): string {
  const backend = (model: string) =>
    `{name: openai, provider: vllm, baseUrl: '${baseUrl}', model: ${model}}`;
  return `kind: AIGatewayRoute
metadata: {name: chat}
spec:
  backends:
  - ${backend('gpt-4o-mini')}
  userIdentification: {header: x-user-id}
  costControl:
    modelPricing:
      gpt-4o-mini: {inputPer1k: ${CHAT_PRICE}, outputPer1k: ${CHAT_PRICE}}
---
kind: AIGatewayRoute
metadata: {name: embed}
spec:
  backends:
  - ${backend('text-embedding-3-small')}
  userIdentification: {header: x-user-id}
  costControl:
    maxDailyCostPerUser: ${DAILY_CAP}
    modelPricing:
      text-embedding-3-small: {inputPer1k: ${EMBED_PRICE}, outputPer1k: 0}
`;
}

/** Polls `read` until `done` holds of its value (the sink and settler work in batches). */
async function eventually<T>(read: () => Promise<T> | T, done: (value: T) => boolean): Promise<T> {
  const deadline = Date.now() + 15_000;
  let value = await read();
  while (!done(value) && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    value = await read();
  }
  return value;
}

/** A gauge's value for the labels given, if the gateway exports it. */
function gauge(metrics: string, name: string, labels: Record<string, string>): number | undefined {
  const line = metrics
    .split('\n')
    .find(
      (l) =>
        l.startsWith(`${name}{`) &&
        Object.entries(labels).every(([key, value]) => l.includes(`${key}="${value}"`)),
    );
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
}

const close = (a: number, b: number) => Math.abs(a - b) < 1e-12;

describe('all-in-one gateway: a backend name shared by two routes', () => {
  const upstream = new FakeOpenAiUpstream();
  const dir = mkdtempSync(join(tmpdir(), 'aigw-shared-names-'));
  const dataDir = join(dir, 'data');
  const user = `shared-${randomUUID()}`;
  let gateway: AppProcess;

  const post = (path: string, body: unknown) =>
    fetch(`${gateway.baseUrl}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-user-id': user },
      body: JSON.stringify(body),
    });

  before(async () => {
    await upstream.start();
    writeFileSync(join(dir, 'config.yaml'), config(upstream.baseUrl));
    gateway = await startApp('gateway', {
      AI_GATEWAY_CONFIG: join(dir, 'config.yaml'),
      AI_GATEWAY_DATA_DIR: dataDir,
    });
  });

  after(async () => {
    await gateway?.stop();
    await upstream.stop();
  });

  it("prices each route's call at its own backend's price, and says which route served it", async () => {
    const chat = await post('/v1/chat/completions', {
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: 'hi' }],
    });
    await chat.text();
    assert.equal(chat.status, 200);
    assert.equal(Number(chat.headers.get(COST_HEADER)), CHAT_DOLLARS);

    const embed = await post('/v1/embeddings', {
      model: 'text-embedding-3-small',
      input: 'hello',
    });
    await embed.text();
    assert.equal(embed.status, 200);
    assert.equal(Number(embed.headers.get(COST_HEADER)), EMBED_DOLLARS);

    const usage = await eventually(
      () => embeddedEventLog(dataDir, Topic.UsageRecorded),
      (events) => events.length >= 2,
    );
    const byModel = (model: string): RecordedEvent | undefined =>
      usage.find((event) => event.modelServed === model);
    assert.deepEqual(
      [byModel('gpt-4o-mini'), byModel('text-embedding-3-small')].map((e) => [
        e?.backend,
        e?.route,
      ]),
      [
        ['openai', 'chat'],
        ['openai', 'embed'],
      ],
    );
    assert.ok(close(Number(byModel('text-embedding-3-small')?.costDollars), EMBED_DOLLARS));
    const completed = await eventually(
      () => embeddedEventLog(dataDir, Topic.RequestCompleted),
      (events) => events.length >= 2,
    );
    assert.deepEqual(completed.map((event) => event.route).sort(), ['chat', 'embed']);
  });

  it('stores each usage row with its route and its own price', async () => {
    const db = new DatabaseSync(join(dataDir, 'analytics.db'), { readOnly: true });
    try {
      const rows = await eventually(
        () =>
          db
            .prepare(
              `SELECT model_served AS model, backend, route, cost_dollars AS cost
               FROM usage_events ORDER BY model_served`,
            )
            .all() as { model: string; backend: string; route: string; cost: number }[],
        (stored) => stored.length >= 2,
      );
      assert.deepEqual(
        rows.map((row) => [row.model, row.backend, row.route]),
        [
          ['gpt-4o-mini', 'openai', 'chat'],
          ['text-embedding-3-small', 'openai', 'embed'],
        ],
      );
      assert.ok(close(rows[0].cost, CHAT_DOLLARS), `chat cost ${rows[0].cost}`);
      assert.ok(close(rows[1].cost, EMBED_DOLLARS), `embed cost ${rows[1].cost}`);
    } finally {
      db.close();
    }
  });

  it("charges the embedding to the embed route's dollar cap, at the embed price", async () => {
    const remaining = await eventually(
      async () =>
        gauge(
          await (await fetch(`http://127.0.0.1:${gateway.adminPort}/metrics`)).text(),
          'ai_gateway_budget_remaining',
          { budget_key: user, limit: 'costControl.maxDailyCostPerUser' },
        ),
      (left) => left !== undefined && close(left, DAILY_CAP - EMBED_DOLLARS),
    );
    assert.ok(
      remaining !== undefined && close(remaining, DAILY_CAP - EMBED_DOLLARS),
      `remaining ${remaining}`,
    );
  });
});
