// The Retry-After of a refusal by a limit that calls in flight hold full, not one spent: the
// room comes back as those calls end, not when the window does.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { bindLimit, userLimits } from '@aigw/budget-core';
import { START, admissionOn, ask, refusalOf } from './admission-fixture';

const BACKEND = '  - {name: b, provider: openai, model: gpt-4o, modelNameOverride: chat}';
const DAILY = '  tokenBudget: {perUser: {limit: 1000, period: 1d}}';
const MIDNIGHT = Date.UTC(2026, 0, 2);

describe('BudgetAdmission: a limit held full by calls in flight', () => {
  it('asks for a retry in seconds, not at the end of the day, when the call fits once they end', async () => {
    const { admission } = admissionOn(BACKEND, DAILY);
    const running = await admission.admit(ask('alice', 600));
    const refusal = await refusalOf(admission.admit(ask('alice', 600)));
    assert.equal(refusal.httpStatus, 429);
    assert.ok(refusal.retryAfterMs !== undefined && refusal.retryAfterMs > 0);
    assert.ok(refusal.retryAfterMs <= 60_000, `Retry-After ${refusal.retryAfterMs} ms`);
    // The headers still tell the limit's window.
    assert.equal(refusal.headers?.['x-ratelimit-reset-tokens'], '11h59m30s');
    // And the room is there once the call in flight gives its hold back.
    await admission.release(running);
    await admission.admit(ask('alice', 600));
  });

  it('keeps the window’s end when the spend alone leaves no room for the call', async () => {
    const { admission, store, route } = admissionOn(BACKEND, DAILY);
    const [perUser] = userLimits({ route, userKey: 'alice' }).map((l) => bindLimit(l, START));
    const spend = { key: perUser.key, limit: 1000, amount: 700, windowEndsAt: MIDNIGHT };
    store.settle('spent', undefined, [spend], START);
    await admission.admit(ask('alice', 100));
    const refusal = await refusalOf(admission.admit(ask('alice', 600)));
    assert.equal(refusal.retryAfterMs, MIDNIGHT - START);
  });

  it('keeps the window’s end for a request count: a call in flight spends its hold', async () => {
    const { admission } = admissionOn(
      BACKEND,
      '  tokenRateLimit: {perUser: {requestsPerMinute: 1}}',
    );
    await admission.admit(ask('alice'));
    const refusal = await refusalOf(admission.admit(ask('alice')));
    assert.equal(refusal.retryAfterMs, 30_000);
  });

  it('never asks for a retry past the window’s end', async () => {
    const clock = { now: MIDNIGHT - 2_000 };
    const { admission } = admissionOn(BACKEND, DAILY, clock);
    await admission.admit(ask('alice', 600));
    const refusal = await refusalOf(admission.admit(ask('alice', 600)));
    assert.equal(refusal.retryAfterMs, 2_000);
  });
});
