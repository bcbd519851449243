// Admission against request-count limits (tokenRateLimit.*.requestsPerMinute): one call holds one request.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { modelBudgetGate } from '@aigw/budget-core';
import { START, admissionOn, ask, family, refusalOf } from './admission-fixture';

const setup = (policy: string) =>
  admissionOn(
    `  - {name: limited, priority: 0, provider: openai, model: gpt-4-turbo, modelNameOverride: chat}
  - {name: spare, priority: 1, provider: openai, model: gpt-3.5-turbo, modelNameOverride: chat}`,
    policy,
  );
const requestHeaders = (headers: Readonly<Record<string, string>> | undefined) =>
  family(headers, 'requests');

describe('BudgetAdmission: requestsPerMinute', () => {
  it("holds one request per call on the caller's limit, whatever the call's size", async () => {
    const { admission } = setup(`  tokenRateLimit:
    perUser: {inputTokensPerMinute: 100000, requestsPerMinute: 3}`);
    const remaining: string[] = [];
    let remainingTokens = '';
    for (const size of [1, 2000, 10]) {
      const admitted = await admission.admit(ask('alice', size));
      remainingTokens = admitted.headers['x-ratelimit-remaining-tokens'];
      assert.equal(admitted.headers['x-ratelimit-limit-requests'], '3');
      assert.equal(admitted.headers['x-ratelimit-reset-requests'], '30s');
      // Beside the tightest token limit's headers, not instead of them.
      assert.equal(admitted.headers['x-ratelimit-limit-tokens'], '100000');
      remaining.push(admitted.headers['x-ratelimit-remaining-requests']);
    }
    assert.deepEqual(remaining, ['2', '1', '0']);

    const refusal = await refusalOf(admission.admit(ask('alice')));
    assert.equal(refusal.httpStatus, 429);
    assert.match(refusal.message, /tokenRateLimit\.perUser\.requestsPerMinute allows 3 requests/);
    assert.equal(refusal.retryAfterMs, 30_000);
    // The refusing limit's headers, and the token limit's beside them (as the README lists
    // for a refused request): 3 calls held 3 x (prompt + max_tokens) of the 100000.
    assert.deepEqual(refusal.headers, {
      'x-ratelimit-limit-requests': '3',
      'x-ratelimit-remaining-requests': '0',
      'x-ratelimit-reset-requests': '30s',
      'x-ratelimit-limit-tokens': '100000',
      'x-ratelimit-remaining-tokens': remainingTokens,
      'x-ratelimit-reset-tokens': '30s',
    });
    // Another caller has a limit of its own.
    const bob = await admission.admit(ask('bob'));
    assert.equal(bob.headers['x-ratelimit-remaining-requests'], '2');
  });

  it('a released hold (a failed call) gives its request back', async () => {
    const { admission } = setup(`  tokenRateLimit:
    perUser: {requestsPerMinute: 1}`);
    const first = await admission.admit(ask('alice'));
    assert.deepEqual(first.headers, {
      'x-ratelimit-limit-requests': '1',
      'x-ratelimit-remaining-requests': '0',
      'x-ratelimit-reset-requests': '30s',
    });
    await refusalOf(admission.admit(ask('alice')));
    await admission.release(first);
    assert.ok((await admission.admit(ask('alice'))).reservationId);
  });

  it("holds the served model's request limit, shared by every caller; the tightest is sent", async () => {
    const { admission } = setup(`  tokenRateLimit:
    perUser: {requestsPerMinute: 5}
    perModel:
      gpt-4-turbo: {requestsPerMinute: 2}`);
    const first = await admission.admit(ask('alice'));
    assert.deepEqual(requestHeaders(first.headers), {
      'x-ratelimit-limit-requests': '2',
      'x-ratelimit-remaining-requests': '1',
      'x-ratelimit-reset-requests': '30s',
    });
    await admission.admit(ask('bob'));
    const refusal = await refusalOf(admission.admit(ask('carol')));
    assert.equal(refusal.httpStatus, 429);
    assert.match(refusal.message, /tokenRateLimit\.perModel\.requestsPerMinute/);
    assert.equal(refusal.headers?.['x-ratelimit-limit-requests'], '2');
  });

  it('with budgetExceeded failover: a model out of requests diverts to the next and is marked for the router', async () => {
    const { admission, view, route } = setup(`  failover: {on: [budgetExceeded]}
  tokenRateLimit:
    perModel:
      gpt-4-turbo: {tokensPerMinute: 100000, requestsPerMinute: 1}
      gpt-3.5-turbo: {requestsPerMinute: 10}`);
    const first = await admission.admit(ask('alice'));
    assert.equal(first.headers['x-ratelimit-limit-requests'], '1');
    const diverted = await admission.admit(ask('bob'));
    assert.deepEqual(requestHeaders(diverted.headers), {
      'x-ratelimit-limit-requests': '10',
      'x-ratelimit-remaining-requests': '9',
      'x-ratelimit-reset-requests': '30s',
    });
    const gate = modelBudgetGate(view, () => START);
    assert.throws(() => gate(route, 'gpt-4-turbo'), /requestsPerMinute/);
    gate(route, 'gpt-3.5-turbo');
  });
});
