// A batch's hold in the split deployment with real Redis and Kafka: the ingress holds the
// batch's estimated cost in the Redis budget store (where chat calls are held), so while
// the batch runs a chat call gets only what the hold leaves; billed, the batch's usage
// event crosses Kafka to the budget service, whose settlement replaces the hold with the
// spend: nothing held after, and the day's spend is the billed cost.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OpenAI, { toFile } from 'openai';
import { bindLimit, userLimits } from '@aigw/budget-core';
import { parseGatewayConfig, routeForModel } from '@aigw/config';
import { createRedisClient, prepareEventTopics } from '@aigw/infra';
import { startKafka, startRedis, type RealService } from '@aigw/testing';
import {
  FAKE_BATCH_LINE_USAGE,
  FAKE_BATCH_MODEL,
  FakeBatchBackend,
} from '@aigw/testing/fake-provider';
import { startApp, type AppProcess } from '@aigw/testing/processes';

const VIRTUAL = 'gpt-batch';
const PRICE = { inputPer1k: 0.002, outputPer1k: 0.008 };
const CONFIG = (baseUrl: string) => `kind: AIGatewayRoute
metadata: {name: split-batch-holds}
spec:
  backends:
  - {name: openai-batch, provider: openai, baseUrl: "${baseUrl}", model: ${FAKE_BATCH_MODEL}, modelNameOverride: ${VIRTUAL}, auth: {apiKeyRef: {name: openai-key}}}
  userIdentification: {header: x-user-id}
  costControl:
    maxDailyCostPerUser: 0.01
    modelPricing:
      ${FAKE_BATCH_MODEL}: {inputPer1k: ${PRICE.inputPer1k}, outputPer1k: ${PRICE.outputPer1k}}
`;

const input = (lines: number, maxTokens: number) =>
  Array.from({ length: lines }, (_, at) =>
    JSON.stringify({
      custom_id: `r${at}`,
      method: 'POST',
      url: '/v1/chat/completions',
      body: { model: VIRTUAL, messages: [{ role: 'user', content: 'q' }], max_tokens: maxTokens },
    }),
  ).join('\n');

describe('split deployment with Redis and Kafka: a batch holds its estimated cost', () => {
  const backend = new FakeBatchBackend();
  let redis: RealService;
  let kafka: RealService;
  const apps: AppProcess[] = [];
  let ingress: AppProcess;
  let config = '';
  const user = `alice-${randomUUID().slice(0, 8)}`;

  before(async () => {
    await backend.start();
    [redis, kafka] = await Promise.all([startRedis(), startKafka()]);
    const prefix = `it.batchholds.${randomUUID().slice(0, 8)}.`;
    await prepareEventTopics(kafka.url, { prefix, partitions: 1 });
    const dir = mkdtempSync(join(tmpdir(), 'aigw-split-batch-holds-'));
    config = CONFIG(backend.baseUrl);
    writeFileSync(join(dir, 'config.yaml'), config);
    const env = {
      AI_GATEWAY_CONFIG: join(dir, 'config.yaml'),
      REDIS_URL: redis.url,
      KAFKA_BROKERS: kafka.url,
      AI_GATEWAY_KAFKA_TOPIC_PREFIX: prefix,
    };
    const adapter = await startApp('provider-adapter', {
      ...env,
      AI_GATEWAY_SECRET_OPENAI_KEY_APIKEY: 'sk-split-backend',
      AI_GATEWAY_DATA_DIR: join(dir, 'adapter'),
    });
    apps.push(adapter);
    const router = await startApp('router', {
      ...env,
      AI_GATEWAY_DATA_DIR: join(dir, 'router'),
      PROVIDER_ADAPTER_URL: adapter.baseUrl,
    });
    apps.push(router);
    apps.push(await startApp('budget', { ...env, AI_GATEWAY_DATA_DIR: join(dir, 'budget') }));
    ingress = await startApp('ingress', {
      ...env,
      AI_GATEWAY_DATA_DIR: join(dir, 'ingress'),
      ROUTER_URL: router.baseUrl,
      AI_GATEWAY_BATCH_POLL_INTERVAL_MS: '0',
    });
    apps.push(ingress);
  });

  after(async () => {
    await Promise.all(apps.map((app) => app.stop()));
    await Promise.all([redis?.stop(), kafka?.stop(), backend.stop()]);
  });

  /** The user's daily dollars in Redis: spent and held. */
  async function balance(): Promise<{ used: number; reserved: number }> {
    const parsed = parseGatewayConfig(config, {
      env: { AI_GATEWAY_SECRET_OPENAI_KEY_APIKEY: 'x' },
    });
    assert.ok(parsed.ok);
    const route = routeForModel(parsed.config, VIRTUAL)!;
    const limit = userLimits({ route, userKey: user }).find((l) => l.unit === 'dollars')!;
    const client = createRedisClient(redis.url);
    try {
      const hash = await client.hgetall(bindLimit(limit, Date.now()).key);
      return { used: Number(hash.used ?? 0), reserved: Number(hash.reserved ?? 0) };
    } finally {
      client.disconnect();
    }
  }

  it('holds the batch in Redis until its billing settles', async () => {
    const client = new OpenAI({
      baseURL: `${ingress.baseUrl}/v1`,
      apiKey: 'sk-client',
      maxRetries: 0,
      defaultHeaders: { 'x-user-id': user, 'x-ai-gateway-model': VIRTUAL },
    });
    const file = await client.files.create({
      file: await toFile(Buffer.from(input(2, 1000)), 'input.jsonl'),
      purpose: 'batch',
    });
    const batch = await client.batches.create({
      input_file_id: file.id,
      endpoint: '/v1/chat/completions',
      completion_window: '24h',
    });
    const held = await balance();
    assert.ok(held.reserved > 0.008 && held.reserved < 0.0085, `held ${held.reserved}`);
    assert.equal(held.used, 0);

    // Up to $0.0032 fits the day's $0.01, not what the batch leaves.
    await assert.rejects(
      client.chat.completions.create({
        model: VIRTUAL,
        messages: [{ role: 'user', content: 'q' }],
        max_tokens: 400,
      }),
      OpenAI.RateLimitError,
    );

    // Completed and billed: two lines of 100 in and 20 out, at half the price.
    assert.equal((await client.batches.retrieve(batch.id)).status, 'completed');
    const billed =
      ((2 * FAKE_BATCH_LINE_USAGE.prompt_tokens * PRICE.inputPer1k +
        2 * FAKE_BATCH_LINE_USAGE.completion_tokens * PRICE.outputPer1k) /
        1000) *
      0.5;
    let after = await balance();
    for (let i = 0; i < 100 && after.used === 0; i++) {
      await new Promise((resolve) => setTimeout(resolve, 200));
      after = await balance();
    }
    assert.ok(Math.abs(after.used - billed) < 1e-9, `spent ${after.used}, billed ${billed}`);
    assert.ok(Math.abs(after.reserved) < 1e-9, `still held ${after.reserved}`);
  });
});
