import 'reflect-metadata';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { loadStartupConfig } from '@aigw/config';
import { LocalBudgetStore } from '@aigw/budget-core';
import { rebuildBalances } from '@aigw/budget';
import { Topic } from '@aigw/contracts';
import { EmbeddedEventBus, SqliteEventLog } from '@aigw/embedded';

const USAGE = `usage: npm run budget:rebuild -- [--data-dir DIR] [--events-file FILE]
Rebuilds every budget balance from the usage events in the embedded event log and
compares it with the live balances (DIR/budget.db). Exit 0 when they match, 1 when not.`;

/** `npm run budget:rebuild`: the embedded gateway's balances, rebuilt from its event log. */
async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      'data-dir': { type: 'string' },
      'events-file': { type: 'string', default: 'events.db' },
      help: { type: 'boolean' },
    },
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const startup = await loadStartupConfig({ env: process.env, missingSecrets: 'warn' });
  if (!startup.ok) {
    process.stderr.write(`budget rebuild: ${startup.errors[0] ?? 'invalid configuration'}\n`);
    return 2;
  }
  const dataDir = values['data-dir'] ?? startup.settings.dataDir;
  const log = new SqliteEventLog(join(dataDir, values['events-file']));
  const bus = new EmbeddedEventBus(log, {
    flushIntervalMs: 50,
    maxBatch: 500,
    onError: () => undefined,
  });
  const live = new LocalBudgetStore(join(dataDir, 'budget.db'));
  const rebuilt = new LocalBudgetStore(':memory:');
  try {
    const report = await rebuildBalances(
      () => startup.config,
      { replay: (onBatch) => bus.replay([Topic.UsageRecorded], onBatch) },
      rebuilt,
      live,
    );
    process.stdout.write(
      `rebuilt ${report.keys} balances from ${report.events} usage events: ${report.mismatches.length} mismatches\n`,
    );
    for (const m of report.mismatches) {
      process.stdout.write(`  ${m.key}: rebuilt ${m.rebuilt}, live ${m.live}\n`);
    }
    return report.mismatches.length === 0 ? 0 : 1;
  } finally {
    live.close();
    rebuilt.close();
    log.close();
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(
      `budget rebuild: ${error instanceof Error ? error.message : String(error)}\n`,
    );
    process.exit(2);
  },
);
