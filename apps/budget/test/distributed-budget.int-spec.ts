import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { createTokenUsageRecorded, encodeEvent, Topic, UsageSource } from '@aigw/contracts';
import { estimatePromptTokensUpperBound } from '@aigw/contracts/data-plane';
import { eventually, startKafka, startRedis, type RealService, metricSum } from '@aigw/testing';
import { createKafka, prepareEventTopics } from '@aigw/infra';
import { startAdapterAndRouter, startApp, type AppProcess } from '@aigw/testing/processes';

// The split deployment with real Kafka and Redis: two ingress replicas share one budget
// in Redis, the budget service settles usage from the Kafka topic and broadcasts budget
// state (remaining, exhausted, recovered), which reaches both replicas' local views.

const PROMPT = [{ role: 'user', content: 'hi' }];
const MAX_TOKENS = 20;
const PER_REQUEST = estimatePromptTokensUpperBound({ messages: PROMPT }) + MAX_TOKENS;
const LIMIT = 20 * PER_REQUEST;
// Models with a per-model limit: admission holds each request against it, and the budget
// service announces every settled change (remaining, exhausted) to every replica.
const METERED = Array.from({ length: 5 }, (_, i) => `metered-${i}`);

const run = promisify(execFile);
const ROOT = resolve(__dirname, '../../..');

/** The p99 of a Prometheus histogram, as the upper bound of the bucket that holds it. */
function histogramP99(text: string, name: string): number {
  const buckets = [
    ...text.matchAll(new RegExp(`^${name}_bucket\\{le="([^"]+)"\\} (\\d+)`, 'gm')),
  ].map((m) => ({ le: Number(m[1] === '+Inf' ? Infinity : m[1]), count: Number(m[2]) }));
  const total = buckets.at(-1)?.count ?? 0;
  return buckets.find((b) => b.count >= 0.99 * total)?.le ?? NaN;
}

