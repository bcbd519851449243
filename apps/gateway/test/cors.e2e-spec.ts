import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runAppToExit, startApp, type AppProcess } from '@aigw/testing/processes';

const dir = mkdtempSync(join(tmpdir(), 'aigw-cors-e2e-'));
const APP = 'https://app.example.com';
const CHAT = {
  model: 'gpt-4o-mini',
  messages: [{ role: 'user', content: 'Say hello' }],
};

function preflight(
  gateway: AppProcess,
  origin: string,
  method = 'POST',
  path = '/v1/chat/completions',
): Promise<Response> {
  return fetch(`${gateway.baseUrl}${path}`, {
    method: 'OPTIONS',
    headers: {
      origin,
      'access-control-request-method': method,
      'access-control-request-headers': 'authorization, content-type, x-stainless-os',
    },
  });
}

function chat(gateway: AppProcess, origin: string, stream = false): Promise<Response> {
  return fetch(`${gateway.baseUrl}/v1/chat/completions`, {
    method: 'POST',
    headers: { origin, 'content-type': 'application/json' },
    body: JSON.stringify({ ...CHAT, stream }),
  });
}

describe('browser calls with AI_GATEWAY_CORS_ORIGINS set', () => {
  let gateway: AppProcess;

  before(async () => {
    gateway = await startApp('gateway', {
      AI_GATEWAY_DATA_DIR: join(dir, 'listed'),
      AI_GATEWAY_CORS_ORIGINS: `${APP}, http://localhost:3000`,
    });
  });
  after(() => gateway.stop());

  it('answers a listed origin’s preflight with the methods and the headers it asked for', async () => {
    const response = await preflight(gateway, APP);
    assert.equal(response.status, 204);
    assert.equal(response.headers.get('access-control-allow-origin'), APP);
    assert.equal(response.headers.get('access-control-allow-methods'), 'GET, HEAD, POST, DELETE');
    assert.equal(
      response.headers.get('access-control-allow-headers'),
      'authorization, content-type, x-stainless-os',
    );
    // No cookies: callers authenticate with a header.
    assert.equal(response.headers.get('access-control-allow-credentials'), null);
  });

  it('lets a listed origin DELETE a stored response, a file and a conversation', async () => {
    for (const path of ['/v1/responses/resp_1', '/v1/files/file-1', '/v1/conversations/conv_1']) {
      const response = await preflight(gateway, APP, 'DELETE', path);
      assert.equal(response.status, 204, path);
      assert.equal(response.headers.get('access-control-allow-origin'), APP, path);
      const methods = response.headers.get('access-control-allow-methods') ?? '';
      assert.ok(methods.split(', ').includes('DELETE'), `${path}: ${methods}`);
    }
  });

  it('lets a listed origin read answers, streams and errors, with the request id', async () => {
    for (const response of [
      await chat(gateway, APP),
      await chat(gateway, APP, true),
      await fetch(`${gateway.baseUrl}/v1/chat/completions`, {
        method: 'POST',
        headers: { origin: APP, 'content-type': 'application/json' },
        body: '{}',
      }),
    ]) {
      assert.equal(response.headers.get('access-control-allow-origin'), APP);
      const exposed = (response.headers.get('access-control-expose-headers') ?? '').split(', ');
      for (const header of [
        'x-request-id',
        'x-ai-gateway-cost-usd',
        'x-ai-gateway-cache',
        'x-ai-gateway-dedup',
        'retry-after',
        'x-ratelimit-remaining-tokens',
        'x-ratelimit-remaining-requests',
        'x-ratelimit-reset-requests',
      ]) {
        assert.ok(exposed.includes(header), `${header} in ${exposed.join(',')}`);
      }
      await response.arrayBuffer();
    }
  });

  it('gives an origin it does not list no allow-origin, so the browser keeps it out', async () => {
    const response = await preflight(gateway, 'https://elsewhere.example.com');
    assert.equal(response.headers.get('access-control-allow-origin'), null);
    const answer = await chat(gateway, 'https://elsewhere.example.com');
    assert.equal(answer.headers.get('access-control-allow-origin'), null);
    await answer.arrayBuffer();
  });
});

describe('browser calls without AI_GATEWAY_CORS_ORIGINS', () => {
  let gateway: AppProcess;

  before(async () => {
    gateway = await startApp('gateway', { AI_GATEWAY_DATA_DIR: join(dir, 'unset') });
  });
  after(() => gateway.stop());

  it('sends no CORS headers, and a preflight finds no OPTIONS route', async () => {
    const answer = await chat(gateway, APP);
    assert.equal(answer.status, 200);
    assert.equal(answer.headers.get('access-control-allow-origin'), null);
    await answer.arrayBuffer();
    const response = await preflight(gateway, APP);
    assert.equal(response.status, 405);
    assert.equal(response.headers.get('access-control-allow-origin'), null);
  });
});

it('refuses to start on a value that is not an origin, in one line', async () => {
  const result = await runAppToExit('gateway', {
    AI_GATEWAY_DATA_DIR: join(dir, 'bad'),
    AI_GATEWAY_CORS_ORIGINS: 'app.example.com',
    PORT: '0',
    ADMIN_PORT: '0',
  });
  assert.notEqual(result.code, 0);
  assert.equal(result.stderr.trim().split('\n').length, 1, result.stderr);
  assert.match(result.stderr, /AI_GATEWAY_CORS_ORIGINS/);
});
