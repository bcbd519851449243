// alertThreshold: 0 ("tell me about any spend") fires at the first spend of the day, once.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { LimitKind, type AlertRaised } from '@aigw/contracts';
import { gpt4TurboRoute, settlerOf, usageOf } from './testing/budget-settler-fixture';

const PRICING = `    modelPricing:
      gpt-4-turbo: {inputPer1k: 0.01, outputPer1k: 0.03}`;

function alertsOn(config: ReturnType<typeof gpt4TurboRoute>) {
  const alerts: AlertRaised[] = [];
  const { settler } = settlerOf(config, {
    alerts: { notify: async (alert) => void alerts.push(alert) },
  });
  return { settler, alerts };
}

const spend = (dollars: number, tier?: string) =>
  usageOf({ user: 'u', tokens: 10, dollars, occurredAt: new Date(), tier });

describe('alertThreshold: 0', () => {
  it('costControl: fires at the first spend above $0, once a day', async () => {
    const { settler, alerts } = alertsOn(
      gpt4TurboRoute(`
  costControl:
    alertThreshold: 0
${PRICING}
`),
    );
    await settler.handle([spend(0)]);
    assert.equal(alerts.length, 0, 'a call that cost nothing spent nothing');
    await settler.handle([spend(0.25)]);
    assert.equal(alerts.length, 1);
    assert.equal(alerts[0].limitKind, LimitKind.MaxDailyCostPerUser);
    assert.equal(alerts[0].threshold, 0);
    assert.equal(alerts[0].used, 0.25);
    await settler.handle([spend(0.5)]);
    assert.equal(alerts.length, 1, 'one alert per crossing');
  });

  it("a tier's costTracking: fires at its first spend", async () => {
    const { settler, alerts } = alertsOn(
      gpt4TurboRoute(`
  userTiers:
  - name: watched
    selector: {header: x-plan, value: watched}
    tokenBudget: {unlimited: true}
    costTracking: {enabled: true, alertThreshold: 0}
  costControl:
${PRICING}
`),
    );
    await settler.handle([spend(0.1, 'watched')]);
    assert.equal(alerts.length, 1);
    assert.equal(alerts[0].limitKind, LimitKind.TierCostTracking);
    assert.equal(alerts[0].tier, 'watched');
    await settler.handle([spend(0.1, 'watched')]);
    assert.equal(alerts.length, 1);
  });
});