describe('budgets across services (Kafka + Redis)', () => {
  let redis: RealService;
  let kafka: RealService;
  const apps: AppProcess[] = [];
  let ingressA: AppProcess;
  let ingressB: AppProcess;
  let budget: AppProcess;
  let env: Record<string, string>;
  const prefix = `it.split.${randomUUID().slice(0, 8)}.`;

  before(async () => {
    [redis, kafka] = await Promise.all([startRedis(), startKafka()]);
    await prepareEventTopics(kafka.url, { prefix, partitions: 3 });
    const dir = mkdtempSync(join(tmpdir(), 'aigw-split-budget-'));
    writeFileSync(
      join(dir, 'config.yaml'),
      `kind: AIGatewayRoute
metadata: {name: split}
spec:
  backends:
  - {name: local, provider: local, model: gpt-4o-mini}
${METERED.map((m) => `  - {name: ${m}, provider: local, model: ${m}}`).join('\n')}
  userIdentification: {header: x-user-id}
  tokenBudget:
    perUser: {limit: ${LIMIT}, period: 30d}
  tokenRateLimit:
    perModel:
${METERED.map((m) => `      ${m}: {tokensPerMinute: 60}`).join('\n')}
`,
    );
    env = {
      AI_GATEWAY_CONFIG: join(dir, 'config.yaml'),
      REDIS_URL: redis.url,
      KAFKA_BROKERS: kafka.url,
      AI_GATEWAY_KAFKA_TOPIC_PREFIX: prefix,
    };
    const router = await startAdapterAndRouter(env, dir, apps);
    budget = await startApp('budget', { ...env, AI_GATEWAY_DATA_DIR: join(dir, 'budget') });
    ingressA = await startApp('ingress', {
      ...env,
      AI_GATEWAY_DATA_DIR: join(dir, 'ingress-a'),
      ROUTER_URL: router.baseUrl,
    });
    ingressB = await startApp('ingress', {
      ...env,
      AI_GATEWAY_DATA_DIR: join(dir, 'ingress-b'),
      ROUTER_URL: router.baseUrl,
    });
    apps.push(ingressA, ingressB);
  });

  after(async () => {
    await Promise.all([...apps, budget].map((app) => app?.stop()));
    await Promise.all([redis?.stop(), kafka?.stop()]);
  });

  const chat = (ingress: AppProcess, user: string, model = 'gpt-4o-mini') =>
    fetch(`${ingress.baseUrl}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-user-id': user },
      body: JSON.stringify({ model, messages: PROMPT, max_tokens: MAX_TOKENS }),
    }).then(async (response) => ({ status: response.status, body: await response.text() }));

  const metricsOf = async (app: AppProcess) =>
    (await fetch(`http://127.0.0.1:${app.adminPort}/metrics`)).text();

  async function settledUsed(user: string): Promise<number> {
    // The budget service's gauge: limit minus what it applied for this user. After a
    // restart that waits for its consumer group to rebalance past the killed member.
    return eventually(`a settlement for ${user} reached the budget service`, async () => {
      const text = await metricsOf(budget);
      const remaining = metricSum(text, 'ai_gateway_budget_remaining', { budget_key: user });
      return text.includes(`budget_key="${user}"`) ? LIMIT - remaining : undefined;
    });
  }

  /**
   * Once the budget service's group has committed every event on its topics, as the broker
   * counts (the lag gauge is set per fetched batch: it says 0 until a late event's batch).
   */
  async function caughtUp(): Promise<void> {
    const admin = createKafka({ clientId: 'caught-up-check', brokers: kafka.url }).admin();
    await admin.connect();
    try {
      const topics = [Topic.UsageRecorded, Topic.BudgetAdjusted].map((t) => `${prefix}${t}`);
      await eventually('the budget service committed every event', async () => {
        const committed = await admin.fetchOffsets({ groupId: `${prefix}budget`, topics });
        for (const { topic, partitions } of committed) {
          for (const end of await admin.fetchTopicOffsets(topic)) {
            const at = partitions.find((p) => p.partition === end.partition)?.offset ?? '-1';
            if (BigInt(end.high) > BigInt(at === '-1' ? end.low : at)) return undefined;
          }
        }
        return true;
      });
    } finally {
      await admin.disconnect();
    }
  }

  it('holds 120 concurrent requests across two ingress replicas to one budget', async () => {
    const user = `shared-${randomUUID()}`;
    const results = await Promise.all(
      Array.from({ length: 120 }, (_, i) => chat(i % 2 === 0 ? ingressA : ingressB, user)),
    );
    const admitted = results.filter((r) => r.status === 200).length;
    assert.ok(
      results.every((r) => r.status === 200 || r.status === 429),
      JSON.stringify(results.find((r) => r.status >= 500)),
    );
    assert.ok(admitted >= 20 && admitted < 120, `admitted ${admitted}`);
    // Wait until the budget service applied every admitted request's usage.
    let used = 0;
    for (let i = 0; i < 50; i++) {
      used = await settledUsed(user);
      const text = await metricsOf(budget);
      if (
        metricSum(text, 'ai_gateway_budget_remaining', { budget_key: user }) === LIMIT - used &&
        used > 0
      )
        break;
      await new Promise((r) => setTimeout(r, 200));
    }
    assert.ok(used > 0 && used <= LIMIT, `used ${used} of ${LIMIT}`);
    assert.equal(
      metricSum(await metricsOf(budget), 'ai_gateway_reservation_overshoot_tokens_total'),
      0,
    );
  });

  it('releases each hold at settlement, so calls one after another spend the budget to its end', async () => {
    // Each call holds its worst case (prompt estimate + max_tokens: about 210 tokens here,
    // a third of the limit) and spends far less. Kept until they lapse, holds would fill
    // the limit by the third call; released when the usage settles, calls go on until
    // what was spent leaves no room for a worst case.
    const user = `sequential-${randomUUID()}`;
    const call = () =>
      fetch(`${ingressA.baseUrl}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-user-id': user },
        body: JSON.stringify({ model: 'gpt-4o-mini', messages: PROMPT, max_tokens: 200 }),
      }).then(async (response) => ({ status: response.status, body: await response.text() }));
    let used = 0;
    for (let n = 1; n <= 6; n++) {
      const reply = await call();
      assert.equal(reply.status, 200, `call ${n} after ${used} tokens spent: ${reply.body}`);
      const before = used;
      for (let i = 0; i < 100 && used === before; i++) {
        used = await settledUsed(user);
        if (used === before) await new Promise((r) => setTimeout(r, 100));
      }
      assert.ok(used > before, `call ${n} settled`);
    }
  });

  it('broadcasts budget state to both replicas (propagation measured)', async () => {
    for (const model of METERED) {
      // Spend the model's budget through replica A until it is refused.
      let refused = false;
      for (let i = 0; i < 30 && !refused; i++) {
        refused = (await chat(ingressA, `metered-user-${i}`, model)).status === 429;
        await new Promise((r) => setTimeout(r, 100));
      }
      assert.ok(refused, `${model} was never refused`);
    }
    // Each replica's local view applied the budget service's broadcasts, through Kafka in
    // its own time.
    for (const replica of [ingressA, ingressB]) {
      const count = (text: string) =>
        metricSum(text, 'ai_gateway_budget_broadcast_lag_seconds_count');
      const text = await eventually('a replica sees 5 broadcasts', async () => {
        const scraped = await metricsOf(replica);
        return count(scraped) >= 5 ? scraped : undefined;
      });
      const p99 = histogramP99(text, 'ai_gateway_budget_broadcast_lag_seconds');
      process.stdout.write(
        `# broadcast propagation p99 <= ${p99} s over ${count(text)} broadcasts\n`,
      );
      assert.ok(p99 <= 5, `p99 ${p99}`);
    }
  });

  it('applies usage exactly once when the budget service is killed and restarted', async () => {
    const user = `restart-${randomUUID()}`;
    const first = await Promise.all(Array.from({ length: 5 }, () => chat(ingressA, user)));
    assert.ok(first.every((r) => r.status === 200));
    await budget.stop('SIGKILL');
    // Usage produced while the budget service is down waits in Kafka.
    const second = await Promise.all(Array.from({ length: 5 }, () => chat(ingressB, user)));
    assert.ok(second.every((r) => r.status === 200));
    budget = await startApp('budget', {
      ...env,
      AI_GATEWAY_DATA_DIR: join(tmpdir(), `aigw-budget-${randomUUID()}`),
    });
    // Ten requests of the local model, each settled once: the used balance is ten times
    // one request's real usage, whatever was redelivered after the kill.
    const perRequestUsed = await (async () => {
      const probeUser = `probe-${randomUUID()}`;
      await chat(ingressA, probeUser);
      return settledUsed(probeUser);
    })();
    let used = 0;
    for (let i = 0; i < 50 && used !== 10 * perRequestUsed; i++) {
      used = await settledUsed(user);
      if (used !== 10 * perRequestUsed) await new Promise((r) => setTimeout(r, 300));
    }
    assert.equal(used, 10 * perRequestUsed);
  });

  it("lifts a spent user's 429 on both replicas when an operator resets it on the budget service", async () => {
    const user = `reset-${randomUUID()}`;
    // Spent by one usage event of the whole budget, straight onto the usage topic: no
    // request of this user holds anything, so only the balance stands between it and a 200.
    const spent = createTokenUsageRecorded({
      requestId: `spent-${user}`,
      partitionKey: user,
      userId: user,
      inputTokens: LIMIT / 2,
      outputTokens: LIMIT / 2,
      cachedInputTokens: 0,
      usageSource: UsageSource.Reported,
      modelRequested: 'gpt-4o-mini',
      modelServed: 'gpt-4o-mini',
      provider: 'local',
      backend: 'local',
      costDollars: 0,
      weightedTokenCost: LIMIT,
      cacheHit: false,
    });
    const producer = createKafka({ clientId: 'reset-test', brokers: kafka.url }).producer();
    await producer.connect();
    try {
      const message = encodeEvent(spent);
      await producer.send({
        topic: `${prefix}${message.topic}`,
        messages: [{ key: message.key, value: message.value, headers: message.headers }],
      });
    } finally {
      await producer.disconnect();
    }
    // The exhaustion broadcast reaches both replicas.
    for (const replica of [ingressA, ingressB]) {
      const until = Date.now() + 15_000;
      let status = 0;
      while (status !== 429 && Date.now() < until) {
        status = (await chat(replica, user)).status;
        if (status !== 429) await new Promise((r) => setTimeout(r, 200));
      }
      assert.equal(status, 429, `a replica still admits ${user}`);
    }

    const reply = await fetch(`http://127.0.0.1:${budget.adminPort}/admin/budgets/${user}/reset`, {
      method: 'POST',
      body: JSON.stringify({ limit: 'tokenBudget.perUser', reason: 'integration test' }),
    });
    assert.equal(reply.status, 202, await reply.text());

    // Applied in Redis and broadcast: both replicas answer again within seconds.
    for (const replica of [ingressA, ingressB]) {
      const until = Date.now() + 15_000;
      let status = 0;
      while (status !== 200 && Date.now() < until) {
        status = (await chat(replica, user)).status;
        if (status !== 200) await new Promise((r) => setTimeout(r, 200));
      }
      assert.equal(status, 200, `a replica still refuses ${user} after the reset`);
    }
    assert.equal(
      metricSum(await metricsOf(budget), 'ai_gateway_budget_adjustments_total', {
        action: 'reset',
        limit: 'tokenBudget.perUser',
      }),
      1,
    );
  });

  it('rebuilds every balance from the Kafka log equal to the live ones in Redis', async () => {
    // What the ingresses still had to send is sent (they linger 20 ms), and the budget
    // service applied everything on its topics, before the log is compared.
    await new Promise((r) => setTimeout(r, 2_000));
    await caughtUp();
    const { stdout } = await run(
      process.execPath,
      // --restore: with the settler caught up (its group committed through what was read)
      // and nothing lost, it restores nothing.
      ['--require', '@swc-node/register', 'apps/budget/src/rebuild-cli.ts', '--restore'],
      { cwd: ROOT, env: { ...process.env, ...env }, timeout: 120_000 },
    );
    // The reset above is replayed among the usage (from its own topic, by time).
    const match =
      /rebuilt (\d+) balances from (\d+) usage events and 1 adjustments: 0 mismatches/.exec(stdout);
    assert.ok(match, stdout);
    assert.ok(Number(match[1]) > 0 && Number(match[2]) > 0, stdout);
    assert.match(stdout, /restored 0 balances; 0 left as they are/);
    process.stdout.write(`# ${stdout.trim()}\n`);
  });

  it('reports its consumer lag per partition of the usage topic, caught up after the workload', async () => {
    const usageTopic = `${prefix}${Topic.UsageRecorded}`;
    const adjustedTopic = `${prefix}${Topic.BudgetAdjusted}`;
    // The gauge is set after each committed batch; poll until the last ones are in.
    const deadline = Date.now() + 30_000;
    let samples: LagSample[] = [];
    for (;;) {
      samples = consumerLagSamples(await metricsOf(budget));
      const settler = samples.filter((s) => s.labels.group === 'budget');
      if (settler.length > 0 && settler.every((s) => s.value === 0)) break;
      assert.ok(Date.now() < deadline, `budget consumer lag: ${JSON.stringify(samples)}`);
      await new Promise((r) => setTimeout(r, 200));
    }
    process.stdout.write(`# budget consumer lag samples: ${JSON.stringify(samples)}\n`);
    // Exactly the registry's labels on every sample, none missing and none extra.
    for (const sample of samples) {
      assert.deepEqual(Object.keys(sample.labels).sort(), ['group', 'partition', 'topic']);
    }
    for (const sample of samples.filter((s) => s.labels.group === 'budget')) {
      // The settler's group consumes the usage topic and operators' adjustments, made with
      // 3 partitions above.
      assert.ok([usageTopic, adjustedTopic].includes(sample.labels.topic ?? ''), sample.line);
      assert.ok(['0', '1', '2'].includes(sample.labels.partition ?? ''), sample.line);
    }
  });
});

interface LagSample {
  readonly line: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

/** Every `ai_gateway_kafka_consumer_lag{...} value` line of a /metrics text. */
function consumerLagSamples(text: string): LagSample[] {
  return [...text.matchAll(/^ai_gateway_kafka_consumer_lag\{([^}]*)\} (\S+)$/gm)].map((m) => ({
    line: m[0],
    labels: Object.fromEntries(
      [...m[1].matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((l) => [l[1], l[2]]),
    ),
    value: Number(m[2]),
  }));
}
