import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { bindLimit, ExhaustionView, modelLimits } from '@aigw/budget-core';
import { BudgetState, LimitKind, type AlertRaised } from '@aigw/contracts';
import { WebhookAlertNotifier } from './alert-notifier';
import {
  budgetStates as states,
  exhaustions,
  gpt4TurboRoute,
  settlerOf,
  stateSummary as summary,
  thisMinute,
  usageOf,
} from './testing/budget-settler-fixture';

const CONFIG = gpt4TurboRoute(`
  tokenBudget:
    perUser: {limit: 100, period: 30d}
  tokenRateLimit:
    perModel:
      gpt-4-turbo: {tokensPerMinute: 150}
  costControl:
    maxDailyCostPerUser: 10.00
    alertThreshold: 8.00
    modelPricing:
      gpt-4-turbo: {inputPer1k: 0.01, outputPer1k: 0.03}
`);

// The spec's enterprise plan: no token budget, an alert at $1000 of spend a day.
const UNLIMITED = gpt4TurboRoute(`
  userTiers:
  - name: enterprise
    selector: {header: x-plan, value: enterprise}
    tokenBudget: {unlimited: true}
    costTracking: {enabled: true, alertThreshold: 1000}
  costControl:
    modelPricing:
      gpt-4-turbo: {inputPer1k: 0.01, outputPer1k: 0.03}
`);

function usage(
  user: string,
  tokens: number,
  dollars: number,
  occurredAt = new Date(),
  tier?: string,
  reservationId?: string,
) {
  return usageOf({ user, tokens, dollars, occurredAt, tier, reservationId });
}

function setup() {
  const alerts: AlertRaised[] = [];
  const parts = settlerOf(CONFIG, { alerts: { notify: async (alert) => void alerts.push(alert) } });
  return { ...parts, alerts };
}

