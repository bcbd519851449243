// Two states of one limit reported in the same millisecond (a settlement and the next
// admission, say): the budgets panel shows the later one, the one with the greater event id
// (UUIDv7, ascending within the budget service that made them), as the embedded store does.
// 003's latest-state table ordered by the millisecond alone, so ClickHouse showed either:
// the first part read before a merge, the last row inserted after one.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ClickHouseClient } from '@clickhouse/client';
import {
  BudgetState,
  BudgetUnit,
  createBudgetStateChanged,
  LimitKind,
  type BudgetStateChanged,
} from '@aigw/contracts';
import { migrate, sqlIdentifier } from '@aigw/infra';
import { migratedClickHouseDatabases } from '../testing/migrated-clickhouse';
import { ClickHouseRawEventExpiry } from './clickhouse-retention';
import { ClickHouseUsageAnalytics } from './clickhouse-usage.analytics';
import { ClickHouseUsageWriter } from './clickhouse-usage.writer';

const withDatabase = migratedClickHouseDatabases('it_bso');

const AT = new Date('2026-03-01T10:00:00.123Z');

/** A state of alice's `limitKind` at AT, with `remaining` telling states apart. */
function stateOf(limitKind: LimitKind, remaining: number, eventId: string): BudgetStateChanged {
  return createBudgetStateChanged(
    {
      requestId: null,
      partitionKey: 'alice',
      budgetKey: 'alice',
      limitKind,
      windowId: '2026-03',
      state: remaining === 0 ? BudgetState.Exhausted : BudgetState.Recovered,
      remaining,
      limit: 1000,
      unit: BudgetUnit.Tokens,
      resetAt: '2026-04-01T00:00:00.000Z',
    },
    { occurredAt: AT, eventId },
  );
}

/** The `n`th event id the budget service made in AT's millisecond. */
const idOf = (n: number) => `019ca8f5-e47b-7000-8000-${String(n).padStart(12, '0')}`;

/**
 * Per limit, two states of one millisecond, each written on its own (one insert each):
 * the token budget's later state first, the rate limit's later state last. Whichever way a
 * store breaks the tie by insert order, one of the two shows the earlier state.
 */
async function writeTiedStates(client: ClickHouseClient): Promise<void> {
  const writer = new ClickHouseUsageWriter(client);
  await writer.write([stateOf(LimitKind.TokenBudgetPerUser, 700, idOf(2))]);
  await writer.write([stateOf(LimitKind.TokenBudgetPerUser, 0, idOf(1))]);
  await writer.write([stateOf(LimitKind.UserRequestsPerMinute, 0, idOf(3))]);
  await writer.write([stateOf(LimitKind.UserRequestsPerMinute, 700, idOf(4))]);
}

/** What alice's limits have left, by limit, as the budgets panel shows them. */
async function remainingByLimit(client: ClickHouseClient): Promise<Record<string, number>> {
  const rows = await new ClickHouseUsageAnalytics(client).budgets({ limit: 100 });
  const alices = rows.filter((row) => row.budgetKey === 'alice');
  return Object.fromEntries(alices.map((row) => [row.limitKind, row.remaining]));
}

const LATER_STATES = {
  [LimitKind.TokenBudgetPerUser]: 700,
  [LimitKind.UserRequestsPerMinute]: 700,
};

/** Merges every budget-state table as ClickHouse would in time. */
async function mergeBudgetStateTables(client: ClickHouseClient): Promise<void> {
  const tables = await (
    await client.query({
      query: `SELECT name FROM system.tables
              WHERE database = currentDatabase() AND name LIKE 'budget_state%' AND engine LIKE '%MergeTree'`,
      format: 'JSONEachRow',
    })
  ).json<{ name: string }>();
  for (const { name } of tables) {
    await client.command({ query: `OPTIMIZE TABLE ${sqlIdentifier(name)} FINAL` });
  }
}

describe('budget states of one millisecond on ClickHouse', () => {
  it('shows the later state of each limit, before and after a merge', async () => {
    await withDatabase(undefined, async (client) => {
      await writeTiedStates(client);
      assert.deepEqual(await remainingByLimit(client), LATER_STATES, 'before a merge');
      await mergeBudgetStateTables(client);
      assert.deepEqual(await remainingByLimit(client), LATER_STATES, 'after a merge');
    });
  });

  it('an existing database keeps its states through the migration, its ties then read right', async () => {
    await withDatabase(12, async (client) => {
      // A limit whose raw rows retention already dropped: its state is only in 003's table.
      const kept = createBudgetStateChanged(
        {
          requestId: null,
          partitionKey: 'bob',
          budgetKey: 'bob',
          limitKind: LimitKind.TokenBudgetPerUser,
          windowId: '2026-01',
          state: BudgetState.Exhausted,
          remaining: 0,
          limit: 50,
          unit: BudgetUnit.Tokens,
          resetAt: '2026-02-01T00:00:00.000Z',
        },
        { occurredAt: new Date('2026-01-20T08:00:00.000Z') },
      );
      await new ClickHouseUsageWriter(client).write([kept]);
      await new ClickHouseRawEventExpiry(client).expireBefore(Date.parse('2026-02-01') / 1000);
      await writeTiedStates(client);

      assert.ok((await migrate(client)).applied.includes('013_budget_state_order'));
      const rows = await new ClickHouseUsageAnalytics(client).budgets({ limit: 100 });
      const bob = rows.find((row) => row.budgetKey === 'bob');
      assert.deepEqual(
        bob && [bob.state, bob.remaining, bob.limit, bob.windowId, bob.resetAt, bob.at],
        ['exhausted', 0, 50, '2026-01', '2026-02-01T00:00:00Z', '2026-01-20T08:00:00.000Z'],
      );
      assert.deepEqual(await remainingByLimit(client), LATER_STATES);
      // States written after the migration reach the new table as well.
      await new ClickHouseUsageWriter(client).write([
        stateOf(LimitKind.TokenBudgetPerUser, 300, idOf(5)),
      ]);
      await mergeBudgetStateTables(client);
      assert.equal((await remainingByLimit(client))[LimitKind.TokenBudgetPerUser], 300);
      assert.equal((await migrate(client)).applied.length, 0, 'recorded');
    });
  });
});
