// The provider-adapter builds each call's target from its own config: the key comes from
// here, and a backend whose key is missing here is refused before any upstream call.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseGatewayConfig, routeOfBackend, type GatewayConfig } from '@aigw/config';
import { DataPlaneError, DataPlaneErrorCode } from '@aigw/contracts/data-plane';
import { MISSING_KEY_RETRY_AFTER_MS, upstreamTargetFor } from './backend-targets';
import { CONFIG_SKEW_RETRY_AFTER_MS } from './config-skew';
import { ONE_BACKEND_CONFIG } from '../testing/one-backend-config';

const KEY = 'sk-adapter-only-7d1c';

function adapterConfig(env: Record<string, string>): GatewayConfig {
  const result = parseGatewayConfig(ONE_BACKEND_CONFIG, { missingSecrets: 'warn', env });
  if (!result.ok) throw new Error(result.errors.map((e) => e.format()).join('\n'));
  return result.config;
}

const wire = { backendName: 'openai-main', provider: 'openai', model: 'gpt-4o' };

describe('upstreamTargetFor', () => {
  it('injects the key from the provider-adapter config', () => {
    const target = upstreamTargetFor(
      adapterConfig({ AI_GATEWAY_SECRET_OPENAI_KEY_APIKEY: KEY }),
      wire,
    );
    assert.equal(target.credential?.headerName, 'Authorization');
    assert.equal(target.credential?.headerPrefix, 'Bearer ');
    assert.equal(target.credential?.apiKey.reveal(), KEY);
  });

  it('refuses a backend whose key is missing here with an upstream error that fails over', () => {
    assert.throws(
      () => upstreamTargetFor(adapterConfig({}), wire),
      (error: DataPlaneError) => {
        assert.ok(error instanceof DataPlaneError);
        assert.equal(error.code, DataPlaneErrorCode.UpstreamError);
        assert.equal(error.trigger, 'error');
        assert.match(error.message, /backend "openai-main" has no API key/);
        assert.match(error.message, /secret "openai-key" key "apiKey" is missing/);
        // The router cools the backend for this long instead of failing over on every call.
        assert.equal(error.retryAfterMs, MISSING_KEY_RETRY_AFTER_MS);
        return true;
      },
    );
  });

  it('refuses a backend only an edit waiting for its key has as missing that key, not as config skew', () => {
    const inForce = parseGatewayConfig(
      'kind: AIGatewayRoute\nmetadata: {name: other}\nspec:\n  backends:\n  - {name: other, provider: openai, model: gpt-4o}\n',
      { missingSecrets: 'warn', env: {} },
    );
    assert.ok(inForce.ok);
    assert.throws(
      () => upstreamTargetFor(inForce.config, wire, adapterConfig({})),
      (error: DataPlaneError) => {
        assert.equal(error.code, DataPlaneErrorCode.UpstreamError);
        assert.match(error.message, /backend "openai-main" has no API key/);
        assert.match(
          error.message,
          /the config edit that adds the backend waits here for that key/,
        );
        assert.equal(error.retryAfterMs, MISSING_KEY_RETRY_AFTER_MS);
        return true;
      },
    );
    // The waiting edit's backends that have their key are still not called: not in force.
    assert.throws(
      () =>
        upstreamTargetFor(
          inForce.config,
          wire,
          adapterConfig({ AI_GATEWAY_SECRET_OPENAI_KEY_APIKEY: KEY }),
        ),
      (error: DataPlaneError) => error.retryAfterMs === CONFIG_SKEW_RETRY_AFTER_MS,
    );
  });

  it('refuses a backend an edit waiting for its key moves to another provider as missing that key', () => {
    // The edit turns a vLLM backend into an OpenAI one under a new, not yet created, secret:
    // the router calls it as OpenAI, which the backend in force here is not.
    const inForce = parseGatewayConfig(
      'kind: AIGatewayRoute\nmetadata: {name: main}\nspec:\n  backends:\n  - {name: openai-main, provider: vllm, baseUrl: "http://vllm.test/v1", model: gpt-4o}\n',
      { missingSecrets: 'warn', env: {} },
    );
    assert.ok(inForce.ok);
    assert.throws(
      () => upstreamTargetFor(inForce.config, wire, adapterConfig({})),
      (error: DataPlaneError) => {
        assert.match(error.message, /backend "openai-main" has no API key/);
        assert.match(error.message, /the config edit that adds the backend waits here/);
        assert.equal(error.retryAfterMs, MISSING_KEY_RETRY_AFTER_MS);
        return true;
      },
    );
  });

  it('refuses a backend this config does not know, asking the router to leave it a moment', () => {
    assert.throws(
      () => upstreamTargetFor(adapterConfig({}), { ...wire, backendName: 'elsewhere' }),
      (error: DataPlaneError) => {
        assert.equal(error.code, DataPlaneErrorCode.UpstreamError);
        assert.match(error.message, /has no openai backend "elsewhere"/);
        // The configs differ while one service has reloaded and the other not yet: the
        // router cools the backend that long and fails over, rather than counting
        // failures to a cooldown that outlasts the difference.
        assert.equal(error.retryAfterMs, CONFIG_SKEW_RETRY_AFTER_MS);
        return true;
      },
    );
  });
});

