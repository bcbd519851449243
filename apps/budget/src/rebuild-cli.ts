import 'reflect-metadata';
import type { Redis } from 'ioredis';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { loadStartupConfig } from '@aigw/config';
import { BudgetStoreOwnerLock, LocalBudgetStore, RedisBudgetStore } from '@aigw/budget-core';
import {
  rebuildBalances,
  restoreShortfalls,
  withAdjustments,
  type RebuildReport,
  type UsageLog,
} from '@aigw/budget';
import type { BudgetStore } from '@aigw/budget-core';
import {
  createKafka,
  createRedisClient,
  replayTopic,
  uncommittedOfReplay,
  type ReplayedTopic,
} from '@aigw/infra';
import { Topic, type BudgetAdjusted } from '@aigw/contracts';
import { SqliteEventLog } from '@aigw/embedded';
import { catchUpWaitMs, missingEventLog } from './rebuild-args';
import { rebuildInRedis, reachRedis } from './redis-rebuild';
import {
  embeddedUsageLog,
  REBUILD_EXIT,
  rebuildExitCode,
  settledThroughReplay,
  type SkippedEvents,
} from './rebuild-log';

/** The consumer group that settles budgets (BudgetSettler.group). */
const SETTLER_GROUP = 'budget';

const USAGE = `usage: npm run budget:rebuild -- [--data-dir DIR] [--events-file FILE]
                                 [--accept-undecodable] [--restore [--catch-up-wait S]]
Rebuilds every budget balance from the usage events (and operators' resets and credits,
the budget-adjusted topic) and compares it with the live
balances, each side where the gateway keeps it: the usage from the Kafka usage topic
(honouring AI_GATEWAY_KAFKA_TOPIC_PREFIX) with KAFKA_BROKERS set, else from the embedded
event log (DIR/FILE); the live balances in Redis with REDIS_URL set (rebuilt under a
scratch prefix there), else in DIR/budget.db.
An event the log holds but this build cannot decode is skipped and counted; any such
event fails the rebuild (exit 3: the balances lack its usage) unless --accept-undecodable
is given, when the count is still printed and the exit is that of the comparison.
Exit 0 when they match, 1 when not, 2 when it could not run, 3 when events were skipped.
--restore adds back to each live balance of a window still open the spend it lacks (the
store lost data): live balances above the rebuilt ones are left as they are and reported;
the exit is then 0 when nothing but such shortfalls differed. Nothing is restored when
events were skipped and not accepted. With Redis, run it while what settles budgets (the
budget service, or the gateway) runs caught up: usage it has not settled yet is in the rebuilt balances, so it would be
added here and then settled again, counted twice. So a restore first waits up to
--catch-up-wait seconds (default 30) for the budget consumer group to have committed
everything the rebuild read, and restores nothing (exit 2) if it has not. Against
budget.db, stop the gateway (or budget service) first (it keeps the balances in memory and would
overwrite the restore: a restore beside it is exit 2), then start it again.`;

