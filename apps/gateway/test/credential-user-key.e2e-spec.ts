// A route identifying users by their API key (userIdentification on x-api-key) must never
// put the key where operators and other systems read: metrics, usage rows, logs. The user
// key is `key-` + 16 hex digits of the key's SHA-256 instead.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { until } from '@aigw/testing';
import { startApp, type AppProcess } from '@aigw/testing/processes';

const API_KEY = 'sk-client-7d1f0c9b2e8a4f6d3c5b1a0e9f8d7c6b';
const KEY_ID = `key-${createHash('sha256').update(API_KEY).digest('hex').slice(0, 16)}`;

describe('all-in-one gateway identifying users by x-api-key', () => {
  let dir: string;
  let gateway: AppProcess;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'aigw-credential-user-'));
    writeFileSync(
      join(dir, 'config.yaml'),
      `kind: AIGatewayRoute
metadata: {name: keyed}
spec:
  backends:
  - {name: any, provider: local, model: gpt-4o-mini}
  userIdentification: {header: x-api-key}
  tokenRateLimit:
    perUser: {requestsPerMinute: 100}
`,
    );
    gateway = await startApp('gateway', {
      AI_GATEWAY_CONFIG: join(dir, 'config.yaml'),
      AI_GATEWAY_DATA_DIR: join(dir, 'data'),
    });
  });
  after(() => gateway?.stop());

  it('labels metrics and usage rows with the key id, never the key', async () => {
    for (let i = 0; i < 2; i++) {
      const response = await fetch(`${gateway.baseUrl}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-api-key': API_KEY },
        body: JSON.stringify({
          model: 'gpt-4o-mini',
          messages: [{ role: 'user', content: 'hello' }],
        }),
      });
      assert.equal(response.status, 200, await response.clone().text());
      await response.text();
    }

    const metrics = await (await fetch(`http://127.0.0.1:${gateway.adminPort}/metrics`)).text();
    assert.ok(!metrics.includes(API_KEY), 'the key is in /metrics');
    assert.match(metrics, new RegExp(`ai_gateway_tokens_total\\{user="${KEY_ID}"`));

    const db = new DatabaseSync(join(dir, 'data', 'analytics.db'), { readOnly: true });
    try {
      const users = () =>
        (db.prepare('SELECT user_id FROM usage_events').all() as { user_id: string }[]).map(
          (row) => row.user_id,
        );
      await until('both usage rows are stored', () => users().length >= 2);
      assert.deepEqual(users(), [KEY_ID, KEY_ID]);
    } finally {
      db.close();
    }
    assert.ok(!gateway.output().includes(API_KEY), 'the key is in the logs');
  });
});
