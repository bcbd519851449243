import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startApp, type AppProcess } from '@aigw/testing/processes';

const dir = mkdtempSync(join(tmpdir(), 'aigw-not-found-query-e2e-'));
/** What a caller pasted in the query; it must come back nowhere. */
const SECRET = 'AIzaSecretKeyFromTheQuery123';

describe('a path or method not served, with a key in the query', () => {
  let gateway: AppProcess;

  before(async () => {
    gateway = await startApp('gateway', {
      AI_GATEWAY_DATA_DIR: dir,
      // Every line the gateway may write, so none of them can hide the key.
      AI_GATEWAY_LOG_LEVEL: 'trace',
    });
  });
  after(() => gateway.stop());

  async function refused(method: string, path: string) {
    const response = await fetch(`${gateway.baseUrl}${path}`, {
      method,
      ...(method === 'POST' ? { headers: { 'content-type': 'application/json' }, body: '{}' } : {}),
    });
    return { status: response.status, text: await response.text() };
  }

  for (const [api, method, path, shape] of [
    ['Google', 'GET', `/v1beta/nothing?key=${SECRET}`, /"status":"NOT_FOUND"/],
    ['OpenAI', 'GET', `/v1/nothing?api_key=${SECRET}&x=1`, /"type":"invalid_request_error"/],
    ['Anthropic', 'POST', `/v1/messages/nothing?key=${SECRET}`, /"type":"not_found_error"/],
  ] as const) {
    it(`answers a 404 in the ${api} shape that names the path but not the query`, async () => {
      const { status, text } = await refused(method, path);
      assert.equal(status, 404, text);
      assert.match(text, shape);
      assert.ok(text.includes(path.split('?')[0]), text);
      assert.ok(!text.includes('Secret'), text);
      assert.ok(!text.includes('?'), text);
    });
  }

  it('answers a 405 without the query', async () => {
    const { status, text } = await refused('GET', `/v1/chat/completions?key=${SECRET}`);
    assert.equal(status, 405, text);
    assert.ok(!text.includes('Secret'), text);
  });

  it('writes the key to no log line', () => {
    assert.ok(gateway.output().length > 0, 'the gateway logged nothing at all');
    assert.ok(!gateway.output().includes('Secret'), gateway.output().slice(-4000));
  });
});