describe('BudgetSettler', () => {
  it('announces exhaustion once, when a limit is reached', async () => {
    const { published, settler } = setup();
    await settler.handle([usage('u1', 60, 0.1)]);
    assert.equal(exhaustions(published.events).length, 0);
    await settler.handle([usage('u1', 50, 0.1)]);
    const exhausted = exhaustions(published.events);
    assert.equal(exhausted.length, 1);
    assert.equal(exhausted[0].limitKind, LimitKind.TokenBudgetPerUser);
    assert.equal(exhausted[0].budgetKey, 'u1');
    assert.equal(exhausted[0].remaining, 0);
    published.events.length = 0;
    await settler.handle([usage('u1', 5, 0.1)]);
    assert.deepEqual(
      states(published.events).filter((e) => e.limitKind === LimitKind.TokenBudgetPerUser),
      [],
      'no repeat, and no `remaining` to replace it on the compacted topic',
    );
  });

  it('announces what remains once per limit per batch, after its last settlement', async () => {
    const { published, settler } = setup();
    // One minute, so the per-model limit is one balance throughout.
    const at = new Date(thisMinute() + 10_000);
    await settler.handle([
      usage('r1', 10, 0.5, at),
      usage('r1', 20, 0.5, at),
      usage('r1', 5, 0.5, at),
    ]);
    assert.deepEqual(summary(published.events), [
      `${LimitKind.MaxDailyCostPerUser} r1 ${BudgetState.Remaining} 8.5`,
      `${LimitKind.TokenBudgetPerUser} r1 ${BudgetState.Remaining} 65`,
      `${LimitKind.ModelTokensPerMinute} gpt-4-turbo ${BudgetState.Remaining} 115`,
    ]);
    published.events.length = 0;
    const last = usage('r1', 15, 0.5, at);
    await settler.handle([last]);
    assert.deepEqual(summary(published.events), [
      `${LimitKind.MaxDailyCostPerUser} r1 ${BudgetState.Remaining} 8`,
      `${LimitKind.TokenBudgetPerUser} r1 ${BudgetState.Remaining} 50`,
      `${LimitKind.ModelTokensPerMinute} gpt-4-turbo ${BudgetState.Remaining} 100`,
    ]);
    published.events.length = 0;
    await settler.handle([last]);
    assert.deepEqual(summary(published.events), [], 'a redelivered event changes nothing');
  });

  it('paces `remaining` to one per limit per interval, and never lets one follow an exhaustion', async (t) => {
    t.mock.timers.enable({ apis: ['setTimeout'] });
    const { published, metrics, settler } = settlerOf(CONFIG, {
      options: { remainingIntervalMs: 60_000 },
    });
    const at = new Date(thisMinute() + 10_000);
    const tokenStates = () =>
      states(published.events)
        .filter((e) => e.limitKind === LimitKind.TokenBudgetPerUser)
        .map((e) => `${e.state} ${e.remaining}`);
    await settler.handle([usage('p1', 10, 0.1, at)]);
    await settler.handle([usage('p1', 20, 0.1, at)]);
    await settler.handle([usage('p1', 30, 0.1, at)]);
    assert.deepEqual(tokenStates(), ['remaining 90'], 'the first at once, the next two wait');
    t.mock.timers.tick(60_000);
    assert.deepEqual(
      tokenStates(),
      ['remaining 90', 'remaining 40'],
      'the latest when the interval ends; the one in between folded into it',
    );
    assert.match(await metrics.metrics(), /ai_gateway_budget_states_coalesced_total 3/);

    await settler.handle([usage('p1', 5, 0.1, at)]);
    await settler.handle([usage('p1', 40, 0.1, at)]);
    t.mock.timers.tick(60_000);
    assert.deepEqual(
      tokenStates(),
      ['remaining 90', 'remaining 40', 'exhausted 0'],
      'the waiting remaining (35) was dropped: the compacted topic ends on exhausted',
    );
    settler.close();
  });

  it('sends a waiting `remaining` at once when the usage partitions may move (rebalance)', async (t) => {
    t.mock.timers.enable({ apis: ['setTimeout'] });
    const { published, settler } = settlerOf(CONFIG, {
      options: { remainingIntervalMs: 60_000 },
    });
    const at = new Date(thisMinute() + 10_000);
    await settler.handle([usage('q1', 10, 0.1, at)]);
    await settler.handle([usage('q1', 20, 0.1, at)]);
    const perUser = () =>
      states(published.events)
        .filter((e) => e.limitKind === LimitKind.TokenBudgetPerUser)
        .map((e) => e.remaining);
    assert.deepEqual(perUser(), [90]);
    settler.onRebalance();
    assert.deepEqual(perUser(), [90, 70], 'before the next owner can announce anything');
    t.mock.timers.tick(60_000);
    assert.deepEqual(perUser(), [90, 70], 'nothing left to send at the end of the interval');
    settler.close();
  });

  it('announces a recovery at the first settlement of a new window after an exhaustion', async () => {
    const { published, settler } = setup();
    const minute = thisMinute();
    await settler.handle([
      usage('m1', 90, 0, new Date(minute)),
      usage('m2', 80, 0, new Date(minute + 1)),
    ]);
    const [exhausted] = exhaustions(published.events).filter(
      (e) => e.limitKind === LimitKind.ModelTokensPerMinute,
    );
    assert.equal(exhausted.budgetKey, 'gpt-4-turbo');
    published.events.length = 0;

    await settler.handle([usage('m3', 10, 0, new Date(minute + 60_000))]);
    const model = states(published.events).filter(
      (e) => e.limitKind === LimitKind.ModelTokensPerMinute,
    );
    assert.equal(model.length, 1);
    assert.equal(model[0].state, BudgetState.Recovered);
    assert.equal(model[0].remaining, 140);
    assert.notEqual(model[0].windowId, exhausted.windowId);
    assert.equal(model[0].resetAt, new Date(minute + 120_000).toISOString());
    published.events.length = 0;
    await settler.handle([usage('m3', 10, 0, new Date(minute + 60_001))]);
    assert.deepEqual(
      states(published.events)
        .filter((e) => e.limitKind === LimitKind.ModelTokensPerMinute)
        .map((e) => e.state),
      [BudgetState.Remaining],
      'recovered once',
    );
  });

  it('announces a recovery when settling a hold brings a limit held full back under', async () => {
    const { store, published, settler } = setup();
    const at = thisMinute() + 10_000;
    const [model] = modelLimits(CONFIG.routes[0], 'gpt-4-turbo').map((l) => bindLimit(l, at));
    const hold = { key: model.key, amount: 140, limit: 150, windowEndsAt: model.windowRef.endsAt };
    assert.ok(store.reserve('held', [hold], 600_000, at).ok);
    // Another caller's usage settles: 10 spent, 140 held, no room for any reservation.
    await settler.handle([usage('h1', 10, 0, new Date(at))]);
    const modelStates = () =>
      states(published.events).filter((e) => e.limitKind === LimitKind.ModelTokensPerMinute);
    assert.deepEqual(
      modelStates().map((e) => [e.state, e.remaining]),
      [[BudgetState.Remaining, 0]],
    );
    published.events.length = 0;
    // The held call settles to what it really used, releasing the rest of its hold.
    await settler.handle([usage('h2', 30, 0, new Date(at + 1), undefined, 'held')]);
    assert.deepEqual(
      modelStates().map((e) => [e.state, e.remaining]),
      [[BudgetState.Recovered, 110]],
    );
  });

  it("settles a batch's bill into budgets but not into the per-minute limits that pace calls", async () => {
    const { published, settler } = setup();
    const at = new Date(thisMinute() + 10_000);
    // 200 tokens: past the user's 100-token budget and the model's 150 a minute.
    const bill = Object.assign(usage('batcher', 200, 0, at), { operation: 'batch' });
    await settler.handle([bill]);
    const exhausted = exhaustions(published.events).map((e) => e.limitKind);
    assert.ok(
      exhausted.includes(LimitKind.TokenBudgetPerUser),
      `exhausted: ${exhausted.join(', ')}`,
    );
    assert.ok(
      !exhausted.includes(LimitKind.ModelTokensPerMinute),
      `exhausted: ${exhausted.join(', ')}`,
    );
    // A synchronous call's usage still counts against the model's minute.
    published.events.length = 0;
    await settler.handle([usage('caller', 160, 0, at)]);
    assert.ok(
      exhaustions(published.events).some((e) => e.limitKind === LimitKind.ModelTokensPerMinute),
    );
  });

  it('bounds the callers whose limits it keeps bound over all models together', async () => {
    const { settler } = setup();
    const at = new Date(thisMinute() + 10_000);
    const events = Array.from({ length: 9_999 }, (_, i) =>
      Object.assign(usage(`u${i}`, 2, 0, at), { modelServed: i % 2 ? 'gpt-4-turbo' : 'gpt-4o' }),
    );
    await settler.handle(events);
    const cached = settler as unknown as {
      limitsByModel: Map<string, unknown>;
      boundCallers: number;
    };
    assert.equal(cached.limitsByModel.size, 2);
    assert.equal(cached.boundCallers, 9_999);
    // The 10,000th caller, whichever model it used, starts every cache over.
    await settler.handle([usage('u-last', 2, 0, at)]);
    assert.equal(cached.limitsByModel.size, 0);
    assert.equal(cached.boundCallers, 0);
  });

  it('gives back the hold of usage no route serves any more (its route was removed)', async () => {
    const { store, settler } = setup();
    const at = thisMinute() + 10_000;
    const [model] = modelLimits(CONFIG.routes[0], 'gpt-4-turbo').map((l) => bindLimit(l, at));
    const hold = { key: model.key, amount: 140, limit: 150, windowEndsAt: model.windowRef.endsAt };
    assert.ok(store.reserve('orphan', [hold], 600_000, at).ok);
    const orphan = Object.assign(usage('h1', 30, 0, new Date(at), undefined, 'orphan'), {
      backend: 'removed',
      modelRequested: 'removed-model',
    });
    await settler.handle([orphan]);
    // Nothing binds the usage, but the hold it names is gone: the room is back.
    assert.ok(store.reserve('next', [hold], 600_000, at).ok);
  });

  it("keeps an ingress's view: exhausted, then cleared by the new window's recovery", async () => {
    const { published, settler } = setup();
    const view = new ExhaustionView();
    const minute = thisMinute();
    await settler.handle([usage('v1', 160, 0, new Date(minute))]);
    for (const event of states(published.events)) view.apply(event);
    const [old] = modelLimits(CONFIG.routes[0], 'gpt-4-turbo').map((l) => bindLimit(l, minute));
    const stillOld = minute + 59_000; // this replica's clock lags the budget service's
    assert.equal(
      view.exhaustedUntilByKey(
        ExhaustionView.keyOf('gpt-4-turbo', old.kind, old.windowRef.id),
        stillOld,
      ),
      minute + 60_000,
    );
    published.events.length = 0;
    await settler.handle([usage('v2', 10, 0, new Date(minute + 60_000))]);
    for (const event of states(published.events)) view.apply(event);
    assert.equal(
      view.exhaustedUntilByKey(
        ExhaustionView.keyOf('gpt-4-turbo', old.kind, old.windowRef.id),
        stillOld,
      ),
      undefined,
    );
  });

  it('applies an event once, however often it is delivered', async () => {
    const { metrics, settler } = setup();
    const event = usage('u2', 40, 0.1);
    await settler.handle([event, event]);
    await settler.handle([event]);
    const text = await metrics.metrics();
    assert.match(
      text,
      /ai_gateway_budget_remaining\{budget_key="u2",limit="tokenBudget.perUser"\} 60/,
    );
    // Redeliveries are visible to an operator: one applied, two skipped.
    assert.match(text, /ai_gateway_budget_usage_events_total\{result="applied"\} 1\n/);
    assert.match(text, /ai_gateway_budget_usage_events_total\{result="duplicate"\} 2\n/);
  });

  it('shows the remaining budget after the last event of a batch', async () => {
    const { metrics, settler } = setup();
    await settler.handle([usage('u3', 10, 0.1), usage('u3', 20, 0.1), usage('u3', 5, 0.1)]);
    assert.match(
      await metrics.metrics(),
      /ai_gateway_budget_remaining\{budget_key="u3",limit="tokenBudget.perUser"\} 65/,
    );
    await settler.settle(usage('u3', 15, 0.1));
    assert.match(
      await metrics.metrics(),
      /ai_gateway_budget_remaining\{budget_key="u3",limit="tokenBudget.perUser"\} 50/,
    );
  });

  it('exhausts a per-model limit for every caller of that model', async () => {
    const { published, settler } = setup();
    await settler.handle([usage('a', 80, 0), usage('b', 80, 0)]);
    const model = exhaustions(published.events).find(
      (e) => e.limitKind === LimitKind.ModelTokensPerMinute,
    );
    assert.ok(model);
    assert.equal(model.budgetKey, 'gpt-4-turbo');
  });

  it('raises the dollar alert when the threshold is crossed, and calls the notifier', async () => {
    const { published, alerts, settler } = setup();
    await settler.handle([usage('spender', 2, 5)]);
    assert.equal(alerts.length, 0);
    await settler.handle([usage('spender', 2, 4)]);
    assert.equal(alerts.length, 1);
    assert.equal(alerts[0].threshold, 8);
    assert.equal(alerts[0].limit, 10);
    assert.ok(published.events.some((e) => e.type === 'alert.raised'));
    await settler.handle([usage('spender', 2, 0.5)]);
    assert.equal(alerts.length, 1, 'one alert per crossing');
  });

  it('an unlimited tier with costTracking: the alert and the webhook call, never an exhaustion', async () => {
    const hooks: { budgetKey: string; limitKind: string; used: number }[] = [];
    const server = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString()));
      req.on('end', () => {
        hooks.push(JSON.parse(body) as (typeof hooks)[number]);
        res.end('ok');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = server.address() as AddressInfo;
      const failures: string[] = [];
      const { published, settler } = settlerOf(UNLIMITED, {
        alerts: new WebhookAlertNotifier(`http://127.0.0.1:${port}/hook`, ({ outcome }) => {
          if (outcome !== 'delivered') failures.push(outcome);
        }),
      });
      const alerts = () => published.events.filter((e) => e.type === 'alert.raised');
      const day = new Date();
      // Far more tokens than any budget of this file, and $600 + $500 of spend in a day.
      await settler.handle([usage('corp', 10_000_000, 600, day, 'enterprise')]);
      assert.equal(alerts().length, 0, 'under the threshold');
      await settler.handle([usage('corp', 10_000_000, 500, day, 'enterprise')]);
      const [alert] = alerts();
      assert.ok(alert?.type === 'alert.raised');
      assert.equal(alert.limitKind, LimitKind.TierCostTracking);
      assert.equal(alert.tier, 'enterprise');
      assert.equal(alert.threshold, 1000);
      assert.equal(alert.used, 1100);
      assert.equal(alert.limit, undefined, 'cost tracking caps nothing');
      // The webhook call is off the settlement path: wait (boundedly) for it.
      for (const deadline = Date.now() + 10_000; hooks.length === 0 && Date.now() < deadline;) {
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      assert.deepEqual(failures, []);
      assert.equal(hooks.length, 1);
      assert.equal(hooks[0].budgetKey, 'corp');
      assert.equal(hooks[0].limitKind, LimitKind.TierCostTracking);
      assert.equal(hooks[0].used, 1100);

      await settler.handle([usage('corp', 10_000_000, 5_000, day, 'enterprise')]);
      assert.equal(alerts().length, 1, 'one alert per crossing');
      assert.deepEqual(
        states(published.events).filter((e) => e.state === BudgetState.Exhausted),
        [],
        'an unlimited tier is never exhausted',
      );
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('counts spend past a limit as overshoot', async () => {
    const { metrics, settler } = setup();
    await settler.handle([usage('over', 90, 0), usage('over', 30, 0)]);
    const text = await metrics.metrics();
    assert.match(
      text,
      /ai_gateway_reservation_overshoot_tokens_total\{limit="tokenBudget.perUser"\} 20/,
    );
  });

  it('counts spend past a per-model limit as overshoot too', async () => {
    const { metrics, settler } = setup();
    const at = new Date(thisMinute() + 1_000);
    // 150 a minute for the model: 80 + 80 + 30 from three callers within their own budgets.
    await settler.handle([usage('pm1', 80, 0, at), usage('pm2', 80, 0, at)]);
    await settler.handle([usage('pm3', 30, 0, at)]);
    assert.match(
      await metrics.metrics(),
      /ai_gateway_reservation_overshoot_tokens_total\{limit="tokenRateLimit.perModel.tokensPerMinute"\} 40/,
    );
  });
});