/** Two routes each with a backend `openai`, on their own URLs and keys (two tenants). */
const SHARED_NAME_CONFIG = `kind: AIGatewayRoute
metadata: {name: first}
spec:
  backends:
  - {name: openai, provider: openai, baseUrl: 'http://first.test/v1', model: gpt-4o, auth: {apiKeyRef: {name: first-key}}}
---
kind: AIGatewayRoute
metadata: {name: second}
spec:
  backends:
  - {name: openai, provider: openai, baseUrl: 'http://second.test/v1', model: gpt-4o-mini, auth: {apiKeyRef: {name: second-key}}}
`;

function sharedNameConfig(): GatewayConfig {
  const result = parseGatewayConfig(SHARED_NAME_CONFIG, {
    missingSecrets: 'warn',
    env: {
      AI_GATEWAY_SECRET_FIRST_KEY_APIKEY: 'sk-first',
      AI_GATEWAY_SECRET_SECOND_KEY_APIKEY: 'sk-second',
    },
  });
  if (!result.ok) throw new Error(result.errors.map((e) => e.format()).join('\n'));
  return result.config;
}

describe('upstreamTargetFor a backend name two routes share', () => {
  const shared = { backendName: 'openai', provider: 'openai', model: 'gpt-4o' };

  it("calls the named route's backend, with that route's URL and key", () => {
    const config = sharedNameConfig();
    for (const [routeName, url, key] of [
      ['first', 'http://first.test/v1', 'sk-first'],
      ['second', 'http://second.test/v1', 'sk-second'],
    ] as const) {
      const target = upstreamTargetFor(config, { ...shared, routeName });
      assert.equal(target.baseUrl, url, routeName);
      assert.equal(target.credential?.apiKey.reveal(), key, routeName);
      assert.equal(target.routeName, routeName);
    }
  });

  it('without a route (an older peer), takes the first route naming it, as pricing does', () => {
    const config = sharedNameConfig();
    const target = upstreamTargetFor(config, shared);
    assert.equal(target.baseUrl, 'http://first.test/v1');
    assert.equal(target.credential?.apiKey.reveal(), 'sk-first');
    assert.equal(routeOfBackend(config.routes, 'openai')?.name, 'first');
  });

  it("refuses a named route that no longer has the backend, never another route's key", () => {
    // The ingress holds a file of route `third` from before a reload dropped its backend.
    assert.throws(
      () => upstreamTargetFor(sharedNameConfig(), { ...shared, routeName: 'third' }),
      (error: DataPlaneError) => {
        assert.equal(error.code, DataPlaneErrorCode.UpstreamError);
        assert.match(error.message, /has no openai backend "openai"/);
        return true;
      },
    );
  });
});
