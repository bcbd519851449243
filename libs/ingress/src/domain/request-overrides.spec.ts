import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseGatewayConfig } from '@aigw/config';
import {
  DataPlaneError,
  DataPlaneErrorCode,
  type GatewayRequest,
  type RouterPort,
} from '@aigw/contracts/data-plane';
import { IngressPipeline } from '../ingress-pipeline';
import { requestOverrides } from './request-overrides';

function refusal(header: string, text: RegExp) {
  return (error: unknown) =>
    error instanceof DataPlaneError &&
    error.code === DataPlaneErrorCode.InvalidRequest &&
    error.httpStatus === 400 &&
    error.param === header &&
    error.message.startsWith(header) &&
    text.test(error.message);
}

describe('requestOverrides', () => {
  it('is undefined without the headers, reading nothing else', () => {
    const read: string[] = [];
    const plain: Record<string, string> = { 'content-type': 'application/json' };
    const headers = new Proxy(plain, {
      get: (target, name) => {
        read.push(String(name));
        return target[name as string];
      },
    });
    assert.equal(requestOverrides(headers), undefined);
    assert.deepEqual(read, [
      'x-ai-gateway-request-timeout-ms',
      'x-ai-gateway-retries',
      'x-ai-gateway-fallback',
    ]);
  });

  it('reads each header', () => {
    assert.deepEqual(
      requestOverrides({
        'x-ai-gateway-request-timeout-ms': '2500',
        'x-ai-gateway-retries': '0',
        'x-ai-gateway-fallback': 'none',
      }),
      { timeoutMs: 2500, retries: 0, fallback: false },
    );
    assert.deepEqual(requestOverrides({ 'x-ai-gateway-retries': ' 2 ' }), { retries: 2 });
    assert.deepEqual(requestOverrides({ 'x-ai-gateway-fallback': 'FALSE' }), { fallback: false });
    // Far above any configured maximum: the router clamps it, so it is no error here.
    assert.deepEqual(requestOverrides({ 'x-ai-gateway-retries': '1000000' }), {
      retries: 1_000_000,
    });
  });

  it('refuses a timeout that is not a whole number of milliseconds above 0', () => {
    for (const value of ['0', '-5', '1.5', '1e3', '0x10', 'abc', '', '10 s', '9'.repeat(16)]) {
      assert.throws(
        () => requestOverrides({ 'x-ai-gateway-request-timeout-ms': value }),
        refusal('x-ai-gateway-request-timeout-ms', /whole number of at least 1/),
        value,
      );
    }
  });

  it('refuses retries that are not a whole number', () => {
    for (const value of ['-1', 'two', '1.0', '']) {
      assert.throws(
        () => requestOverrides({ 'x-ai-gateway-retries': value }),
        refusal('x-ai-gateway-retries', /whole number of at least 0/),
        value,
      );
    }
  });

  it('refuses a fallback other than none or false', () => {
    for (const value of ['true', 'yes', 'cheaperModel', '']) {
      assert.throws(
        () => requestOverrides({ 'x-ai-gateway-fallback': value }),
        refusal('x-ai-gateway-fallback', /"none" or "false"/),
        value,
      );
    }
  });

  it('refuses a header sent twice', () => {
    assert.throws(
      () => requestOverrides({ 'x-ai-gateway-retries': ['1', '2'] }),
      refusal('x-ai-gateway-retries', /sent once/),
    );
  });
});

describe('IngressPipeline: override headers', () => {
  const parsed = parseGatewayConfig(
    `kind: AIGatewayRoute
metadata: {name: r}
spec:
  backends: [{name: b, provider: local, model: m}]
`,
    { env: {} },
  );
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.errors));
  const config = parsed.config;
  const router: RouterPort = {
    route: () => Promise.reject(new Error('not used')),
    listModels: () => [],
  };
  const pipeline = new IngressPipeline(() => config, router, {});
  const body = { model: 'm', messages: [{ role: 'user', content: 'hi' }] };

  it('carries them on the request for the router, never in the forwarded headers', () => {
    const request = pipeline.prepare(
      'chat',
      body,
      { 'x-ai-gateway-retries': '1', 'x-ai-gateway-fallback': 'none', 'x-trace-id': 't' },
      'req-1',
    ) as GatewayRequest;
    assert.deepEqual(request.overrides, { retries: 1, fallback: false });
    assert.deepEqual(request.forwardHeaders, { 'x-trace-id': 't' });
  });

  it('refuses a bad value before anything is routed', () => {
    assert.throws(
      () => pipeline.prepare('chat', body, { 'x-ai-gateway-request-timeout-ms': 'soon' }, 'r'),
      refusal('x-ai-gateway-request-timeout-ms', /whole number/),
    );
  });
});
