import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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
