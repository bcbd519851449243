// The provider-adapter builds each call's target from its own config: the key comes from
// here, and a backend whose key is missing here is refused before any upstream call.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseGatewayConfig, type GatewayConfig } from '@aigw/config';
import { DataPlaneError, DataPlaneErrorCode } from '@aigw/contracts/data-plane';
import { MISSING_KEY_RETRY_AFTER_MS, upstreamTargetFor } from './backend-targets';
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

  it('refuses a backend this config does not know', () => {
    assert.throws(
      () => upstreamTargetFor(adapterConfig({}), { ...wire, backendName: 'elsewhere' }),
      /has no openai backend "elsewhere"/,
    );
  });
});
