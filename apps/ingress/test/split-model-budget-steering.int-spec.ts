// The router of the split deployment steers away from a model with no per-model budget
// left as soon as the Redis budget store says so, not once the budget service's broadcast
// reaches it: here no budget service runs at all (it is not consuming yet), so no
// broadcast ever comes, and the router learns of a full or spent model from the store.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import OpenAI from 'openai';
import { bindLimit, modelLimits } from '@aigw/budget-core';
import { parseGatewayConfig, type RouteConfig } from '@aigw/config';
import { LimitKind } from '@aigw/contracts';
import { createRedisClient, prepareEventTopics } from '@aigw/infra';
import { metricSum, startKafka, startRedis, type RealService } from '@aigw/testing';
import { FakeOpenAiUpstream } from '@aigw/testing/fake-provider';
import { startSplitDataPlane, type AppProcess } from '@aigw/testing/processes';

// Model names of this run only: every int suite shares one Redis.
const run = randomUUID().slice(0, 8);
const COUNTED = `counted-${run}`; // one request a minute
const METERED = `metered-${run}`; // 1000 tokens a minute
const SIZED = `sized-${run}`; // 1000 tokens a minute
const SPARE = `spare-${run}`;

function configYaml(limited: FakeOpenAiUpstream, spare: FakeOpenAiUpstream): string {
  return `kind: AIGatewayRoute
metadata: {name: steering}
spec:
  backends:
  - {name: counted, priority: 0, provider: vllm, baseUrl: "${limited.baseUrl}", model: ${COUNTED}, modelNameOverride: chat-counted}
  - {name: counted-spare, priority: 1, provider: vllm, baseUrl: "${spare.baseUrl}", model: ${SPARE}, modelNameOverride: chat-counted}
  - {name: metered, priority: 0, provider: vllm, baseUrl: "${limited.baseUrl}", model: ${METERED}, modelNameOverride: chat-metered}
  - {name: metered-spare, priority: 1, provider: vllm, baseUrl: "${spare.baseUrl}", model: ${SPARE}, modelNameOverride: chat-metered}
  - {name: sized, priority: 0, provider: vllm, baseUrl: "${limited.baseUrl}", model: ${SIZED}, modelNameOverride: chat-sized}
  - {name: sized-spare, priority: 1, provider: vllm, baseUrl: "${spare.baseUrl}", model: ${SPARE}, modelNameOverride: chat-sized}
  failover:
    on: [budgetExceeded]
    retryDelay: 0s
  tokenRateLimit:
    perModel:
      ${COUNTED}: {requestsPerMinute: 1}
      ${METERED}: {tokensPerMinute: 1000}
      ${SIZED}: {tokensPerMinute: 1000}
      ${SPARE}: {tokensPerMinute: 1000000}
`;
}

/** Waits out the last seconds of a minute, so a test's calls share one window. */
async function awayFromMinuteEnd(): Promise<void> {
  const intoMinute = Date.now() % 60_000;
  if (intoMinute > 50_000) await sleep(60_000 - intoMinute + 50);
}

