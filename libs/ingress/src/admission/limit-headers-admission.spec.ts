// The x-ratelimit-* headers admission gives: both families (tokens and requests) on a
// refusal, and the caller's limits as last told (or, with none told, as the store holds
// them) for an answer admitted without a hold.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { LimitKind } from '@aigw/contracts';
import { START, admissionOn, ask, family, refusalOf } from './admission-fixture';

/** Counts the store's balance reads from now on; `failing` makes each one throw. */
function countReads(store: { balances: (...args: never[]) => unknown }, failing = false) {
  const reads = { count: 0 };
  const balances = store.balances.bind(store) as (...args: unknown[]) => unknown;
  (store as unknown as Record<string, unknown>).balances = (...args: unknown[]) => {
    reads.count++;
    if (failing) return Promise.reject(new Error('store down'));
    return balances(...args);
  };
  return reads;
}

const REUSING = `  caching: {enabled: true}
  tokenRateLimit:
    perUser: {inputTokensPerMinute: 100000, requestsPerMinute: 5}
    perModel:
      gpt-4-turbo: {requestsPerMinute: 3}`;

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
    const { admission, store } = setup(REUSING, clock);
    const admitted = await admission.admit(ask('alice'));
    const reads = countReads(store);
    const reused = admission.limitHeaders(ask('alice'));
    assert.ok(!(reused instanceof Promise), 'told with no wait');
    assert.equal(reads.count, 0, 'a cache hit costs the store nothing');
    // The tightest request limit (the model's 3, one held) shows 2 left, as the call was told.
    assert.deepEqual(family(reused, 'requests'), {
      'x-ratelimit-limit-requests': '3',
      'x-ratelimit-remaining-requests': '2',
      'x-ratelimit-reset-requests': '30s',
    });
    assert.deepEqual(reused, admitted.headers);
    // Ten seconds on, the same balances with the reset counted down.
    clock.now = START + 10_000;
    assert.equal(
      (admission.limitHeaders(ask('alice')) as Record<string, string>)[
        'x-ratelimit-reset-requests'
      ],
      '20s',
    );
    assert.equal(reads.count, 0);
    // Once the window ended those balances say nothing of the new one: the store is asked.
    clock.now = START + 30_000;
    assert.deepEqual(family(await admission.limitHeaders(ask('alice')), 'requests'), {
      'x-ratelimit-limit-requests': '3',
      'x-ratelimit-remaining-requests': '3',
      'x-ratelimit-reset-requests': '1m',
    });
    assert.equal(reads.count, 1);
  });

  it('a caller whose first call is a hit on another’s answer is told from one store read, then remembered', async () => {
    const clock = { now: START };
    const { admission, store } = setup(REUSING, clock);
    // Bob's admitted call filled the cache; alice has made none.
    const bobs = await admission.admit(ask('bob'));
    const reads = countReads(store);
    const first = await admission.limitHeaders(ask('alice'));
    assert.equal(reads.count, 1, 'one balances read');
    // Alice's own balances: bob's held request is not hers, the model's limit is shared.
    assert.deepEqual(first, {
      'x-ratelimit-limit-tokens': '100000',
      'x-ratelimit-remaining-tokens': '100000',
      'x-ratelimit-reset-tokens': '30s',
      'x-ratelimit-limit-requests': '3',
      'x-ratelimit-remaining-requests': '2',
      'x-ratelimit-reset-requests': '30s',
    });
    assert.equal(bobs.headers['x-ratelimit-remaining-requests'], '2');
    // Her next hits are told the same, counted down, with no store call.
    clock.now = START + 5_000;
    const next = admission.limitHeaders(ask('alice'));
    assert.ok(!(next instanceof Promise));
    assert.equal(next['x-ratelimit-reset-requests'], '25s');
    assert.equal(next['x-ratelimit-remaining-requests'], '2');
    assert.equal(reads.count, 1);
  });

  it('a failing store read leaves the headers off, and nothing is remembered', async () => {
    const { admission, store } = setup(REUSING);
    const reads = countReads(store, true);
    assert.deepEqual(await admission.limitHeaders(ask('alice')), {});
    assert.deepEqual(await admission.limitHeaders(ask('alice')), {});
    assert.equal(reads.count, 2, 'each hit tries again until a read succeeds');
  });

  it('a route that reuses no answers remembers nothing', async () => {
    const { admission, store } = setup(`  tokenRateLimit:
    perUser: {requestsPerMinute: 5}`);
    await admission.admit(ask('alice'));
    const reads = countReads(store);
    // Not what the admitted call was told (4 left, remembered): read from the store.
    const told = admission.limitHeaders(ask('alice'));
    assert.ok(told instanceof Promise);
    assert.equal((await told)['x-ratelimit-remaining-requests'], '4');
    assert.equal(reads.count, 1);
  });

  it('a caller with no limits gets no headers for a reused answer, asking the store nothing', async () => {
    for (const policy of [
      '',
      `  costControl:
    maxDailyCostPerUser: 0.2
    modelPricing: {chat: {inputPer1k: 1, outputPer1k: 1}}`,
    ]) {
      const { admission, store } = setup(policy);
      const reads = countReads(store);
      assert.deepEqual(admission.limitHeaders(ask('alice')), {}, policy);
      assert.equal(reads.count, 0, policy);
      // The dollar cap binds (a hold is taken), yet has no x-ratelimit-* family.
      const held = (await admission.admit(ask('bob'))).reservationId !== undefined;
      assert.equal(held, policy !== '', policy);
    }
  });
});
