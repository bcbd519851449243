// The x-ratelimit-* headers admission gives: both families (tokens and requests) on a
// refusal, and the caller's limits as last told for an answer admitted without a hold.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { LimitKind } from '@aigw/contracts';
import { START, admissionOn, ask, family, refusalOf } from './admission-fixture';

const setup = (policy: string, clock = { now: START }) =>
  admissionOn(
    '  - {name: limited, provider: openai, model: gpt-4-turbo, modelNameOverride: chat}',
    policy,
    clock,
  );

describe('BudgetAdmission: rate-limit headers', () => {
  it('a token refusal carries the request limit’s headers too', async () => {
    const { admission } = setup(`  tokenRateLimit:
    perUser: {outputTokensPerMinute: 1000, requestsPerMinute: 50}`);
    // Each call holds its max_tokens as output: two of 400 fit 1000, a third not.
    const first = await admission.admit(ask('alice', 400));
    await admission.admit(ask('alice', 400));
    const refusal = await refusalOf(admission.admit(ask('alice', 400)));
    assert.equal(refusal.httpStatus, 429);
    assert.match(refusal.message, /outputTokensPerMinute/);
    assert.equal(refusal.headers?.['x-ratelimit-limit-tokens'], '1000');
    // Two held of 50: what the store says, with nothing held for the refused call.
    assert.deepEqual(family(refusal.headers, 'requests'), {
      'x-ratelimit-limit-requests': '50',
      'x-ratelimit-remaining-requests': '48',
      'x-ratelimit-reset-requests': '30s',
    });
    assert.equal(first.headers['x-ratelimit-remaining-requests'], '49');
  });

  it('a refusal from the exhaustion view asks the store nothing: its own family alone', async () => {
    const { admission, view, store } = setup(`  tokenRateLimit:
    perUser: {inputTokensPerMinute: 100000, requestsPerMinute: 2}`);
    await admission.admit(ask('alice'));
    view.markExhausted(
      'alice',
      LimitKind.UserRequestsPerMinute,
      `60000@${START - 30_000}`,
      START + 30_000,
    );
    assert.ok(admission.spentLimit(ask('alice')), 'the view knows the limit is spent');
    // A caller hammering a spent limit must cost the store nothing: no read, no hold.
    let storeCalls = 0;
    for (const method of ['balances', 'reserve'] as const) {
      const original = store[method].bind(store) as (...args: unknown[]) => unknown;
      (store as unknown as Record<string, unknown>)[method] = (...args: unknown[]) => {
        storeCalls++;
        return original(...args);
      };
    }
    const refusal = await refusalOf(admission.admit(ask('alice')));
    assert.equal(storeCalls, 0);
    assert.deepEqual(refusal.headers, {
      'x-ratelimit-limit-requests': '2',
      'x-ratelimit-remaining-requests': '0',
      'x-ratelimit-reset-requests': '30s',
    });
  });

  it('a caller with only a request limit is refused with the request headers alone', async () => {
    const { admission } = setup(`  tokenRateLimit:
    perUser: {requestsPerMinute: 1}`);
    await admission.admit(ask('alice'));
    const refusal = await refusalOf(admission.admit(ask('alice')));
    assert.deepEqual(refusal.headers, {
      'x-ratelimit-limit-requests': '1',
      'x-ratelimit-remaining-requests': '0',
      'x-ratelimit-reset-requests': '30s',
    });
  });

  it('a reused answer is told what the caller’s last admitted call was, asking the store nothing', async () => {
    const clock = { now: START };
    const { admission, store } = setup(
      `  caching: {enabled: true}
  tokenRateLimit:
    perUser: {inputTokensPerMinute: 100000, requestsPerMinute: 5}
    perModel:
      gpt-4-turbo: {requestsPerMinute: 3}`,
      clock,
    );
    // Nothing admitted yet for this caller: nothing to tell.
    assert.deepEqual(admission.limitHeaders(ask('alice')), {});
    const admitted = await admission.admit(ask('alice'));
    let storeCalls = 0;
    const balances = store.balances.bind(store);
    store.balances = (...args: Parameters<typeof balances>) => {
      storeCalls++;
      return balances(...args);
    };
    const reused = admission.limitHeaders(ask('alice'));
    assert.equal(storeCalls, 0, 'a cache hit costs the store nothing');
    // The tightest request limit (the model's 3, one held) shows 2 left, as the call was told.
    assert.deepEqual(family(reused, 'requests'), {
      'x-ratelimit-limit-requests': '3',
      'x-ratelimit-remaining-requests': '2',
      'x-ratelimit-reset-requests': '30s',
    });
    assert.deepEqual(reused, admitted.headers);
    assert.deepEqual(admission.limitHeaders(ask('bob')), {}, 'another caller is not told it');
    // Ten seconds on, the same balances with the reset counted down.
    clock.now = START + 10_000;
    assert.equal(admission.limitHeaders(ask('alice'))['x-ratelimit-reset-requests'], '20s');
    // Once the window ended those balances say nothing of the new one.
    clock.now = START + 30_000;
    assert.deepEqual(admission.limitHeaders(ask('alice')), {});
  });

  it('a route that reuses no answers remembers nothing', async () => {
    const { admission } = setup(`  tokenRateLimit:
    perUser: {requestsPerMinute: 5}`);
    await admission.admit(ask('alice'));
    assert.deepEqual(admission.limitHeaders(ask('alice')), {});
  });

  it('a caller with no limits gets no headers for a reused answer', async () => {
    const { admission } = setup('');
    assert.deepEqual(admission.limitHeaders(ask('alice')), {});
  });
});
