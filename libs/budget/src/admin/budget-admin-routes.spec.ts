import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  BudgetAdjustmentAction,
  decodeEvent,
  encodeEvent,
  LimitKind,
  MAX_ADJUSTMENT_REASON_LENGTH,
  MAX_OPERATOR_LENGTH,
  Topic,
} from '@aigw/contracts';
import { MetricsRegistry } from '@aigw/observability';
import { metricSum, RecordingPublisher } from '@aigw/testing';
import { AdminServer } from '@aigw/runtime';
import { gpt4TurboRoute } from '../testing/budget-settler-fixture';
import { budgetAdminRoutes } from './budget-admin-routes';

/** An answer: a 202's fields, or a 400's error. */
interface Reply {
  readonly [field: string]: unknown;
  readonly error: { type: string; message: string; issues?: unknown };
}

// Every user has a token budget and a daily dollar cap; no other limit.
const CONFIG = gpt4TurboRoute(`
  tokenBudget:
    perUser: {limit: 100, period: 30d}
  costControl:
    maxDailyCostPerUser: 10.00
`);

describe('admin: POST /admin/budgets/{userKey}/reset and /credit', () => {
  const published = new RecordingPublisher();
  const metrics = new MetricsRegistry({ collectDefaultMetrics: false });
  let config = CONFIG;
  const server = new AdminServer({
    metrics: async () => '',
    metricsContentType: 'text/plain',
    ready: async () => ({ ready: true, checks: {} }),
    routes: budgetAdminRoutes(published, () => config, metrics),
  });
  let base = '';
  before(async () => {
    base = `http://127.0.0.1:${await server.listen(0, '127.0.0.1')}`;
  });
  after(() => server.close());

  async function post(path: string, body?: string, idempotencyKey?: string) {
    const response = await fetch(`${base}${path}`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        ...(idempotencyKey === undefined ? {} : { 'idempotency-key': idempotencyKey }),
      },
      ...(body === undefined ? {} : { body }),
    });
    return { status: response.status, body: (await response.json()) as Reply };
  }

  /** A refusal: 400 in the error shape, naming `field`, with no event published. */
  async function refused(path: string, body: string, field: RegExp) {
    const before = published.events.length;
    const reply = await post(path, body);
    assert.equal(reply.status, 400, `${path} ${body}: ${JSON.stringify(reply.body)}`);
    assert.equal(reply.body.error.type, 'invalid_request');
    assert.match(reply.body.error.message, field, body);
    assert.ok(Array.isArray(reply.body.error.issues), body);
    assert.equal(published.events.length, before, 'nothing published');
  }

  it('publishes a reset of every limit, keyed by the user, and answers 202 with its id', async () => {
    const reply = await post('/admin/budgets/alice/reset');
    assert.equal(reply.status, 202);
    const event = published.events.at(-1)!;
    assert.equal(event.type, 'budget.adjusted');
    assert.deepEqual(reply.body, {
      eventId: event.eventId,
      userKey: 'alice',
      action: 'reset',
      limit: 'all',
    });
    // A valid event, on its topic, keyed by the user.
    const encoded = encodeEvent(event, { validate: true });
    assert.equal(encoded.topic, Topic.BudgetAdjusted);
    assert.equal(encoded.key, 'alice');
    assert.ok(decodeEvent(Topic.BudgetAdjusted, encoded.value).ok);
  });

  it('publishes a reset of one limit and a credit, with the reason', async () => {
    const reset = await post(
      '/admin/budgets/team%2Falice/reset',
      JSON.stringify({ limit: LimitKind.TokenBudgetPerUser, reason: 'ticket 42' }),
    );
    assert.equal(reset.status, 202);
    assert.equal(reset.body.userKey, 'team/alice');
    assert.equal(reset.body.limit, LimitKind.TokenBudgetPerUser);
    const credit = await post(
      '/admin/budgets/bob/credit',
      JSON.stringify({ limit: LimitKind.MaxDailyCostPerUser, amount: 2.5 }),
    );
    assert.equal(credit.status, 202);
    const event = published.events.at(-1)!;
    assert.ok(event.type === 'budget.adjusted');
    assert.equal(event.action, BudgetAdjustmentAction.Credit);
    assert.equal(event.amount, 2.5);
    assert.equal(event.limitKind, LimitKind.MaxDailyCostPerUser);
    assert.equal(event.partitionKey, 'bob');
    assert.equal(encodeEvent(event, { validate: true }).key, 'bob');
  });

  it('names a retry with the same Idempotency-Key by the same event id, which is applied once', async () => {
    const credit = JSON.stringify({ limit: LimitKind.TokenBudgetPerUser, amount: 40 });
    const first = await post('/admin/budgets/carol/credit', credit, 'ticket-7-credit');
    const retry = await post('/admin/budgets/carol/credit', credit, 'ticket-7-credit');
    assert.equal(first.status, 202);
    assert.equal(retry.status, 202);
    assert.equal(retry.body.eventId, first.body.eventId);
    const [a, b] = published.events.slice(-2);
    assert.equal(a.eventId, b.eventId);
    // Still a valid event id (a version-8 UUID).
    assert.ok(encodeEvent(b, { validate: true }));
    // Without a key, or with the key on another amount or user, each is its own.
    const plain = await post('/admin/budgets/carol/credit', credit);
    const more = await post(
      '/admin/budgets/carol/credit',
      JSON.stringify({ limit: LimitKind.TokenBudgetPerUser, amount: 41 }),
      'ticket-7-credit',
    );
    const dave = await post('/admin/budgets/dave/credit', credit, 'ticket-7-credit');
    const ids = [first, plain, more, dave].map((reply) => reply.body.eventId);
    assert.equal(new Set(ids).size, 4, JSON.stringify(ids));
  });

  it('refuses an Idempotency-Key that cannot be one, publishing nothing', async () => {
    const before = published.events.length;
    for (const key of ['has space', 'k'.repeat(256)]) {
      const reply = await post('/admin/budgets/carol/reset', undefined, key);
      assert.equal(reply.status, 400, key);
      assert.match(reply.body.error.message, /Idempotency-Key/);
    }
    assert.equal(published.events.length, before);
  });

  it('carries who made it, when the body names an operator, on the event and in the answer', async () => {
    const reply = await post(
      '/admin/budgets/carol/credit',
      JSON.stringify({
        limit: LimitKind.TokenBudgetPerUser,
        amount: 10,
        operator: 'sre-oncall',
      }),
    );
    assert.equal(reply.status, 202);
    assert.equal(reply.body.operator, 'sre-oncall');
    const event = published.events.at(-1)!;
    assert.ok(event.type === 'budget.adjusted');
    assert.equal(event.operator, 'sre-oncall');
    const decoded = decodeEvent(Topic.BudgetAdjusted, encodeEvent(event, { validate: true }).value);
    assert.ok(decoded.ok);
    assert.equal(decoded.value.operator, 'sre-oncall');
    // Unnamed: neither the event nor the answer has the field.
    const unnamed = await post('/admin/budgets/carol/reset');
    assert.ok(!('operator' in unnamed.body));
    const last = published.events.at(-1)!;
    assert.ok(last.type === 'budget.adjusted');
    assert.equal(last.operator, undefined);
    assert.ok(!('operator' in JSON.parse(encodeEvent(last).value.toString())));
  });

  it('refuses bad input with a 400 naming the field', async () => {
    const credit = '/admin/budgets/bob/credit';
    const kind = LimitKind.TokenBudgetPerUser;
    await refused('/admin/budgets/bob/reset', '{"limit":"tokenBudget.perWeek"}', /limit must be/);
    await refused(credit, `{"limit":"${LimitKind.ModelTokensPerMinute}","amount":5}`, /limit/);
    for (const amount of ['0', '-1', '"5"', '1e400', 'null']) {
      await refused(credit, `{"limit":"${kind}","amount":${amount}}`, /amount/);
    }
    await refused(credit, `{"limit":"${kind}"}`, /a credit needs an amount/);
    await refused(credit, '{"amount":5}', /a credit needs a limit/);
    await refused('/admin/budgets/bob/reset', '{"amount":5}', /a reset takes no amount/);
    const long = 'x'.repeat(MAX_ADJUSTMENT_REASON_LENGTH + 1);
    await refused('/admin/budgets/bob/reset', `{"reason":"${long}"}`, /reason must be at most/);
    await refused('/admin/budgets/bob/reset', '{"reason":5}', /reason must be a string/);
    await refused('/admin/budgets/bob/reset', '{"user":"mallory"}', /user should not exist/);
    const operator = /operator must be 1 to 64 printable characters/;
    for (const bad of ['""', '5', 'null', '"a\\nb"', `"${'o'.repeat(MAX_OPERATOR_LENGTH + 1)}"`]) {
      await refused('/admin/budgets/bob/reset', `{"operator":${bad}}`, operator);
    }
    await refused('/admin/budgets/bob/reset', '[1]', /JSON object/);
    await refused('/admin/budgets/bob/reset', '{"limit":', /not JSON/);
    await refused(`/admin/budgets/${'u'.repeat(257)}/reset`, '{}', /userKey/);
    await refused('/admin/budgets/%E0%A4%A/reset', '{}', /URI/);
  });

  it('answers 404 when the configuration gives the user no such limit, publishing nothing', async () => {
    const before = published.events.length;
    const missing = await post(
      '/admin/budgets/bob/reset',
      JSON.stringify({ limit: LimitKind.TokenBudgetPerMinute }),
    );
    assert.equal(missing.status, 404);
    assert.equal(missing.body.error.type, 'not_found');
    assert.match(
      missing.body.error.message,
      /no route configures a tokenBudget\.perMinute for bob/,
    );
    config = gpt4TurboRoute();
    try {
      assert.equal((await post('/admin/budgets/bob/reset')).status, 404, 'no limit at all');
    } finally {
      config = CONFIG;
    }
    assert.equal(published.events.length, before);
  });

  it('answers 409 to an adjustment of limits that are 0 everywhere, publishing nothing', async () => {
    const refusals = async (labels: Record<string, string>) =>
      metricSum(await metrics.metrics(), 'ai_gateway_budget_adjustments_total', {
        outcome: 'limit_closed',
        ...labels,
      });
    const before = published.events.length;
    config = gpt4TurboRoute(`
  tokenBudget:
    perUser: {limit: 0, period: 30d}
  costControl:
    maxDailyCostPerUser: 10.00
  userTiers:
  - {name: frozen, selector: {header: x-plan, value: frozen}, tokenBudget: {daily: 0}}
`);
    try {
      // A 0 allows nothing whatever its balance: the credit would be accepted and change nothing.
      const credit = await post(
        '/admin/budgets/alice/credit',
        JSON.stringify({ limit: LimitKind.TokenBudgetPerUser, amount: 50 }),
      );
      assert.equal(credit.status, 409, JSON.stringify(credit.body));
      assert.equal(credit.body.error.type, 'limit_closed');
      assert.match(
        credit.body.error.message,
        /the tokenBudget\.perUser limit of alice is 0 wherever it is configured: a limit of 0 allows nothing, so a credit gives nothing back; raise the limit/,
      );
      assert.equal(await refusals({ action: 'credit', limit: LimitKind.TokenBudgetPerUser }), 1);
      const reset = await post(
        '/admin/budgets/alice/reset',
        JSON.stringify({ limit: LimitKind.TierDailyTokens }),
      );
      assert.equal(reset.status, 409);
      assert.equal(await refusals({ action: 'reset', limit: LimitKind.TierDailyTokens }), 1);
      assert.equal(published.events.length, before, 'nothing published');

      // A limit with room somewhere (the dollar cap, another tier) is adjusted as before.
      const dollars = await post(
        '/admin/budgets/alice/credit',
        JSON.stringify({ limit: LimitKind.MaxDailyCostPerUser, amount: 1 }),
      );
      assert.equal(dollars.status, 202);
      assert.equal((await post('/admin/budgets/alice/reset')).status, 202, 'not every limit is 0');
      config = gpt4TurboRoute(`
  tokenBudget:
    perUser: {limit: 0, period: 30d}
  userTiers:
  - {name: frozen, selector: {header: x-plan, value: frozen}, tokenBudget: {daily: 0}}
  - {name: pro, selector: {header: x-plan, value: pro}, tokenBudget: {daily: 1000}}
`);
      const tier = await post(
        '/admin/budgets/alice/credit',
        JSON.stringify({ limit: LimitKind.TierDailyTokens, amount: 100 }),
      );
      assert.equal(tier.status, 202, "the pro tier's 1000 has room to give back");
      assert.equal(published.events.length, before + 3);
      // Every limit 0: a reset of all of them is refused too, counted under 'all'.
      config = gpt4TurboRoute(`
  tokenBudget:
    perUser: {limit: 0, period: 30d}
  costControl:
    maxDailyCostPerUser: 0
`);
      const all = await post('/admin/budgets/alice/reset', JSON.stringify({ operator: 'sre' }));
      assert.equal(all.status, 409);
      assert.match(all.body.error.message, /every budget limit of alice is 0/);
      assert.equal(await refusals({ action: 'reset', limit: 'all' }), 1);
      assert.equal(published.events.length, before + 3);
    } finally {
      config = CONFIG;
    }
  });

  it('answers 405 to another method and 404 to another action', async () => {
    const get = await fetch(`${base}/admin/budgets/bob/reset`);
    assert.equal(get.status, 405);
    assert.equal(get.headers.get('allow'), 'POST');
    assert.equal((await post('/admin/budgets/bob/refund', '{}')).status, 404);
    assert.equal((await post('/admin/budgets//reset', '{}')).status, 404);
  });
});
