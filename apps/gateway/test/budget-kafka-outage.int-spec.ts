import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  engineSkipReason,
  startRedis,
  startRestartableKafka,
  type RealService,
  type RestartableKafka,
} from '@aigw/testing';
import { prepareEventTopics } from '@aigw/infra';
import { startApp, type AppProcess } from '@aigw/testing/processes';
import { perUserBudgetRoute } from './per-user-budget-route';

// Kafka stopped and restarted under load: the gateway keeps serving, its usage events
// wait in the spool, and once Kafka is back every one of them is applied to the budget
// exactly once — no usage lost, none counted twice.

const LIMIT = 10_000_000;

function remaining(text: string, user: string): number | undefined {
  const line = text
    .split('\n')
    .find(
      (l) => l.startsWith('ai_gateway_budget_remaining{') && l.includes(`budget_key="${user}"`),
    );
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
}

// The broker to stop and restart is always a container of this suite's own.
const skip = engineSkipReason('a Kafka broker of its own to stop and restart');

describe('budgets through a Kafka outage (Redis store)', { skip }, () => {
  let redis: RealService;
  let kafka: RestartableKafka;
  let gateway: AppProcess;

  before(async () => {
    [redis, kafka] = await Promise.all([startRedis(), startRestartableKafka()]);
    const prefix = `it.outage.${randomUUID().slice(0, 8)}.`;
    await prepareEventTopics(kafka.url, { prefix, partitions: 3 });
    const dir = mkdtempSync(join(tmpdir(), 'aigw-outage-'));
    writeFileSync(join(dir, 'config.yaml'), perUserBudgetRoute('outage', LIMIT));
    gateway = await startApp('gateway', {
      AI_GATEWAY_CONFIG: join(dir, 'config.yaml'),
      AI_GATEWAY_DATA_DIR: join(dir, 'data'),
      REDIS_URL: redis.url,
      KAFKA_BROKERS: kafka.url,
      AI_GATEWAY_KAFKA_TOPIC_PREFIX: prefix,
    });
  });

  after(async () => {
    await gateway?.stop();
    await Promise.all([redis?.stop(), kafka?.stop()]);
  });

  const chat = async (user: string) => {
    const response = await fetch(`${gateway.baseUrl}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-user-id': user },
      body: JSON.stringify({
        model: 'gpt-4o-mini',
        max_tokens: 20,
        messages: [{ role: 'user', content: 'hi' }],
      }),
    });
    await response.text();
    return response.status;
  };
  // The gateway's own warnings and errors, so a failure says what the gateway saw.
  const gatewayComplaints = () =>
    gateway
      .output()
      .split('\n')
      .filter((line) => /"level":"(warn|error)"/.test(line))
      .slice(-40)
      .join('\n');
  const metrics = async () => (await fetch(`http://127.0.0.1:${gateway.adminPort}/metrics`)).text();

  // Up to 3 minutes: recovery may wait out the bus's own bounds (a produce given up after
  // 60 s, a silent consumer replaced after 30 s) on a slow machine.
  async function usedBy(user: string, expected?: number): Promise<number> {
    let used: number | undefined;
    for (let i = 0; i < 720; i++) {
      const left = remaining(await metrics(), user);
      used = left === undefined ? undefined : LIMIT - left;
      if (used !== undefined && (expected === undefined || used >= expected)) break;
      await new Promise((r) => setTimeout(r, 250));
    }
    if (used === undefined) throw new Error(`no usage of ${user} was ever applied`);
    return used;
  }

  it('keeps serving while Kafka is down and applies every usage event once it is back', async () => {
    const probe = `probe-${randomUUID()}`;
    assert.equal(await chat(probe), 200);
    const perRequest = await usedBy(probe);

    const user = `outage-${randomUUID()}`;
    const burst = async (n: number) => {
      const statuses = await Promise.all(Array.from({ length: n }, () => chat(user)));
      assert.ok(
        statuses.every((s) => s === 200),
        statuses.join(','),
      );
    };
    await burst(10);
    await kafka.stopBroker();
    for (let i = 0; i < 4; i++) await burst(5); // served while the events spool
    let spooled = 0;
    for (let i = 0; i < 40 && spooled === 0; i++) {
      spooled = Number(
        /ai_gateway_kafka_producer_spool_depth (\d+)/.exec(await metrics())?.[1] ?? 0,
      );
      if (spooled === 0) await new Promise((r) => setTimeout(r, 250));
    }
    assert.ok(spooled > 0, 'the events waited in the disk spool');
    await kafka.startBroker();
    await burst(10);

    // 40 requests, each applied exactly once.
    const used = await usedBy(user, 40 * perRequest);
    assert.equal(used, 40 * perRequest, gatewayComplaints());
    // And it stays there: no late duplicate is applied.
    await new Promise((r) => setTimeout(r, 3_000));
    assert.equal(await usedBy(user), 40 * perRequest, gatewayComplaints());
    const after = await metrics();
    assert.match(after, /ai_gateway_kafka_producer_spool_depth 0/);
  });
});
