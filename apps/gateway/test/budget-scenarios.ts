import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { estimatePromptTokensUpperBound } from '@aigw/contracts/data-plane';
import { metricSum } from '@aigw/testing';
import { startApp, type AppProcess } from '@aigw/testing/processes';

// The budget scenarios, run on the embedded store (e2e) and on real Redis (int): the
// all-in-one gateway must keep the same semantics on both.

const PROMPT = [{ role: 'user', content: 'hi' }];
const MAX_TOKENS = 20;
/** The prompt's input tokens as a reservation counts them (an upper bound). */
const INPUT_ESTIMATE = estimatePromptTokensUpperBound({ messages: PROMPT });
/** What one request reserves: its prompt estimate plus max_tokens. */
export const PER_REQUEST = INPUT_ESTIMATE + MAX_TOKENS;

interface Gateway {
  process: AppProcess;
  chat(
    user: string,
    options?: { stream?: boolean; model?: string; headers?: Record<string, string> },
  ): Promise<Response>;
  metrics(): Promise<string>;
}

async function startGateway(yaml: string, env: Record<string, string>): Promise<Gateway> {
  const dir = mkdtempSync(join(tmpdir(), 'aigw-budget-'));
  writeFileSync(join(dir, 'config.yaml'), yaml);
  const process = await startApp('gateway', {
    ...env,
    AI_GATEWAY_CONFIG: join(dir, 'config.yaml'),
    AI_GATEWAY_DATA_DIR: join(dir, 'data'),
  });
  return {
    process,
    chat: (user, options = {}) =>
      fetch(`${process.baseUrl}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-user-id': user, ...options.headers },
        body: JSON.stringify({
          model: options.model ?? 'gpt-4o-mini',
          messages: PROMPT,
          max_tokens: MAX_TOKENS,
          stream: options.stream ?? false,
        }),
      }),
    metrics: async () => (await fetch(`http://127.0.0.1:${process.adminPort}/metrics`)).text(),
  };
}

const settle = () => new Promise((resolve) => setTimeout(resolve, 600));

function route(limits: string): string {
  return `kind: AIGatewayRoute
metadata: {name: budgets}
spec:
  backends:
  - {name: local, provider: local, model: gpt-4o-mini}
  userIdentification: {header: x-user-id}
${limits}`;
}

/**
 * Fires `count` concurrent requests for one user; returns how many were admitted and
 * the first refusal's body.
 */
async function burst(gateway: Gateway, user: string, count: number, stream = false) {
  const responses = await Promise.all(
    Array.from({ length: count }, async () => {
      const response = await gateway.chat(user, { stream });
      return { status: response.status, body: await response.text() };
    }),
  );
  return {
    admitted: responses.filter((r) => r.status === 200),
    refused: responses.filter((r) => r.status === 429),
    other: responses.filter((r) => r.status !== 200 && r.status !== 429),
  };
}

export function describeBudgetScenarios(
  store: string,
  env: () => Promise<Record<string, string>>,
): void {
  describe(`budgets on the all-in-one gateway (${store})`, () => {
    it('holds a burst of 200 concurrent streams to the budget: no token billed past the limit', async () => {
      const limit = 20 * PER_REQUEST;
      const gateway = await startGateway(
        route(`  tokenBudget:\n    perUser: {limit: ${limit}, period: 30d}\n`),
        await env(),
      );
      try {
        const user = `burst-${randomUUID()}`;
        const { admitted, refused, other } = await burst(gateway, user, 200, true);
        assert.deepEqual(other, []);
        // Reservations alone fit 20; settled calls that used less than they held free room.
        assert.ok(admitted.length >= 20 && admitted.length < 200, `admitted ${admitted.length}`);
        assert.ok(admitted.every((r) => r.body.includes('data: [DONE]')));
        assert.match(refused[0].body, /Budget exceeded/);
        // Wait (boundedly) until every admitted call's usage has been settled.
        let metrics = '';
        let billed = 0;
        for (let i = 0; i < 120; i++) {
          metrics = await gateway.metrics();
          billed =
            metricSum(metrics, 'ai_gateway_tokens_total', { user, type: 'input' }) +
            metricSum(metrics, 'ai_gateway_tokens_total', { user, type: 'output' });
          const remaining = metricSum(metrics, 'ai_gateway_budget_remaining', { budget_key: user });
          if (billed > 0 && remaining === limit - billed) break;
          await settle();
        }
        assert.ok(billed > 0 && billed <= limit, `billed ${billed} of ${limit}`);
        assert.equal(metricSum(metrics, 'ai_gateway_reservation_overshoot_tokens_total', {}), 0);
        assert.equal(
          metricSum(metrics, 'ai_gateway_budget_remaining', { budget_key: user }),
          limit - billed,
        );
      } finally {
        await gateway.process.stop();
      }
    });

    const kinds: [string, string, number][] = [
      ['tokenBudget.perMinute', `  tokenBudget:\n    perMinute: {limit: ${3 * PER_REQUEST}}\n`, 3],
      [
        'tokenRateLimit.perUser.inputTokensPerMinute',
        `  tokenRateLimit:\n    perUser: {inputTokensPerMinute: ${3 * INPUT_ESTIMATE}}\n`,
        3,
      ],
      [
        'tokenRateLimit.perUser.outputTokensPerMinute',
        `  tokenRateLimit:\n    perUser: {outputTokensPerMinute: ${3 * MAX_TOKENS}}\n`,
        3,
      ],
      [
        'tokenRateLimit.perUser.totalTokensPerDay',
        `  tokenRateLimit:\n    perUser: {totalTokensPerDay: ${3 * PER_REQUEST}}\n`,
        3,
      ],
      [
        'userTiers.tokenBudget.daily',
        `  userTiers:\n  - name: free\n    selector: {header: x-plan, value: free}\n    tokenBudget: {daily: ${3 * PER_REQUEST}}\n`,
        3,
      ],
    ];
    for (const [kind, limits, fits] of kinds) {
      it(`enforces ${kind} at the point the reservations reach it`, async () => {
        const gateway = await startGateway(route(limits), await env());
        try {
          const user = `kind-${randomUUID()}`;
          const headers: Record<string, string> = kind.startsWith('userTiers')
            ? { 'x-plan': 'free' }
            : {};
          const responses = await Promise.all(
            Array.from({ length: 10 }, () => gateway.chat(user, { headers })),
          );
          const statuses = responses.map((r) => r.status);
          await Promise.all(responses.map((r) => r.text()));
          assert.ok(
            statuses.filter((s) => s === 200).length >= fits,
            `statuses ${statuses.join(',')}`,
          );
          const refused = responses.find((r) => r.status === 429);
          assert.ok(refused, 'the limit refused the rest');
          assert.ok(Number(refused.headers.get('retry-after')) > 0);
          const again = await gateway.chat(user, { headers });
          const body = await again.text();
          assert.equal(again.status, 429);
          assert.ok(body.includes(kind), body);
        } finally {
          await gateway.process.stop();
        }
      });
    }

    it('enforces costControl.maxDailyCostPerUser in dollars', async () => {
      // 1k tokens cost $1 here, so a $0.20 cap fits a handful of small calls.
      const gateway = await startGateway(
        route(
          `  costControl:\n    maxDailyCostPerUser: 0.20\n    modelPricing:\n      gpt-4o-mini: {inputPer1k: 1.0, outputPer1k: 1.0}\n`,
        ),
        await env(),
      );
      try {
        const user = `cost-${randomUUID()}`;
        let refusedAt = -1;
        for (let i = 0; i < 20 && refusedAt < 0; i++) {
          const response = await gateway.chat(user);
          const body = await response.text();
          if (response.status === 429) {
            refusedAt = i;
            assert.ok(body.includes('costControl.maxDailyCostPerUser'), body);
          }
          await settle();
        }
        assert.ok(refusedAt > 0, `refused at ${refusedAt}`);
        const metrics = await gateway.metrics();
        const dollars = metricSum(metrics, 'ai_gateway_cost_dollars', { user });
        assert.ok(dollars > 0 && dollars <= 0.2 + 1e-9, `spent ${dollars}`);
      } finally {
        await gateway.process.stop();
      }
    });

    it('fails over to the next backend when a per-model budget is exhausted', async () => {
      const gateway = await startGateway(
        `kind: AIGatewayRoute
metadata: {name: budgets}
spec:
  backends:
  - {name: limited, priority: 0, provider: local, model: gpt-4o-mini}
  - {name: spare, priority: 1, provider: local, model: spare-model, modelNameOverride: gpt-4o-mini}
  failover: {on: [budgetExceeded]}
  tokenRateLimit:
    perModel:
      gpt-4o-mini: {tokensPerMinute: ${2 * PER_REQUEST}}
`,
        await env(),
      );
      try {
        // The exhaustion broadcast reaches the router after the usage settles: keep asking
        // (boundedly) until it has, then every request goes to the spare backend.
        const backends: string[] = [];
        // On Kafka this includes a consumer group settling after earlier gateways left it.
        const deadline = Date.now() + 90_000;
        for (let i = 0; Date.now() < deadline && backends.at(-1) !== 'spare'; i++) {
          const response = await gateway.chat(`model-${i}`);
          assert.equal(response.status, 200);
          backends.push(response.headers.get('x-ai-gateway-backend') ?? '');
          const body = (await response.json()) as { model: string };
          assert.equal(body.model, 'gpt-4o-mini', 'the client still sees the model it asked for');
          await settle();
        }
        assert.equal(backends[0], 'limited');
        assert.equal(backends.at(-1), 'spare', backends.join(','));
      } finally {
        await gateway.process.stop();
      }
    });
  });
}