/** `npm run budget:rebuild`: the embedded gateway's balances, rebuilt from its event log. */
async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      'data-dir': { type: 'string' },
      'events-file': { type: 'string', default: 'events.db' },
      'accept-undecodable': { type: 'boolean', default: false },
      restore: { type: 'boolean', default: false },
      'catch-up-wait': { type: 'string', default: '30' },
      help: { type: 'boolean' },
    },
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const catchUpWait = catchUpWaitMs(values['catch-up-wait']);
  if ('error' in catchUpWait) {
    process.stderr.write(`budget rebuild: ${catchUpWait.error}\n`);
    return REBUILD_EXIT.failed;
  }
  const startup = await loadStartupConfig({ env: process.env, missingSecrets: 'not-needed' });
  if (!startup.ok) {
    process.stderr.write(`budget rebuild: ${startup.errors[0] ?? 'invalid configuration'}\n`);
    return REBUILD_EXIT.failed;
  }
  const { settings } = startup;
  const closers: (() => void | Promise<void>)[] = [];
  let rebuild: () => Promise<RebuildReport>;
  let liveStore: BudgetStore;
  // How much of what the rebuild read the budget settler has not committed yet.
  let unsettled: () => Promise<number> | number;
  const skipped: SkippedEvents = { undecodable: 0 };
  // Each side as the gateway picks it: the usage from Kafka with KAFKA_BROKERS, else from the
  // embedded event log; the live balances in Redis with REDIS_URL, else in budget.db. (An
  // all-in-one gateway with REDIS_URL alone keeps its balances in Redis: compared with
  // budget.db, which it never writes, every balance differed and a restore went there.)
  const dataDir = values['data-dir'] ?? settings.dataDir;
  const logPath = join(dataDir, values['events-file']);
  if (!settings.kafkaBrokers) {
    const missing = missingEventLog(logPath);
    if (missing) {
      process.stderr.write(`budget rebuild: ${missing}\n`);
      return REBUILD_EXIT.failed;
    }
  }
  let redis: Redis | undefined;
  let owner: BudgetStoreOwnerLock | undefined;
  if (settings.redisUrl) {
    const client = createRedisClient(settings.redisUrl);
    redis = client;
    closers.push(() => void client.disconnect());
    // Before reading the usage: an unreachable Redis fails the run at once, named.
    await reachRedis(client);
  } else {
    const budgetPath = join(dataDir, 'budget.db');
    // A running embedded gateway keeps the balances in memory and writes each back whole:
    // it would never see what a restore adds, and would overwrite it at its next settlement.
    owner = values.restore ? BudgetStoreOwnerLock.acquire(budgetPath) : undefined;
    if (values.restore && !owner) {
      process.stderr.write(
        `budget rebuild: a running process keeps the balances of ${budgetPath} (the embedded gateway, or a budget service without Redis): it would overwrite what a restore adds, so nothing was read or restored; stop it (it settles what it has read first), run the restore, then start it again\n`,
      );
      return REBUILD_EXIT.failed;
    }
  }
  let usageLog: UsageLog;
  if (settings.kafkaBrokers) {
    const kafka = createKafka({
      clientId: 'ai-gateway-budget-rebuild',
      brokers: settings.kafkaBrokers,
    });
    const prefix = process.env.AI_GATEWAY_KAFKA_TOPIC_PREFIX?.trim() ?? '';
    let usageEnds: ReplayedTopic['ends'] = [];
    let adjustedEnds: ReplayedTopic['ends'] = [];
    unsettled = async () =>
      (await uncommittedOfReplay(
        kafka,
        SETTLER_GROUP,
        Topic.UsageRecorded,
        { prefix },
        usageEnds,
      )) +
      (await uncommittedOfReplay(
        kafka,
        SETTLER_GROUP,
        Topic.BudgetAdjusted,
        { prefix },
        adjustedEnds,
      ));
    usageLog = withAdjustments(
      {
        replay: async (onBatch) => {
          const read = await replayTopic(kafka, Topic.UsageRecorded, { prefix }, onBatch);
          skipped.undecodable += read.undecodable;
          usageEnds = read.ends;
        },
      },
      async () => {
        const adjustments: BudgetAdjusted[] = [];
        const read = await replayTopic(kafka, Topic.BudgetAdjusted, { prefix }, async (batch) => {
          for (const event of batch) if (event.type === 'budget.adjusted') adjustments.push(event);
        });
        skipped.undecodable += read.undecodable;
        adjustedEnds = read.ends;
        return adjustments;
      },
    );
  } else {
    const log = new SqliteEventLog(logPath);
    closers.push(() => log.close());
    // One log: adjustments come back in the order they were written among the usage.
    const replayed = { throughSeq: 0 };
    usageLog = embeddedUsageLog(log, skipped, replayed);
    unsettled = () => Math.max(0, replayed.throughSeq - log.committed(SETTLER_GROUP));
  }
  if (redis) {
    const client = redis;
    const live = new RedisBudgetStore(client);
    liveStore = live;
    // Scratch keys in the same Redis, deleted once compared.
    rebuild = () => rebuildInRedis(client, () => startup.config, usageLog, live);
  } else {
    const liveLocal = new LocalBudgetStore(join(dataDir, 'budget.db'));
    const rebuiltLocal = new LocalBudgetStore(':memory:');
    liveStore = liveLocal;
    const lock = owner;
    closers.push(
      () => liveLocal.close(),
      () => rebuiltLocal.close(),
      () => lock?.release(),
    );
    rebuild = () => rebuildBalances(() => startup.config, usageLog, rebuiltLocal, liveLocal);
  }
  try {
    const report = await rebuild();
    process.stdout.write(
      `rebuilt ${report.keys} balances from ${report.events} usage events and ${report.adjustments} adjustments: ${report.mismatches.length} mismatches, ${skipped.undecodable} undecodable events skipped\n`,
    );
    for (const m of report.mismatches) {
      process.stdout.write(`  ${m.key}: rebuilt ${m.rebuilt}, live ${m.live}\n`);
    }
    let differing = report.mismatches.length;
    const vouched = skipped.undecodable === 0 || values['accept-undecodable'];
    if (values.restore && vouched) {
      // Holding budget.db's lock, nothing settles meanwhile (its gateway is stopped): no wait.
      const behind = await settledThroughReplay(unsettled, owner ? 0 : catchUpWait.ms);
      if (behind > 0) {
        const then = owner
          ? 'start the gateway (or budget service) and let it settle them, stop it, then run the restore again'
          : 'run it again once the budget service has caught up';
        process.stderr.write(
          `budget rebuild: the budget settler has not yet applied everything the rebuild read (${behind} behind); restoring now would count that usage twice, so nothing was restored: ${then}\n`,
        );
        return REBUILD_EXIT.failed;
      }
      const { restored, caughtUp } = await restoreShortfalls(
        liveStore,
        report.mismatches,
        `${Date.now()}`,
      );
      for (const key of caughtUp)
        process.stdout.write(`  ${key}: settled by the budget service meanwhile\n`);
      for (const r of restored) process.stdout.write(`  restored ${r.key}: added ${r.added}\n`);
      differing -= restored.length + caughtUp.length;
      process.stdout.write(`restored ${restored.length} balances; ${differing} left as they are\n`);
    }
    const code = rebuildExitCode(differing, skipped.undecodable, values['accept-undecodable']);
    if (code === REBUILD_EXIT.undecodable) {
      process.stderr.write(
        `budget rebuild: ${skipped.undecodable} events could not be decoded and were left out, so the rebuilt balances lack their usage; rerun with --accept-undecodable to accept that\n`,
      );
    }
    return code;
  } finally {
    for (const close of closers) await close();
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(
      `budget rebuild: ${error instanceof Error ? error.message : String(error)}\n`,
    );
    process.exit(REBUILD_EXIT.failed);
  },
);
