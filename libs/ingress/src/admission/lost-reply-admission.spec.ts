import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { bindLimit, userLimits, type BudgetStore } from '@aigw/budget-core';
import { DataPlaneErrorCode } from '@aigw/contracts/data-plane';
import { admissionOn, ask, refusalOf, START } from './admission-fixture';

// A reservation whose reply is lost (Redis answered after the 2 s command timeout, or the
// connection dropped after the script ran) may have taken its hold: the caller gets a 503
// and never settles it, so it would keep the budget held until it lapses (10 minutes by
// default), refusing the caller's next calls against room nobody uses.

describe('BudgetAdmission when a reservation reply is lost', () => {
  it('gives back the hold the lost reservation may have taken', async () => {
    const { admission, store, route } = admissionOn(
      '  - {name: b, provider: openai, model: chat}',
      '  tokenBudget: {perMinute: {limit: 100}}',
    );
    const reserve = store.reserve.bind(store);
    let lost = true;
    (store as BudgetStore).reserve = async (...args) => {
      const result = reserve(...args); // the script ran and held
      if (lost) throw new Error('Command timed out');
      return result;
    };
    const refusal = await refusalOf(admission.admit(ask('carol', 40)));
    assert.equal(refusal.code, DataPlaneErrorCode.BudgetUnavailable);
    // Wait for the best-effort release the refusal sent on its way.
    await new Promise((resolve) => setImmediate(resolve));
    const [limit] = userLimits({ route, userKey: 'carol' }).map((l) => bindLimit(l, START));
    const [balance] = await store.balances([limit], START);
    assert.equal(balance.reserved, 0, 'nothing stays held for a call that was refused');
    lost = false;
    const admitted = await admission.admit(ask('carol', 40));
    assert.ok(admitted.reservationId);
  });
});
