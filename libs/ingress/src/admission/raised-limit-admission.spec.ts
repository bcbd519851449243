import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { GatewayConfig } from '@aigw/config';
import {
  bindLimit,
  ExhaustionView,
  LocalBudgetStore,
  modelBudgetGate,
  modelLimits,
  userLimits,
} from '@aigw/budget-core';
import { BudgetState, BudgetUnit, createBudgetStateChanged, LimitKind } from '@aigw/contracts';
import { BudgetAdmission } from './budget-admission';
import { ask, configOn, refusalOf, START } from './admission-fixture';

// A limit raised by a config reload must not stay refused by a mark made under the old one:
// the broadcast's `exhausted` (and this replica's own mark) name the limit it was spent
// against, and the compacted state topic keeps it, so a restarted replica reads it too.

function configWith(dailyLimit: number, modelTokens: number): GatewayConfig {
  return configOn(
    '  - {name: b, provider: openai, model: chat}',
    `  tokenBudget: {perUser: {limit: ${dailyLimit}, period: 1d}}
  tokenRateLimit:
    perModel:
      chat: {tokensPerMinute: ${modelTokens}}`,
  );
}

/** Admission with each caller's daily limit at 1000, `user`'s bound at START, and a reload of it. */
function dailyLimitOf1000(user: string) {
  let config = configWith(1000, 100_000);
  const view = new ExhaustionView();
  const admission = new BudgetAdmission(() => config, new LocalBudgetStore(':memory:'), view, {
    defaultMaxOutputTokens: 100,
    holdMs: 600_000,
    now: () => START,
  });
  const [daily] = userLimits({ route: config.routes[0], userKey: user }).map((l) =>
    bindLimit(l, START),
  );
  const reloadWithDailyLimit = (limit: number) => (config = configWith(limit, 100_000));
  return { view, admission, daily, reloadWithDailyLimit };
}

function exhausted(
  subject: string,
  kind: LimitKind,
  windowId: string,
  endsAt: number,
  limit: number,
) {
  return createBudgetStateChanged({
    requestId: null,
    partitionKey: subject,
    budgetKey: subject,
    limitKind: kind,
    windowId,
    state: BudgetState.Exhausted,
    remaining: 0,
    limit,
    unit: BudgetUnit.Tokens,
    resetAt: new Date(endsAt).toISOString(),
  });
}

describe('BudgetAdmission after a limit is raised', () => {
  it("admits a caller whose limit was raised past the spend the broadcast's mark was made at", async () => {
    const { view, admission, daily, reloadWithDailyLimit } = dailyLimitOf1000('alice');
    assert.equal(daily.kind, LimitKind.TokenBudgetPerUser);
    // The budget service spent alice's 1000 (its own store, not this replica's).
    view.apply(exhausted('alice', daily.kind, daily.windowRef.id, daily.windowRef.endsAt, 1000));
    const refused = await refusalOf(admission.admit(ask('alice')));
    assert.equal(refused.httpStatus, 429, 'refused while the limit is 1000');

    reloadWithDailyLimit(5000);
    const admitted = await admission.admit(ask('alice'));
    assert.ok(admitted.reservationId, 'admitted against the raised limit, with a hold');
  });

  it('still refuses from the mark when the limit was lowered', async () => {
    const { view, admission, daily, reloadWithDailyLimit } = dailyLimitOf1000('bob');
    view.apply(exhausted('bob', daily.kind, daily.windowRef.id, daily.windowRef.endsAt, 1000));
    reloadWithDailyLimit(800);
    const refused = await refusalOf(admission.admit(ask('bob')));
    assert.equal(refused.httpStatus, 429);
  });

  it("lets the router's gate through a model whose per-minute limit was raised", () => {
    let config = configWith(1_000_000, 2000);
    const view = new ExhaustionView();
    const [perModel] = modelLimits(config.routes[0], 'chat').map((l) => bindLimit(l, START));
    view.apply(
      exhausted('chat', perModel.kind, perModel.windowRef.id, perModel.windowRef.endsAt, 2000),
    );
    const gate = modelBudgetGate(view, () => START);
    assert.throws(() => gate(config.routes[0], 'chat'), /tokens/);
    config = configWith(1_000_000, 8000);
    assert.doesNotThrow(() => gate(config.routes[0], 'chat'));
  });
});
