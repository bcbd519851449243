import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import {
  BudgetAdjustmentAction,
  createBudgetAdjusted,
  createTokenUsageRecorded,
  serializeEvent,
  Topic,
  UsageSource,
  type GatewayEvent,
  type SerializedEvent,
} from '@aigw/contracts';
import { SqliteEventLog } from '@aigw/embedded';
import { budgetRebuildOutcome, perUserBudgetConfig } from '@aigw/testing/processes';
import {
  embeddedUsageLog,
  REBUILD_EXIT,
  rebuildExitCode,
  settledThroughReplay,
} from './rebuild-log';

const usage = (requestId: string, at: string) =>
  createTokenUsageRecorded(
    {
      requestId,
      partitionKey: 'alice',
      userId: 'alice',
      inputTokens: 10,
      outputTokens: 2,
      cachedInputTokens: 0,
      usageSource: UsageSource.Reported,
      modelRequested: 'm',
      modelServed: 'm',
      provider: 'local',
      backend: 'local',
      costDollars: 0,
      weightedTokenCost: 14,
      cacheHit: false,
    },
    { occurredAt: at },
  );

/** A stored usage message this build cannot read (a newer or damaged event). */
const UNREADABLE: SerializedEvent = {
  topic: Topic.UsageRecorded,
  key: 'alice',
  eventId: 'unreadable-1',
  json: '{"type":"usage.recorded","eventId":"unreadable-1","schemaVersion":99}',
};

/**
 * An embedded gateway's files for the CLI: a route with a 30-day budget per user, its data
 * directory (empty), and the CLI run against them, its exit code kept on failure.
 */
function embeddedGatewayFiles() {
  const { dir, config } = perUserBudgetConfig('aigw-rebuild-cli-', 'm');
  const data = join(dir, 'data');
  const cli = (...args: string[]) =>
    budgetRebuildOutcome({ AI_GATEWAY_CONFIG: config, AI_GATEWAY_DATA_DIR: data }, ...args);
  return { data, cli };
}

test('the embedded replay hands on every readable event in order and counts the rest', async () => {
  const log = new SqliteEventLog(':memory:');
  try {
    const reset = createBudgetAdjusted(
      { partitionKey: 'alice', userKey: 'alice', action: BudgetAdjustmentAction.Reset },
      { occurredAt: '2026-03-01T10:00:01Z' },
    );
    const first = usage('r1', '2026-03-01T10:00:00Z');
    const last = usage('r2', '2026-03-01T10:00:02Z');
    log.append([serializeEvent(first), UNREADABLE, serializeEvent(reset), serializeEvent(last)]);
    const skipped = { undecodable: 0 };
    const seen: GatewayEvent[] = [];
    await embeddedUsageLog(log, skipped).replay(async (batch) => {
      seen.push(...batch);
    });
    assert.deepEqual(
      seen.map((e) => e.eventId),
      [first.eventId, reset.eventId, last.eventId],
    );
    assert.equal(skipped.undecodable, 1);
  } finally {
    log.close();
  }
});

test('skipped events fail the rebuild unless accepted, ahead of a mismatch', () => {
  assert.equal(rebuildExitCode(0, 0, false), REBUILD_EXIT.match);
  assert.equal(rebuildExitCode(2, 0, false), REBUILD_EXIT.mismatch);
  assert.equal(rebuildExitCode(0, 1, false), REBUILD_EXIT.undecodable);
  assert.equal(rebuildExitCode(2, 1, false), REBUILD_EXIT.undecodable);
  assert.equal(rebuildExitCode(0, 1, true), REBUILD_EXIT.match);
  assert.equal(rebuildExitCode(2, 1, true), REBUILD_EXIT.mismatch);
});

