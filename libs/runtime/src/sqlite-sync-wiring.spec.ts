// AI_GATEWAY_SQLITE_SYNC reaches the stores the runtime opens, not only its settings.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { LocalBudgetStore } from '@aigw/budget-core';
import { openBudgetStore } from './budget-runtime';
import { ServiceRuntime } from './service-runtime';
import { ONE_BACKEND_CONFIG } from './testing/one-backend-config';

const dir = mkdtempSync(join(tmpdir(), 'aigw-sqlite-sync-'));
// The WAL checkpoint worker closes its own connection in its own time: retried.
after(() => rmSync(dir, { recursive: true, force: true, maxRetries: 10 }));
const configPath = join(dir, 'gateway.yaml');
writeFileSync(configPath, ONE_BACKEND_CONFIG);

/**
 * The budget balances a gateway started with `sync` (unset: none) opens: its PRAGMA
 * synchronous, whether a flush waits for a WAL sync, and the syncs the metric counted
 * after one settle and flush.
 */
async function budgetDurability(sync: string | undefined) {
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
    const change = { key: 'k', amount: 1, limit: 10, windowEndsAt: Date.now() + 60_000 };
    store.settle('e1', undefined, [change], Date.now());
    await store.flush();
    const synced = (await runtime.metrics.metrics())
      .split('\n')
      .find((line) =>
        line.startsWith('ai_gateway_sqlite_sync_seconds_count{store="budget",outcome="synced"}'),
      );
    return {
      level: store.synchronousLevel(),
      waits: store.waitsForSync,
      synced: synced === undefined ? 0 : Number(synced.split(' ').at(-1)),
    };
  } finally {
    await runtime.close();
  }
}

test('the gateway opens its budget balances at NORMAL (1), a flush waiting for a timed WAL sync, by default', async () => {
  const { level, waits, synced } = await budgetDurability(undefined);
  assert.deepEqual({ level, waits }, { level: 1, waits: true });
  assert.ok(synced >= 1, `ai_gateway_sqlite_sync_seconds counted ${synced} budget syncs`);
});

test('and waiting for none with AI_GATEWAY_SQLITE_SYNC=normal', async () => {
  assert.deepEqual(await budgetDurability('normal'), { level: 1, waits: false, synced: 0 });
});
