import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Module, RequestMethod } from '@nestjs/common';
import { METHOD_METADATA, PATH_METADATA } from '@nestjs/common/constants';
import { Logger } from '@aigw/observability';
import { createNestEdgeApp, type ServedApp } from '@aigw/runtime';
import type { UsageAnalytics } from '../domain/analytics.types';
import { AnalyticsController } from './analytics.controller';
import { AnalyticsExceptionFilter } from './analytics-exception.filter';
import { AnalyticsHttpModule } from './analytics-http.module';
import { ANALYTICS_PATHS, analyticsMethodsAt } from './analytics-paths';

/**
 * Every route AnalyticsController declares, as `METHOD /path` (from Nest's own metadata),
 * a GET with the HEAD Fastify serves beside it.
 */
function controllerRoutes(): string[] {
  const base = Reflect.getMetadata(PATH_METADATA, AnalyticsController) as string;
  const prototype = AnalyticsController.prototype as unknown as Record<string, object>;
  const routes: string[] = [];
  for (const name of Object.getOwnPropertyNames(prototype)) {
    const handler = prototype[name];
    const path = Reflect.getMetadata(PATH_METADATA, handler) as string | undefined;
    if (name === 'constructor' || path === undefined) continue;
    const method = Reflect.getMetadata(METHOD_METADATA, handler) as RequestMethod;
    routes.push(`${RequestMethod[method]} /${base}/${path}`);
    if (method === RequestMethod.GET) routes.push(`HEAD /${base}/${path}`);
  }
  return routes.sort();
}

describe('ANALYTICS_PATHS', () => {
  it('lists every route of the controller with its method, and nothing else', () => {
    const listed = ANALYTICS_PATHS.flatMap(([path, methods]) => methods.map((m) => `${m} ${path}`));
    assert.equal(controllerRoutes().length, 18);
    assert.deepEqual(listed.sort(), controllerRoutes());
  });

  it('names the methods of an analytics URL, query or not; none for other paths', () => {
    assert.deepEqual(analyticsMethodsAt('/v1/analytics/usage?from=x'), ['GET', 'HEAD']);
    assert.deepEqual(analyticsMethodsAt('/v1/analytics/requests/req-1/payload'), ['GET', 'HEAD']);
    for (const url of [
      '/analytics/usage',
      '/v1/analytics/nope',
      '/v1/analytics/requests//payload',
      '/v1/analytics/usage/more',
      '/v1/chat/completions',
    ]) {
      assert.equal(analyticsMethodsAt(url), undefined, url);
    }
  });
});

describe('a wrong method on the analytics API (the usage-sink on its own port)', () => {
  const analytics = {
    budgets: async () => [],
    payload: async () => undefined,
  } as unknown as UsageAnalytics;
  let app: ServedApp;
  let base: string;
  before(async () => {
    @Module({})
    class TestModule {}
    const options = { accessToken: 'paths-token', onStoreError: () => undefined };
    app = await createNestEdgeApp(
      { module: TestModule, imports: [AnalyticsHttpModule.forRoot(analytics, options)] },
      {
        logger: Logger.fromEnv({ LOG_LEVEL: 'error' }),
        maxBodyBytes: 1024,
        requestReceiveTimeoutMs: 10_000,
        filter: new AnalyticsExceptionFilter(options),
      },
    );
    base = `http://127.0.0.1:${await app.listen(0, '127.0.0.1')}`;
  });
  after(async () => app?.close());

  it('answers 405 with Allow on every route, in the API’s own error shape', async () => {
    for (const [path, methods] of ANALYTICS_PATHS) {
      const url = `${base}${path.replace(':requestId', 'req-1')}?user=alice`;
      for (const method of ['POST', 'DELETE', 'PUT']) {
        const response = await fetch(url, { method });
        assert.equal(response.status, 405, `${method} ${path}`);
        assert.equal(response.headers.get('allow'), methods.join(', '));
        const body = (await response.json()) as { error: { type: string; message: string } };
        assert.equal(body.error.type, 'method_not_allowed');
        // The path alone: a query may carry what the caller did not mean to echo.
        assert.doesNotMatch(body.error.message, /alice/);
        assert.match(body.error.message, new RegExp(`^${method} is not allowed on /v1/analytics/`));
      }
    }
  });

  it('keeps a 404 where the method is served (no payload stored) or the path is not', async () => {
    const auth = { authorization: 'Bearer paths-token' };
    const missing = await fetch(`${base}/v1/analytics/requests/req-1/payload`, { headers: auth });
    assert.equal(missing.status, 404);
    assert.equal(missing.headers.get('allow'), null);
    for (const [method, path] of [
      ['POST', '/v1/analytics/nope'],
      ['GET', '/v1/analytics/usage/more'],
      ['POST', '/analytics/usage'],
    ]) {
      const response = await fetch(`${base}${path}`, { method });
      assert.equal(response.status, 404, `${method} ${path}`);
      assert.equal(response.headers.get('allow'), null);
    }
    assert.equal((await fetch(`${base}/v1/analytics/budgets`, { headers: auth })).status, 200);
    const head = await fetch(`${base}/v1/analytics/budgets`, { method: 'HEAD', headers: auth });
    assert.equal(head.status, 200, 'HEAD is served wherever GET is, as Allow says');
  });
});