test('budget:rebuild exits 3 naming the count when the log holds an undecodable usage event', async () => {
  const { data, cli } = embeddedGatewayFiles();
  const log = new SqliteEventLog(join(data, 'events.db'));
  log.append([UNREADABLE]);
  log.close();
  const refused = await cli();
  assert.equal(refused.code, REBUILD_EXIT.undecodable, refused.stdout + refused.stderr);
  assert.match(refused.stdout, /0 mismatches, 1 undecodable events skipped/);
  assert.match(refused.stderr, /1 events could not be decoded.*--accept-undecodable/);
  const accepted = await cli('--accept-undecodable');
  assert.equal(accepted.code, REBUILD_EXIT.match, accepted.stdout + accepted.stderr);
  assert.match(accepted.stdout, /0 mismatches, 1 undecodable events skipped/);
});

// The budget store lost its data (a deleted budget.db, Redis restarted empty): the log
// still holds the spend, and --restore gives it back to the live balances.
// Two runs of the CLI, each a fresh process compiling on the fly: slow on a loaded box.
test(
  'budget:rebuild --restore adds back the spend the live store lost, then matches',
  { timeout: 120_000 },
  async () => {
    const { data, cli } = embeddedGatewayFiles();
    const now = new Date().toISOString();
    const log = new SqliteEventLog(join(data, 'events.db'));
    log.append([serializeEvent(usage('r1', now)), serializeEvent(usage('r2', now))]);
    // The settler has not applied them yet: adding them now, then again when it does,
    // would count them twice. Nothing is restored.
    const early = await cli('--restore', '--catch-up-wait', '0');
    assert.equal(early.code, REBUILD_EXIT.failed, early.stdout + early.stderr);
    assert.match(early.stderr, /not yet applied everything the rebuild read \(2 behind\)/);
    assert.doesNotMatch(early.stdout, /restored/);
    // It has (the gateway's settler committed past them), but its store lost them.
    log.commit('budget', log.read([Topic.UsageRecorded], 0, 10).at(-1)!.seq);
    log.close();
    const restored = await cli('--restore');
    assert.equal(restored.code, REBUILD_EXIT.match, restored.stdout + restored.stderr);
    assert.match(restored.stdout, /1 mismatches/);
    assert.match(restored.stdout, /rebuilt 28, live 0/);
    assert.match(restored.stdout, /restored .*: added 28/);
    assert.match(restored.stdout, /restored 1 balances; 0 left as they are/);
    const after = await cli();
    assert.equal(after.code, REBUILD_EXIT.match, after.stdout + after.stderr);
    assert.match(after.stdout, /0 mismatches/);
  },
);

// Against budget.db the restore holds the store's lock, so its gateway is stopped and nothing
// settles meanwhile: waiting for it only delayed the refusal (30 s by default), and "once
// the budget service has caught up" never comes while it is stopped.
test(
  'an embedded restore with usage left unsettled says to let the gateway settle it first',
  { timeout: 120_000 },
  async () => {
    const { data, cli } = embeddedGatewayFiles();
    const now = new Date().toISOString();
    const log = new SqliteEventLog(join(data, 'events.db'));
    log.append([serializeEvent(usage('r1', now))]);
    log.close();
    const refused = await cli('--restore');
    assert.equal(refused.code, REBUILD_EXIT.failed, refused.stdout + refused.stderr);
    assert.match(
      refused.stderr,
      /\(1 behind\).*start the gateway \(or budget service\) and let it settle them, stop it, then run the restore again/,
    );
    assert.doesNotMatch(refused.stdout, /restored/);
  },
);

test('a restore waits for the settler to catch up with the replay, and gives up after its wait', async () => {
  let behind = 3;
  assert.equal(await settledThroughReplay(() => behind--, 5_000, 1), 0);
  assert.equal(behind, -1, 'polled until nothing was left');
  const started = Date.now();
  assert.equal(await settledThroughReplay(() => 2, 30, 5), 2);
  assert.ok(Date.now() - started >= 30, 'waited its wait out');
  assert.equal(await settledThroughReplay(() => 4, 0), 4, 'no wait: one look');
});
