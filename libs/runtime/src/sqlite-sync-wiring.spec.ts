// AI_GATEWAY_SQLITE_SYNC reaches the stores the runtime opens, not only its settings.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { LocalBudgetStore } from '@aigw/budget-core';
import { openBudgetStore } from './budget-runtime';
import { ServiceRuntime } from './service-runtime';

const dir = mkdtempSync(join(tmpdir(), 'aigw-sqlite-sync-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const configPath = join(dir, 'gateway.yaml');
writeFileSync(
  configPath,
  `kind: AIGatewayRoute
metadata: {name: r}
spec:
  backends:
  - {name: openai-main, provider: openai, model: gpt-4o, auth: {apiKeyRef: {name: openai-key}}}
`,
);

/** The budget balances' PRAGMA synchronous in a gateway started with `sync` (unset: none). */
async function budgetSyncLevel(sync: string | undefined): Promise<number> {
  const runtime = await ServiceRuntime.open(
    {
      AI_GATEWAY_CONFIG: configPath,
      AI_GATEWAY_DATA_DIR: mkdtempSync(join(dir, 'data-')),
      AI_GATEWAY_LOG_LEVEL: 'error',
      ...(sync === undefined ? {} : { AI_GATEWAY_SQLITE_SYNC: sync }),
    },
    { app: 'gateway', missingSecrets: 'not-needed' },
  );
  try {
    const store = await openBudgetStore(runtime);
    assert.ok(store instanceof LocalBudgetStore);
    return store.synchronousLevel();
  } finally {
    await runtime.close();
  }
}

test('the gateway opens its budget balances fsyncing each commit (FULL, 2) by default', async () => {
  assert.equal(await budgetSyncLevel(undefined), 2);
});

test('and at NORMAL (1) with AI_GATEWAY_SQLITE_SYNC=normal', async () => {
  assert.equal(await budgetSyncLevel('normal'), 1);
});
