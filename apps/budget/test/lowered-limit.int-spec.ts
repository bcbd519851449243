import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eventually, metricSum, startKafka, startRedis, type RealService } from '@aigw/testing';
import { prepareEventTopics } from '@aigw/infra';
import { startAdapterAndRouter, startApp, type AppProcess } from '@aigw/testing/processes';

// The split deployment: a per-model limit lowered by a config reload below what its model
// has spent this minute. Ingress refuses to hold on it through the store, but the router
// diverts from a model only on the budget state broadcast, so the budget service must
// announce it exhausted on the reload: no settlement crosses a limit that moved under it.

const MINUTE_MS = 60_000;
const LIMITED = `limited-${randomUUID().slice(0, 8)}`;
const KIND = 'tokenRateLimit.perModel.tokensPerMinute';

function config(tokensPerMinute: number): string {
  return `kind: AIGatewayRoute
metadata: {name: lowered}
spec:
  backends:
  - {name: limited, priority: 0, provider: local, model: ${LIMITED}, modelNameOverride: gpt-4o-mini}
  - {name: spare, priority: 1, provider: local, model: spare-model, modelNameOverride: gpt-4o-mini}
  userIdentification: {header: x-user-id}
  failover: {on: [budgetExceeded]}
  tokenRateLimit:
    perModel:
      ${LIMITED}: {tokensPerMinute: ${tokensPerMinute}}
`;
}

describe('a per-model limit lowered below its spend (Kafka + Redis, split services)', () => {
  let redis: RealService;
  let kafka: RealService;
  const apps: AppProcess[] = [];
  let ingress: AppProcess;
  let router: AppProcess;
  let budget: AppProcess;
  let configPath: string;
  const prefix = `it.lowered.${randomUUID().slice(0, 8)}.`;

  before(async () => {
    [redis, kafka] = await Promise.all([startRedis(), startKafka()]);
    await prepareEventTopics(kafka.url, { prefix, partitions: 1 });
    const dir = mkdtempSync(join(tmpdir(), 'aigw-lowered-'));
    configPath = join(dir, 'config.yaml');
    writeFileSync(configPath, config(100_000));
    const env = {
      AI_GATEWAY_CONFIG: configPath,
      REDIS_URL: redis.url,
      KAFKA_BROKERS: kafka.url,
      AI_GATEWAY_KAFKA_TOPIC_PREFIX: prefix,
    };
    router = await startAdapterAndRouter(env, dir, apps);
    budget = await startApp('budget', { ...env, AI_GATEWAY_DATA_DIR: join(dir, 'budget') });
    apps.push(budget);
    ingress = await startApp('ingress', {
      ...env,
      AI_GATEWAY_DATA_DIR: join(dir, 'ingress'),
      ROUTER_URL: router.baseUrl,
    });
    apps.push(ingress);
  });

  after(async () => {
    await Promise.all(apps.map((app) => app.stop()));
    await Promise.all([redis?.stop(), kafka?.stop()]);
  });

  const metricsOf = async (app: AppProcess) =>
    (await fetch(`http://127.0.0.1:${app.adminPort}/metrics`)).text();
  const broadcasts = (text: string) =>
    metricSum(text, 'ai_gateway_budget_broadcast_lag_seconds_count');
  const reloads = async (app: AppProcess) =>
    metricSum(await metricsOf(app), 'ai_gateway_config_reloads_total', { result: 'success' });

  /** The backend that served one call. */
  async function served(): Promise<string> {
    const response = await fetch(`${ingress.baseUrl}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-user-id': `u-${randomUUID()}` },
      body: JSON.stringify({
        model: 'gpt-4o-mini',
        messages: [{ role: 'user', content: 'hi' }],
        max_tokens: 20,
      }),
    });
    await response.text();
    assert.equal(response.status, 200);
    return response.headers.get('x-ai-gateway-backend') ?? '(none)';
  }

  it('the router diverts from the model within the minute the reload put it past its limit', async () => {
    // The spend is per minute: the run starts with 40 s of its minute left at least.
    const toNextMinute = MINUTE_MS - (Date.now() % MINUTE_MS);
    if (toNextMinute < 40_000) await new Promise((r) => setTimeout(r, toNextMinute + 100));
    const minute = Math.floor(Date.now() / MINUTE_MS);
    const inMinute = () => Math.floor(Date.now() / MINUTE_MS) === minute;
    // Spend on the limited model, settled by the budget service.
    assert.equal(await served(), 'limited');
    await eventually('the budget service settled the call', async () => {
      const text = await metricsOf(budget);
      const left = metricSum(text, 'ai_gateway_budget_remaining', {
        budget_key: LIMITED,
        limit: KIND,
      });
      return text.includes(`budget_key="${LIMITED}"`) && left < 100_000 ? true : undefined;
    });
    // The router has had the settlement's `remaining`: any broadcast past this is news.
    const heard = await eventually('the router heard the settlement', async () => {
      const count = broadcasts(await metricsOf(router));
      return count >= 1 ? count : undefined;
    });
    const before = await Promise.all([router, ingress, budget].map(reloads));
    // Lowered below what was just spent.
    writeFileSync(configPath, config(1));
    await eventually('every service reloaded', async () => {
      const now = await Promise.all([router, ingress, budget].map(reloads));
      return now.every((count, i) => count > before[i]) ? true : undefined;
    });
    // The reload's `exhausted`, with no call made since: nothing else would announce it.
    await eventually(
      'the router heard the lowered limit announced',
      async () => (broadcasts(await metricsOf(router)) > heard ? true : undefined),
      { deadlineMs: 20_000 },
    );
    assert.ok(inMinute(), 'the run took the rest of the minute');
    assert.equal(await served(), 'spare', 'the first call after the reload is diverted');
  });
});