describe('split deployment: the router steers by the Redis budget store, before any broadcast', () => {
  const limited = new FakeOpenAiUpstream('limited');
  const spare = new FakeOpenAiUpstream('spare');
  let redis: RealService;
  let kafka: RealService;
  const apps: AppProcess[] = [];
  let client: OpenAI;
  let route: RouteConfig;
  let routerAdminPort = 0;
  const routerMetrics = async () =>
    (await fetch(`http://127.0.0.1:${routerAdminPort}/metrics`)).text();

  before(async () => {
    await Promise.all([limited.start(), spare.start()]);
    [redis, kafka] = await Promise.all([startRedis(), startKafka()]);
    const prefix = `it.steering.${run}.`;
    await prepareEventTopics(kafka.url, { prefix, partitions: 1 });
    const dir = mkdtempSync(join(tmpdir(), 'aigw-split-steering-'));
    const yaml = configYaml(limited, spare);
    writeFileSync(join(dir, 'config.yaml'), yaml);
    const parsed = parseGatewayConfig(yaml, { missingSecrets: 'warn', env: {} });
    assert.ok(parsed.ok);
    route = parsed.config.routes[0];
    // Ingress, router and provider adapter on Redis and Kafka; no budget service.
    const { ingress, router } = await startSplitDataPlane(
      {
        AI_GATEWAY_CONFIG: join(dir, 'config.yaml'),
        REDIS_URL: redis.url,
        KAFKA_BROKERS: kafka.url,
        AI_GATEWAY_KAFKA_TOPIC_PREFIX: prefix,
      },
      dir,
      apps,
    );
    routerAdminPort = router.adminPort;
    client = new OpenAI({ baseURL: `${ingress.baseUrl}/v1`, apiKey: 'sk-client', maxRetries: 0 });
  });

  after(async () => {
    await Promise.all(apps.map((app) => app.stop()));
    await Promise.all([redis?.stop(), kafka?.stop(), limited.stop(), spare.stop()]);
  });

  const ask = (model: string, maxTokens = 16) =>
    client.chat.completions.create({
      model,
      messages: [{ role: 'user', content: 'hi' }],
      max_tokens: maxTokens,
    });

  it('calls a model its own hold filled, then sends the next call to the fallback', async () => {
    await awayFromMinuteEnd();
    limited.reset();
    spare.reset();
    // The first call holds the minute's only request: the store is full with its own hold.
    await ask('chat-counted');
    assert.equal(limited.calls.length, 1, 'the hold that filled the model is its own');
    assert.equal(limited.calls[0].body.model, COUNTED);

    // Unsettled (no budget service), the hold stays: the next call has no room there.
    await ask('chat-counted');
    assert.equal(limited.calls.length, 1, 'the full model was called again');
    assert.equal(spare.calls.length, 1);
    assert.equal(spare.calls[0].body.model, SPARE);
  });

  it('passes over a model whose tokens the store says are spent, with no broadcast', async () => {
    await awayFromMinuteEnd();
    limited.reset();
    spare.reset();
    // The budget service's settlement of the minute's spend, its broadcast never sent.
    const [tokens] = modelLimits(route, METERED).map((limit) => bindLimit(limit, Date.now()));
    assert.equal(tokens.kind, LimitKind.ModelTokensPerMinute);
    const store = createRedisClient(redis.url);
    try {
      await store.hset(tokens.key, 'used', '1000');
      await store.pexpireat(tokens.key, tokens.windowRef.endsAt + 60_000);
    } finally {
      store.disconnect();
    }

    for (let call = 0; call < 2; call++) {
      const answer = await ask('chat-metered');
      assert.equal(answer.model, 'chat-metered');
    }
    assert.equal(limited.calls.length, 0, 'a spent model was called');
    assert.equal(spare.calls.length, 2);
    // The store told the first call (and the test before's second); the spent backend then
    // cools down for the minute's rest, so the second call starts on the spare.
    const text = await routerMetrics();
    const reads = (outcome: string) =>
      metricSum(text, 'ai_gateway_model_budget_store_reads_total', { outcome });
    assert.equal(metricSum(text, 'ai_gateway_model_budget_steers_total', { source: 'store' }), 2);
    assert.equal(reads('steered'), 2);
    assert.ok(reads('room') >= 2, `reads with room ${reads('room')}`);
    assert.equal(reads('failed'), 0);
  });

  it('sizes a token limit by what the request holds on the model it was admitted to', async () => {
    await awayFromMinuteEnd();
    limited.reset();
    spare.reset();
    // 600 output tokens (and the prompt) held on the metered model: 1000 leaves no room
    // for a second such call, though some is left.
    await ask('chat-sized', 600);
    assert.equal(limited.calls.length, 1);
    await ask('chat-sized', 600);
    assert.equal(limited.calls.length, 1, 'a model without room for the call was called');
    assert.equal(spare.calls.length, 1);
  });
});
