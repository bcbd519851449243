import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { GatewayEvent } from '@aigw/contracts';
import { buildWorkload } from '../testing/analytics-fixture';
import { describeAnalyticsContract } from '../testing/analytics-contract';
import { SqliteUsageStore } from './sqlite-usage.store';

// The embedded store of the all-in-one gateway, against the contract ClickHouse meets.
describeAnalyticsContract('the embedded SQLite store', async () => {
  const store = new SqliteUsageStore(join(mkdtempSync(join(tmpdir(), 'aigw-analytics-')), 'a.db'));
  return {
    writer: () => store,
    analytics: store,
    storedCounts: async () => ({
      usage: store.count('usage_events'),
      completed: store.count('request_completed_events'),
    }),
    close: async () => store.close(),
  };
});

test('an id twice in one batch is stored once', async () => {
  const { events, usage } = buildWorkload();
  const store = new SqliteUsageStore(':memory:');
  try {
    await store.write([...events, ...events.slice(0, 10)]);
    assert.equal(store.count('usage_events'), usage.length);
  } finally {
    store.close();
  }
});

test('a write that fails part-way stores none of its batch and throws', async () => {
  const { events } = buildWorkload();
  const store = new SqliteUsageStore(':memory:');
  try {
    const unknown = { ...events[1], type: 'no.such.event' } as unknown as GatewayEvent;
    await assert.rejects(store.write([events[0], events[1], unknown]), /no raw table/);
    assert.equal(store.count('request_accepted_events') + store.count('usage_events'), 0);
  } finally {
    store.close();
  }
});
