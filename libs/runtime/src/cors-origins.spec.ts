import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { corsOriginsFrom } from './cors-origins';
import { StartupError } from './listen';

describe('AI_GATEWAY_CORS_ORIGINS', () => {
  it('is off when unset or blank', () => {
    assert.equal(corsOriginsFrom({}), undefined);
    assert.equal(corsOriginsFrom({ AI_GATEWAY_CORS_ORIGINS: '  ' }), undefined);
  });

  it('takes * or a comma-separated list of origins', () => {
    assert.equal(corsOriginsFrom({ AI_GATEWAY_CORS_ORIGINS: '*' }), '*');
    assert.deepEqual(
      corsOriginsFrom({
        AI_GATEWAY_CORS_ORIGINS: 'https://app.example.com, http://localhost:3000,',
      }),
      ['https://app.example.com', 'http://localhost:3000'],
    );
  });

  it('refuses what a browser would never send as an origin, naming it', () => {
    for (const bad of [
      'app.example.com',
      'https://app.example.com/',
      'https://app.example.com/chat',
      'ftp://files.example.com',
      'https://a.example.com, *',
    ]) {
      assert.throws(
        () => corsOriginsFrom({ AI_GATEWAY_CORS_ORIGINS: bad }),
        (error: unknown) => error instanceof StartupError && /is not an origin/.test(error.message),
        bad,
      );
    }
  });
});
