import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { afterEach, describe, it, mock } from 'node:test';
import type { FastifyRequest } from 'fastify';
import type { UsageAnalytics } from '../domain/analytics.types';
import { AnalyticsController } from './analytics.controller';
import { AnalyticsAccessError } from './analytics-http.options';

// The module object the code under test calls timingSafeEqual on (live, so it can be spied).
const crypto = createRequire(__filename)('node:crypto') as typeof import('node:crypto');

const TOKEN = 'analytics-token-0123456789abcdef';
const analytics = { budgets: async () => [] } as unknown as UsageAnalytics;
const controller = new AnalyticsController(analytics, {
  accessToken: TOKEN,
  onStoreError: () => undefined,
});

/** A request bearing `authorization`, as the controller reads it. */
const bearing = (authorization: string | undefined): FastifyRequest =>
  ({ headers: authorization === undefined ? {} : { authorization } }) as FastifyRequest;

describe('the analytics token check', () => {
  afterEach(() => mock.restoreAll());

  it('serves the bearer of the token and refuses others, naming no token', async () => {
    assert.deepEqual(await controller.budgets({}, bearing(`Bearer ${TOKEN}`)), {
      rows: [],
      nextCursor: null,
    });
    for (const header of [undefined, TOKEN, `Bearer ${TOKEN.slice(0, -1)}x`, 'Bearer x']) {
      await assert.rejects(controller.budgets({}, bearing(header)), (error: Error) => {
        assert.ok(error instanceof AnalyticsAccessError);
        assert.ok(!error.message.includes(TOKEN));
        return true;
      });
    }
  });

  it('takes the scheme in any case, as RFC 9110 has it and the admin port does', async () => {
    for (const header of [`bearer ${TOKEN}`, `BEARER ${TOKEN}`, `Bearer  ${TOKEN} `]) {
      assert.deepEqual(
        await controller.budgets({}, bearing(header)),
        { rows: [], nextCursor: null },
        header,
      );
    }
    for (const header of [`Basic ${TOKEN}`, `Bearer${TOKEN}`, `Bearer ${TOKEN} x`]) {
      await assert.rejects(controller.budgets({}, bearing(header)), AnalyticsAccessError, header);
    }
  });

  it('compares equal-length digests whatever the length sent (no early return on length)', async () => {
    const compare = mock.method(crypto, 'timingSafeEqual');
    for (const sent of ['x', TOKEN.slice(0, -1), `${TOKEN}x`, 'y'.repeat(5_000)]) {
      await assert.rejects(controller.budgets({}, bearing(`Bearer ${sent}`)), AnalyticsAccessError);
    }
    assert.equal(compare.mock.callCount(), 4);
    for (const call of compare.mock.calls) {
      const [a, b] = call.arguments as [Buffer, Buffer];
      assert.equal(a.length, 32);
      assert.equal(b.length, 32);
    }
  });
});
