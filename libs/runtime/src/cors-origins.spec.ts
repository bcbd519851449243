import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { corsOptions, corsOriginsFrom } from './cors-origins';
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

describe('corsOptions', () => {
  const options = corsOptions(['https://app.example.com']);

  it('lets a browser DELETE what the API deletes (stored responses, files, conversations)', () => {
    assert.deepEqual(options.methods, ['GET', 'HEAD', 'POST', 'DELETE']);
  });

  it('exposes every header the gateway sets for its clients to read', () => {
    for (const header of [
      'x-request-id',
      'request-id',
      'x-should-retry',
      'x-ai-gateway-backend',
      'x-ai-gateway-cost-usd',
      'x-ai-gateway-cache',
      'x-ai-gateway-dedup',
      'retry-after',
      'allow',
      'location',
      ...['limit', 'remaining', 'reset'].flatMap((what) => [
        `x-ratelimit-${what}-tokens`,
        `x-ratelimit-${what}-requests`,
      ]),
    ]) {
      assert.ok((options.exposedHeaders as string[]).includes(header), header);
    }
  });
});
