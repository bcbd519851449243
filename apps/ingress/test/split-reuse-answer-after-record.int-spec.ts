// The split deployment over Kafka with AI_GATEWAY_ANSWER_AFTER_RECORD=on: a cache hit at
// the ingress (JSON, and a streamed replay) is answered only once its usage event is
// acknowledged by Kafka, as a provider's answer is at the provider-adapter: by the time
// the client has the answer, the usage topic already holds its event.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Admin } from 'kafkajs';
import { Topic } from '@aigw/contracts';
import { createKafka, prepareEventTopics } from '@aigw/infra';
import { metricSum, startKafka, until, type RealService } from '@aigw/testing';
import { FakeOpenAiUpstream } from '@aigw/testing/fake-provider';
import { startAdapterAndRouter, startApp, type AppProcess } from '@aigw/testing/processes';

const CONFIG = (baseUrl: string) => `kind: AIGatewayRoute
metadata: {name: split-reuse-record}
spec:
  backends:
  - {name: upstream, provider: vllm, baseUrl: '${baseUrl}', model: gpt-4o-mini}
  userIdentification: {header: x-user-id}
  caching: {enabled: true, ttl: 1h, backend: memory}
`;

describe('split deployment over Kafka, AI_GATEWAY_ANSWER_AFTER_RECORD=on: cache hits', () => {
  const upstream = new FakeOpenAiUpstream();
  let kafka: RealService;
  let admin: Admin;
  let prefix = '';
  const apps: AppProcess[] = [];
  let ingress: AppProcess;

  before(async () => {
    await upstream.start();
    kafka = await startKafka();
    prefix = `it.reuserecord.${randomUUID().slice(0, 8)}.`;
    await prepareEventTopics(kafka.url, { prefix, partitions: 1 });
    admin = createKafka({ clientId: 'reuse-record-check', brokers: kafka.url }).admin();
    await admin.connect();
    const dir = mkdtempSync(join(tmpdir(), 'aigw-split-reuse-record-'));
    writeFileSync(join(dir, 'config.yaml'), CONFIG(upstream.baseUrl));
    const env = {
      AI_GATEWAY_CONFIG: join(dir, 'config.yaml'),
      KAFKA_BROKERS: kafka.url,
      AI_GATEWAY_KAFKA_TOPIC_PREFIX: prefix,
      AI_GATEWAY_ANSWER_AFTER_RECORD: 'on',
    };
    const router = await startAdapterAndRouter(env, dir, apps);
    ingress = await startApp('ingress', {
      ...env,
      AI_GATEWAY_DATA_DIR: join(dir, 'ingress'),
      ROUTER_URL: router.baseUrl,
    });
    apps.push(ingress);
  });

  after(async () => {
    await admin?.disconnect();
    await Promise.all(apps.map((app) => app.stop()));
    await Promise.all([kafka?.stop(), upstream.stop()]);
  });

  /** Usage events Kafka has acknowledged on the deployment's topic. */
  async function usageEventsInKafka(): Promise<number> {
    const offsets = await admin.fetchTopicOffsets(`${prefix}${Topic.UsageRecorded}`);
    return offsets.reduce((sum, partition) => sum + Number(partition.high), 0);
  }

  async function chat(stream: boolean): Promise<{ cache: string | null; text: string }> {
    const response = await fetch(`${ingress.baseUrl}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-user-id': 'alice' },
      body: JSON.stringify({
        model: 'gpt-4o-mini',
        messages: [{ role: 'user', content: `same question (${String(stream)})` }],
        stream,
      }),
    });
    assert.equal(response.status, 200);
    return { cache: response.headers.get('x-ai-gateway-cache'), text: await response.text() };
  }

  async function ingressWaits(): Promise<number> {
    const text = await (await fetch(`http://127.0.0.1:${ingress.adminPort}/metrics`)).text();
    return metricSum(text, 'ai_gateway_answer_record_wait_seconds_count', { outcome: 'durable' });
  }

  /** The heap the ingress's in-memory response cache takes: it grows as an answer is stored. */
  async function cachedBytes(): Promise<number> {
    const text = await (await fetch(`http://127.0.0.1:${ingress.adminPort}/metrics`)).text();
    return metricSum(text, 'ai_gateway_cache_memory_bytes');
  }

  it('answers a JSON hit and ends a replayed stream only once Kafka holds its usage event', async () => {
    for (const stream of [false, true]) {
      const storedBefore = await cachedBytes();
      const miss = await chat(stream);
      assert.equal(miss.cache, 'miss');
      // The provider-adapter held the miss for its own event; none waits at the ingress.
      assert.equal(await ingressWaits(), stream ? 1 : 0);
      // Stored once it completed, off the answer's path: in its own time on a loaded box.
      await until('the miss is stored', async () => (await cachedBytes()) > storedBefore);
      const before = await usageEventsInKafka();
      const hit = await chat(stream);
      assert.equal(hit.cache, 'hit');
      if (stream) assert.match(hit.text, /data: \[DONE\]\n\n$/);
      // No waiting here: acknowledged before the answer went.
      assert.equal(await usageEventsInKafka(), before + 1);
      assert.equal(await ingressWaits(), stream ? 2 : 1);
    }
  });
});
