// Spend that lands exactly on an alert threshold (or a dollar cap) crosses it once. The
// next usage must not read as a second crossing: its spend before is what the store held,
// not what is left after subtracting its amount again in floating point (1.0006 - 0.0006
// is 0.9999999999999999, "below" a threshold of 1).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { LimitKind, type AlertRaised } from '@aigw/contracts';
import { exhaustions, gpt4TurboRoute, settlerOf, usageOf } from './testing/budget-settler-fixture';

const spend = (dollars: number) =>
  usageOf({ user: 'u', tokens: 10, dollars, occurredAt: new Date() });

describe('BudgetSettler at a threshold reached exactly', () => {
  it('raises the alert once when the next usage follows spend equal to alertThreshold', async () => {
    const alerts: AlertRaised[] = [];
    const { settler } = settlerOf(
      gpt4TurboRoute(`
  costControl:
    alertThreshold: 1
`),
      { alerts: { notify: async (alert) => void alerts.push(alert) } },
    );
    await settler.handle([spend(0.5), spend(0.5)]);
    assert.equal(alerts.length, 1, 'crossed at $1');
    await settler.handle([spend(0.0006)]);
    await settler.handle([spend(0.0007)]);
    assert.deepEqual(
      alerts.map((alert) => [alert.limitKind, alert.used]),
      [[LimitKind.MaxDailyCostPerUser, 1]],
      'one alert a day: later spend crossed nothing',
    );
  });

  it('announces a dollar cap spent exactly to its limit exhausted once', async () => {
    const { settler, published } = settlerOf(
      gpt4TurboRoute(`
  costControl:
    maxDailyCostPerUser: 1
`),
    );
    await settler.handle([spend(0.5), spend(0.5)]);
    await settler.handle([spend(0.0006)]);
    const spent = exhaustions(published.events).filter(
      (event) => event.limitKind === LimitKind.MaxDailyCostPerUser,
    );
    assert.equal(spent.length, 1, 'spent at $1; the usage after it crossed nothing');
  });
});
