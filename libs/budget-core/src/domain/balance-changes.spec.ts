import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { LimitKind } from '@aigw/contracts';
import { balanceChangesOf } from './balance-changes';
import { bindLimit } from './budget-limits';
import { DAY, MINUTE } from './budget-window';

const at = Date.UTC(2026, 11, 5, 10, 30, 15);
const amounts = {
  tokens: 120,
  inputTokens: 70,
  outputTokens: 40,
  totalTokens: 110,
  dollars: 0.25,
  requests: 1,
};

describe('balanceChangesOf', () => {
  it("gives each limit its unit's amount, its key, cap and window end, in order", () => {
    const perDay = bindLimit(
      {
        kind: LimitKind.MaxDailyCostPerUser,
        subject: 'alice',
        unit: 'dollars',
        limit: 5,
        window: DAY,
      },
      at,
    );
    const perMinute = bindLimit(
      {
        kind: LimitKind.UserRequestsPerMinute,
        subject: 'alice',
        unit: 'requests',
        limit: 60,
        window: MINUTE,
      },
      at,
    );
    assert.deepEqual(balanceChangesOf([perDay, perMinute], amounts), [
      { key: perDay.key, amount: 0.25, limit: 5, windowEndsAt: Date.UTC(2026, 11, 6) },
      { key: perMinute.key, amount: 1, limit: 60, windowEndsAt: Date.UTC(2026, 11, 5, 10, 31) },
    ]);
  });

  it('gives no change for no limit', () => {
    assert.deepEqual(balanceChangesOf([], amounts), []);
  });
});
