import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { Topic } from '@aigw/contracts';
import { metricSum } from '@aigw/testing';
import { startApp, type AppProcess } from '@aigw/testing/processes';
import { embeddedEventLog, PER_REQUEST, type RecordedEvent } from './budget-scenarios';

// An operator gives a user's budget back on the admin port of the all-in-one gateway:
// the reset is an event the settler applies, and its broadcast lifts the 429 at once.

const LIMIT = 3 * PER_REQUEST;
const YAML = `kind: AIGatewayRoute
metadata: {name: budgets}
spec:
  backends:
  - {name: local, provider: local, model: gpt-4o-mini}
  userIdentification: {header: x-user-id}
  tokenBudget:
    perUser: {limit: ${LIMIT}, period: 30d}
`;

const utf8Bytes = (text: string) => Buffer.from(text, 'utf8').toString('latin1');
const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `probe` until it returns a value, up to a deadline. */
async function eventually<T>(what: string, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await pause(100);
  }
}

describe('budget resets and credits on the all-in-one gateway (embedded store)', () => {
  let gateway: AppProcess;
  let dataDir: string;

  before(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'aigw-budget-adjust-'));
    writeFileSync(join(dir, 'config.yaml'), YAML);
    dataDir = join(dir, 'data');
    gateway = await startApp('gateway', {
      AI_GATEWAY_CONFIG: join(dir, 'config.yaml'),
      AI_GATEWAY_DATA_DIR: dataDir,
    });
  });
  after(() => gateway.stop());

  const chat = async (user: string) => {
    const response = await fetch(`${gateway.baseUrl}/v1/chat/completions`, {
      method: 'POST',
      // The id's UTF-8 bytes, as curl sends it (fetch writes each character as one byte).
      headers: { 'content-type': 'application/json', 'x-user-id': utf8Bytes(user) },
      body: JSON.stringify({
        model: 'gpt-4o-mini',
        messages: [{ role: 'user', content: 'hi' }],
        max_tokens: 20,
      }),
    });
    return { status: response.status, body: await response.text() };
  };

  const admin = (path: string, body: unknown) =>
    fetch(`http://127.0.0.1:${gateway.adminPort}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });

  const metrics = async () => (await fetch(`http://127.0.0.1:${gateway.adminPort}/metrics`)).text();

  /** The budget-state events of `user` recorded so far. */
  const statesOf = async (user: string): Promise<RecordedEvent[]> =>
    (await embeddedEventLog(dataDir, Topic.BudgetState)).filter((e) => e.budgetKey === user);

  /** Spends `user`'s budget until a request is refused: the refusal's body. */
  async function exhaust(user: string): Promise<string> {
    for (let i = 0; i < 20; i++) {
      const answer = await chat(user);
      if (answer.status === 429) return answer.body;
      assert.equal(answer.status, 200, answer.body);
      // Settled before the next, so reservations do not refuse it early.
      await eventually('the usage to settle', async () => {
        const text = await metrics();
        const left = metricSum(text, 'ai_gateway_budget_remaining', { budget_key: user });
        const billed = metricSum(text, 'ai_gateway_tokens_total', { user });
        return billed > 0 && left === Math.max(0, LIMIT - billed) ? true : undefined;
      });
    }
    assert.fail(`${user} was never refused`);
  }

  /**
   * `user`'s first call served after their budget was given back. The broadcast reaches the
   * exhaustion view on the bus's next flush, which a loaded machine may hold back: a refused
   * call settles nothing, so asking again until then changes no balance.
   */
  const servedOnceLifted = (user: string) =>
    eventually(`${user} served again`, async () => {
      const answer = await chat(user);
      if (answer.status === 429) return undefined;
      return answer;
    });

  it('a reset lifts the 429 for that user only; the budgets report shows the balance', async () => {
    const alice = `alice-${randomUUID()}`;
    const carol = `carol-${randomUUID()}`;
    const refusal = await exhaust(alice);
    assert.match(refusal, /budget_exceeded/);
    await exhaust(carol);
    assert.equal((await chat(alice)).status, 429, 'still refused before the reset');

    const reply = await admin(`/admin/budgets/${encodeURIComponent(alice)}/reset`, {
      reason: 'runaway script',
    });
    assert.equal(reply.status, 202);
    const accepted = (await reply.json()) as { eventId: string; limit: string };
    assert.equal(accepted.limit, 'all');

    // Applied and broadcast: the event is in the log, and so is alice's recovery.
    const recovered = await eventually('the recovery broadcast', async () =>
      (await statesOf(alice)).find((e) => e.state === 'recovered'),
    );
    assert.equal(recovered.limitKind, 'tokenBudget.perUser');
    assert.equal(recovered.remaining, LIMIT);
    const adjustments = await embeddedEventLog(dataDir, Topic.BudgetAdjusted);
    assert.deepEqual(
      adjustments.map((e) => [e.eventId, e.userKey, e.action]),
      [[accepted.eventId, alice, 'reset']],
    );

    const next = await servedOnceLifted(alice);
    assert.equal(next.status, 200, next.body);
    assert.equal((await chat(carol)).status, 429, 'another user is unaffected');

    const text = await metrics();
    assert.equal(
      metricSum(text, 'ai_gateway_budget_adjustments_total', {
        action: 'reset',
        limit: 'tokenBudget.perUser',
      }),
      1,
    );
    assert.match(gateway.output(), /"msg":"budget adjusted"/);

    // The analytics report reads the latest state per limit: alice's has room again.
    const row = await eventually('the budgets report', async () => {
      const report = (await (await fetch(`${gateway.baseUrl}/v1/analytics/budgets`)).json()) as {
        rows: { budgetKey: string; limitKind: string; state: string; remaining: number }[];
      };
      const mine = report.rows.find((r) => r.budgetKey === alice);
      return mine && mine.state !== 'exhausted' ? mine : undefined;
    });
    assert.equal(row.limitKind, 'tokenBudget.perUser');
    assert.ok(row.remaining > 0 && row.remaining <= LIMIT, `remaining ${row.remaining}`);
  });

  it('a user id sent as UTF-8 is the id the admin API names (not its Latin-1 reading)', async () => {
    const jose = `josé-${randomUUID()}`;
    await exhaust(jose);
    const reply = await admin(`/admin/budgets/${encodeURIComponent(jose)}/reset`, {
      reason: 'accented id',
    });
    assert.equal(reply.status, 202);
    await eventually('the recovery broadcast', async () =>
      (await statesOf(jose)).find((e) => e.state === 'recovered'),
    );
    const next = await servedOnceLifted(jose);
    assert.equal(next.status, 200, next.body);
  });

  it('a credit gives back that many tokens', async () => {
    const dave = `dave-${randomUUID()}`;
    await exhaust(dave);
    const reply = await admin(`/admin/budgets/${dave}/credit`, {
      limit: 'tokenBudget.perUser',
      amount: LIMIT,
      reason: 'ticket 7',
      operator: 'sre-oncall',
    });
    assert.equal(reply.status, 202);
    const { eventId } = (await reply.json()) as { eventId: string };
    await eventually('the recovery broadcast', async () =>
      (await statesOf(dave)).find((e) => e.state === 'recovered'),
    );
    const next = await servedOnceLifted(dave);
    assert.equal(next.status, 200, next.body);

    // The log line names who made it.
    await eventually('the log line', async () =>
      gateway
        .output()
        .split('\n')
        .some(
          (line) =>
            line.includes('"msg":"budget adjusted"') && line.includes('"operator":"sre-oncall"'),
        )
        ? true
        : undefined,
    );

    // The analytics API answers who gave dave budget back, when and how much.
    const listed = await eventually('the adjustment in analytics', async () => {
      const { rows } = (await (
        await fetch(`${gateway.baseUrl}/v1/analytics/budget-adjustments?user=${dave}`)
      ).json()) as { rows: Record<string, unknown>[] };
      return rows.length > 0 ? rows : undefined;
    });
    assert.deepEqual(
      listed.map((r) => [r.eventId, r.user, r.action, r.limitKind, r.amount, r.reason, r.operator]),
      [[eventId, dave, 'credit', 'tokenBudget.perUser', LIMIT, 'ticket 7', 'sre-oncall']],
    );
    // And dave's usage names its operation: every call was a chat.
    const usage = (await (
      await fetch(`${gateway.baseUrl}/v1/analytics/usage?groupBy=operation&user=${dave}`)
    ).json()) as { series: { key: string }[]; totals: { requests: number } };
    assert.ok(usage.totals.requests >= 3, JSON.stringify(usage.totals));
    assert.deepEqual([...new Set(usage.series.map((p) => p.key))], ['chat']);
  });

  it('refuses a bad request with a 400 in the error shape, and publishes nothing', async () => {
    const before = (await embeddedEventLog(dataDir, Topic.BudgetAdjusted)).length;
    const reply = await admin('/admin/budgets/erin/credit', { limit: 'tokenBudget.perWeek' });
    assert.equal(reply.status, 400);
    const body = (await reply.json()) as { error: { type: string; message: string } };
    assert.equal(body.error.type, 'invalid_request');
    assert.match(body.error.message, /limit must be one of/);
    assert.match(body.error.message, /a credit needs an amount/);
    // Not on the public port.
    const publicPort = await fetch(`${gateway.baseUrl}/admin/budgets/erin/reset`, {
      method: 'POST',
    });
    assert.equal(publicPort.status, 404);
    await pause(200);
    assert.equal((await embeddedEventLog(dataDir, Topic.BudgetAdjusted)).length, before);
  });
});
