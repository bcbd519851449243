import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Module } from '@nestjs/common';
import { Logger } from '@aigw/observability';
import { createNestEdgeApp, type ServedApp } from '@aigw/runtime';
import type { PayloadRecord, UsageAnalytics } from '../domain/analytics.types';
import { AnalyticsExceptionFilter } from './analytics-exception.filter';
import { AnalyticsHttpModule } from './analytics-http.module';

const SECRET_PROMPT = 'my card is 4111 1111 1111 1111';

/** A store holding one logged request of alice's (only what these routes read). */
const analytics = {
  budgets: async () => [],
  payload: async (requestId: string) =>
    ({ requestId, user: 'alice', request: { body: SECRET_PROMPT } }) as unknown as PayloadRecord,
  payloads: async () => [{ requestId: 'req-1', user: 'alice' }],
} as unknown as UsageAnalytics;

async function serve(accessToken?: string): Promise<{ app: ServedApp; base: string }> {
  @Module({})
  class TestModule {}
  const logger = Logger.fromEnv({ LOG_LEVEL: 'error' });
  const options = { ...(accessToken ? { accessToken } : {}), onStoreError: () => undefined };
  const app = await createNestEdgeApp(
    { module: TestModule, imports: [AnalyticsHttpModule.forRoot(analytics, options)] },
    {
      logger,
      maxBodyBytes: 1024,
      requestReceiveTimeoutMs: 10_000,
      filter: new AnalyticsExceptionFilter(options),
    },
  );
  return { app, base: `http://127.0.0.1:${await app.listen(0, '127.0.0.1')}` };
}

describe('who the analytics API answers', () => {
  describe('without AI_GATEWAY_ANALYTICS_TOKEN', () => {
    let served: { app: ServedApp; base: string };
    before(async () => (served = await serve()));
    after(async () => served?.app.close());

    it('are refused (403 naming the variable), though the aggregates answer this host', async () => {
      for (const path of ['requests/req-1/payload', 'payloads?user=alice']) {
        const response = await fetch(`${served.base}/v1/analytics/${path}`);
        assert.equal(response.status, 403, path);
        const text = await response.text();
        assert.match(text, /AI_GATEWAY_ANALYTICS_TOKEN/);
        assert.doesNotMatch(text, /4111|alice/);
      }
      assert.equal((await fetch(`${served.base}/v1/analytics/budgets`)).status, 200);
    });

    // Every user's id and spend: a caller a proxy relayed (a reverse proxy on this host, a
    // mesh sidecar) is not this host's, though its connection comes from loopback.
    it('answer the aggregates to no caller a proxy relayed', async () => {
      for (const headers of [
        { 'x-forwarded-for': '203.0.113.7' },
        { forwarded: 'for=203.0.113.7' },
        { 'x-real-ip': '203.0.113.7' },
      ]) {
        for (const path of ['budgets', 'usage', 'top-spenders', 'budget-adjustments']) {
          const response = await fetch(`${served.base}/v1/analytics/${path}`, { headers });
          assert.equal(response.status, 403, `${path} ${JSON.stringify(headers)}`);
          assert.match(await response.text(), /only this host.*AI_GATEWAY_ANALYTICS_TOKEN/);
        }
      }
    });
  });

  describe('with the token set', () => {
    let served: { app: ServedApp; base: string };
    before(async () => (served = await serve('payload-analytics-token')));
    after(async () => served?.app.close());

    it('serve the aggregates to its bearer, from anywhere, and to no one else', async () => {
      const url = `${served.base}/v1/analytics/budgets`;
      const relayed = { 'x-forwarded-for': '203.0.113.7' };
      assert.equal((await fetch(url)).status, 401);
      const right = { ...relayed, authorization: 'Bearer payload-analytics-token' };
      assert.equal((await fetch(url, { headers: right })).status, 200);
    });

    it('are served to its bearer only', async () => {
      const url = `${served.base}/v1/analytics/requests/req-1/payload`;
      assert.equal((await fetch(url)).status, 401);
      const wrong = { authorization: 'Bearer payload-analytics-tokeX' };
      assert.equal((await fetch(url, { headers: wrong })).status, 401);
      const right = { authorization: 'Bearer payload-analytics-token' };
      const response = await fetch(url, { headers: right });
      assert.equal(response.status, 200);
      assert.match(await response.text(), /4111/);
    });
  });
});
