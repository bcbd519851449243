import { setImmediate as yieldToRequests } from 'node:timers/promises';
import type { DatabaseSync, SQLInputValue, StatementSync } from 'node:sqlite';
import type { GatewayEvent } from '@aigw/contracts';
import {
  inTransaction,
  NO_WAIT_DURABLE_POINT,
  openDurableSqlite,
  synchronousLevel,
  WalCheckpointer,
  type DurablePoint,
  type SqliteSync,
  type WalDurablePointOptions,
} from '@aigw/embedded';
import {
  addTotals,
  adjustmentRow,
  BUCKET_SECONDS,
  EMPTY_TOTALS,
  isoSeconds,
  LATENCY_LEVELS,
  PAYLOAD_BODIES_SQL,
  PAYLOAD_SUMMARY_SQL,
  payloadRecord,
  payloadSummary,
  ratio,
  type Bucket,
  type BudgetAdjustmentRow,
  type BudgetAdjustmentsQuery,
  type BudgetStateRow,
  type BudgetsQuery,
  type FallbackRow,
  type FallbacksQuery,
  type LatencyQuery,
  type LatencyRow,
  type PayloadRecord,
  type PayloadsQuery,
  type PayloadSummary,
  type RatesQuery,
  type RatesReport,
  type SpenderRow,
  type StoredPayload,
  type StoredPayloadSummary,
  type TimeRange,
  type TopSpendersQuery,
  type UsageAnalytics,
  type UsageDimension,
  type UsageFilters,
  type UsagePoint,
  type UsageQuery,
  type UsageReport,
  type UsageTotals,
} from '../domain/analytics.types';
import type { RawTable } from '../domain/event-rows';
import { EXPIRING_TABLES, type RawEventExpiry } from '../domain/analytics-retention';
import { quantileAt, quantileRanks } from '../domain/percentiles';
import type { UsageEventWriter } from '../usage-sink.consumer';
import { MAX_SERIES_POINTS, seriesTooLarge } from '../domain/analytics-query-error';
import { answerLatency, answerReport, answerTotals } from '../domain/answer-precision';
import { RawRowInserter } from './raw-row-inserter';
import { prepareRawTables } from './sqlite-usage.schema';

type Columns = Readonly<Partial<Record<Exclude<UsageDimension, 'none'>, string>>>;

/** usage_events and request_completed_events: what was served, and its route (layout 7). */
const SERVED: Columns = {
  user: 'user_id',
  model: 'model_served',
  provider: 'provider',
  tier: 'tier',
  route: 'route',
};
/** usage_events: what was served, and the operation ('' in an older build's event). */
const USAGE: Columns = { ...SERVED, operation: 'operation' };
const REJECTED: Columns = { user: 'user_id', model: 'model_requested', tier: 'tier' };
const FALLBACK: Columns = { user: 'user_id', model: 'model_requested' };

const TOTALS = `count(*) AS requests, coalesce(sum(cache_hit), 0) AS cacheHits,
  coalesce(sum(input_tokens), 0) AS inputTokens, coalesce(sum(output_tokens), 0) AS outputTokens,
  coalesce(sum(cached_input_tokens), 0) AS cachedInputTokens,
  coalesce(sum(cache_write_input_tokens), 0) AS cacheWriteInputTokens,
  coalesce(sum(web_search_requests), 0) AS webSearchRequests,
  coalesce(sum(cost_dollars), 0.0) AS costDollars,
  coalesce(sum(weighted_token_cost), 0.0) AS weightedTokens`;

/**
 * Budget states numbered newest first per limit (`newest` 1), the later id on a tie: one
 * sort of the table (a NOT EXISTS per row, without an index to seek, read it once per row).
 * `where` picks whole limits (a condition on the budget key and limit kind alone).
 */
const newestStateRows = (where = '') => `SELECT *, row_number() OVER (
    PARTITION BY budget_key, limit_kind ORDER BY occurred_ms DESC, event_id DESC
  ) AS newest
  FROM budget_state_events ${where}`;
const NEWEST_STATE_ROWS = newestStateRows();

/** Per connection: the newest states an expiry pass keeps. */
const NEWEST_BUDGET_STATES = 'temp.newest_budget_states';

interface Where {
  readonly sql: string;
  readonly params: SQLInputValue[];
}

/** How spenders are listed: the most spent first, or by user id (the order pages take). */
const SPENDER_ORDER: Readonly<Record<TopSpendersQuery['orderBy'], string>> = {
  cost: 'costDollars DESC, user_id',
  tokens: '(inputTokens + outputTokens) DESC, user_id',
  user: 'user_id',
};

/**
 * The analytics store of the all-in-one gateway: the raw tables of the ClickHouse schema
 * in SQLite under the data directory, idempotent on the event id (the tables are keyed
 * by time and id, `sqlite-usage.schema.ts`), and the same queries answered by
 * aggregating them (one process, laptop-sized data).
 * Numbers match the ClickHouse store's for the same events.
 */
export class SqliteUsageStore implements UsageEventWriter, UsageAnalytics, RawEventExpiry {
  private readonly db: DatabaseSync;
  private readonly inserter: RawRowInserter;
  private readonly expiries = new Map<RawTable, StatementSync>();
  private readonly checkpointer: WalCheckpointer | undefined;

  private readonly maxSeriesPoints: number;

  private readonly durablePoint: DurablePoint;

  /**
   * `sync` (default `full`): the sink's consumer commits its position (Kafka's offset, or
   * the embedded log's) once `write` returns, so a write must outlast a power loss: one
   * lost after the commit is never delivered again. `write` resolves after an fsync of the
   * WAL (off the event loop, shared by concurrent writes). `normal` waits for none and may
   * lose the last commits to a power loss.
   */
  constructor(
    path: string,
    options: {
      readonly maxSeriesPoints?: number;
      readonly sync?: SqliteSync;
    } & WalDurablePointOptions = {},
  ) {
    this.maxSeriesPoints = options.maxSeriesPoints ?? MAX_SERIES_POINTS;
    ({ db: this.db, durablePoint: this.durablePoint } = openDurableSqlite(path, options));
    prepareRawTables(this.db);
    this.inserter = new RawRowInserter(this.db);
    this.db.exec(`CREATE TEMP TABLE IF NOT EXISTS ${NEWEST_BUDGET_STATES} (
      occurred_at INTEGER NOT NULL, event_id TEXT NOT NULL, PRIMARY KEY (occurred_at, event_id)
    ) WITHOUT ROWID`);
    for (const table of EXPIRING_TABLES) {
      // Each limit's newest state stays: the budgets panel shows it however old it is, as
      // ClickHouse's budget_state_newest (no raw table) keeps it.
      const kept =
        table === 'budget_state_events'
          ? `AND (occurred_at, event_id) NOT IN (SELECT occurred_at, event_id FROM ${NEWEST_BUDGET_STATES})`
          : '';
      // The oldest rows first, found by the (occurred_at, event_id) key the table is stored in.
      this.expiries.set(
        table,
        this.db.prepare(
          `DELETE FROM ${table} WHERE (occurred_at, event_id) IN (
             SELECT occurred_at, event_id FROM ${table}
             WHERE occurred_at < ? ${kept} ORDER BY occurred_at, event_id LIMIT ?)`,
        ),
      );
    }
    this.checkpointer = WalCheckpointer.start(this.db, path);
  }

  /**
   * Deletes the raw rows that occurred before `cutoffSeconds` (the audit tables' are kept),
   * `chunkRows` at a time with
   * the event loop let go in between, so requests and the sink's writes interleave with a
   * large deletion. The file keeps its size; SQLite reuses the freed pages for new rows.
   */
  async expireBefore(
    cutoffSeconds: number,
    tables: readonly RawTable[] = EXPIRING_TABLES,
    chunkRows = 1_000,
  ): Promise<number> {
    let deleted = 0;
    for (const table of tables) {
      const expire = this.expiries.get(table);
      if (!expire) throw new Error(`${table} is not a table retention deletes from`);
      if (table === 'budget_state_events') this.rememberNewestBudgetStates();
      for (;;) {
        const { changes } = expire.run(cutoffSeconds, chunkRows);
        deleted += Number(changes);
        if (Number(changes) < chunkRows) break;
        await yieldToRequests();
      }
    }
    return deleted;
  }

  /** The keys of each limit's newest state, found with one sort, for this expiry pass. */
  private rememberNewestBudgetStates(): void {
    inTransaction(this.db, () => {
      this.db.exec(`DELETE FROM ${NEWEST_BUDGET_STATES};
        INSERT INTO ${NEWEST_BUDGET_STATES} SELECT occurred_at, event_id FROM (${NEWEST_STATE_ROWS})
        WHERE newest = 1`);
    });
  }

  async write(events: readonly GatewayEvent[]): Promise<void> {
    // An id repeated within the batch is ignored like one stored earlier.
    inTransaction(this.db, () => this.inserter.insert(events));
    await this.durablePoint.afterCommit();
  }

  async usage(query: UsageQuery): Promise<UsageReport> {
    const t = bucketExpr(query.bucket);
    const where = whereOf(query, query.bucket, query.filters, USAGE);
    const rows = this.all<UsageTotals & { t: number; key: string }>(
      `SELECT ${t} AS t, ${keyOf(query.groupBy, USAGE)} AS key, ${TOTALS}
       FROM usage_events ${where.sql} GROUP BY t, key ORDER BY t, key LIMIT ?`,
      [...where.params, this.maxSeriesPoints + 1],
    );
    if (rows.length > this.maxSeriesPoints) throw seriesTooLarge(this.maxSeriesPoints);
    const series: UsagePoint[] = rows.map(({ t: at, key, ...totals }) => ({
      bucket: isoSeconds(at),
      key,
      ...numbers(totals),
    }));
    return answerReport({ series, totals: series.reduce<UsageTotals>(addTotals, EMPTY_TOTALS) });
  }

  async topSpenders(query: TopSpendersQuery): Promise<readonly SpenderRow[]> {
    const where = whereOf(query, 'hour', query.filters, USAGE);
    // A page of users in id order starts after its cursor's.
    const after = query.afterUser === undefined ? '' : 'AND user_id > ?';
    const rows = this.all<UsageTotals & { user: string }>(
      `SELECT user_id AS user, ${TOTALS} FROM usage_events ${where.sql} ${after}
       GROUP BY user_id ORDER BY ${SPENDER_ORDER[query.orderBy]} LIMIT ?`,
      [...where.params, ...(query.afterUser === undefined ? [] : [query.afterUser]), query.limit],
    );
    return rows.map(({ user, ...totals }) => answerTotals({ user, ...numbers(totals) }));
  }

  async rates(query: RatesQuery): Promise<RatesReport> {
    const where = whereOf(query, 'hour', query.filters, SERVED);
    const [r] = this.all<{ n: number; fb: number; cached: number; failed: number }>(
      `SELECT count(*) AS n, coalesce(sum(attempts > 1), 0) AS fb,
         coalesce(sum(cached = 1), 0) AS cached, coalesce(sum(status != 'success'), 0) AS failed
       FROM request_completed_events ${where.sql}`,
      where.params,
    );
    const rejectedWhere = whereOf(query, 'hour', query.filters, REJECTED);
    const [rejected] = this.all<{ n: number }>(
      `SELECT count(*) AS n FROM request_rejected_events ${rejectedWhere.sql}`,
      rejectedWhere.params,
    );
    return {
      requests: r.n,
      fallbackRequests: r.fb,
      fallbackRate: ratio(r.fb, r.n),
      cachedRequests: r.cached,
      cacheHitRate: ratio(r.cached, r.n),
      failedRequests: r.failed,
      errorRate: ratio(r.failed, r.n),
      rejections: rejected.n,
    };
  }

  async latency(query: LatencyQuery): Promise<readonly LatencyRow[]> {
    const where = whereOf(query, 'hour', query.filters, SERVED);
    const key = keyOf(query.groupBy, SERVED);
    const groups = this.all<{ key: string; n: number; total: number }>(
      `SELECT ${key} AS key, count(*) AS n, total(latency_ms) AS total
       FROM request_completed_events ${where.sql} GROUP BY key ORDER BY key`,
      where.params,
    );
    // Only the latencies at the ranks the quantiles blend come back, at most 8 per group:
    // SQLite sorts each group (spilling to disk past its cache), so a year of requests is
    // never held in this process, whose event loop also serves the gateway.
    const wanted = groups.flatMap(({ key: group, n }) =>
      LATENCY_LEVELS.flatMap((level) => {
        const { lower, upper } = quantileRanks(n, level);
        return [
          [group, lower],
          [group, upper],
        ];
      }),
    );
    const ranked = this.all<{ key: string; rank: number; latency: number }>(
      `SELECT key, rank, latency FROM (
         SELECT ${key} AS key, latency_ms AS latency,
           row_number() OVER (PARTITION BY ${key} ORDER BY latency_ms) - 1 AS rank
         FROM request_completed_events ${where.sql})
       WHERE (key, rank) IN (SELECT value ->> 0, value ->> 1 FROM json_each(?))`,
      [...where.params, JSON.stringify(wanted)],
    );
    const at = new Map(ranked.map((row) => [`${row.rank}\n${row.key}`, row.latency]));
    return groups.map(({ key: group, n, total }) => {
      const [p50Ms, p90Ms, p95Ms, p99Ms] = LATENCY_LEVELS.map((level) =>
        quantileAt(quantileRanks(n, level), (rank) => {
          const value = at.get(`${rank}\n${group}`);
          if (value === undefined) throw new Error(`latency rank ${rank} of ${group} not read`);
          return value;
        }),
      );
      return answerLatency({
        key: group,
        requests: n,
        meanMs: total / n,
        p50Ms,
        p90Ms,
        p95Ms,
        p99Ms,
      });
    });
  }

  async fallbacks(query: FallbacksQuery): Promise<readonly FallbackRow[]> {
    const where = whereOf(query, 'hour', query.filters, FALLBACK);
    return this.all<FallbackRow>(
      `SELECT from_provider AS fromProvider, from_model AS fromModel, to_provider AS toProvider,
         to_model AS toModel, reason, count(*) AS count
       FROM fallback_events ${where.sql}
       GROUP BY from_provider, from_model, to_provider, to_model, reason
       ORDER BY count DESC, from_provider, from_model, to_provider, to_model, reason`,
      where.params,
    );
  }

  async budgets(query: BudgetsQuery): Promise<readonly BudgetStateRow[]> {
    const limits = budgetLimitsWhere(query);
    // The state is the newest one's: filtered after it is found.
    const wanted = query.filters?.state;
    const state: Where =
      wanted === undefined ? { sql: '', params: [] } : { sql: 'AND state = ?', params: [wanted] };
    const rows = this.all<{
      budgetKey: string;
      limitKind: string;
      state: string;
      remaining: number;
      limitValue: number;
      unit: string;
      windowId: string;
      resetAt: number;
      atMs: number;
    }>(
      `SELECT budget_key AS budgetKey, limit_kind AS limitKind, state, remaining,
         limit_value AS limitValue, unit, window_id AS windowId, reset_at AS resetAt,
         occurred_ms AS atMs
       FROM (${newestStateRows(limits.sql)})
       WHERE newest = 1 ${state.sql}
       ORDER BY budget_key, limit_kind
       LIMIT ?`,
      [...limits.params, ...state.params, query.limit],
    );
    return rows.map(({ limitValue, resetAt, atMs, ...row }) => ({
      ...row,
      limit: limitValue,
      resetAt: isoSeconds(resetAt),
      at: new Date(atMs).toISOString(),
    }));
  }

  async payload(requestId: string): Promise<PayloadRecord | undefined> {
    // One request has one payload; a retried client request has a new id.
    const [row] = this.all<StoredPayload>(
      `SELECT ${PAYLOAD_SUMMARY_SQL}, ${PAYLOAD_BODIES_SQL} FROM request_payload_events
       WHERE request_id = ? ORDER BY occurred_ms DESC LIMIT 1`,
      [requestId],
    );
    return row && payloadRecord(row);
  }

  async payloads(query: PayloadsQuery): Promise<readonly PayloadSummary[]> {
    return this.all<StoredPayloadSummary>(
      `SELECT ${PAYLOAD_SUMMARY_SQL} FROM request_payload_events
       WHERE user_id = ? ORDER BY occurred_ms DESC, event_id DESC LIMIT ?`,
      [query.user, query.limit],
    ).map(payloadSummary);
  }

  async budgetAdjustments(query: BudgetAdjustmentsQuery): Promise<readonly BudgetAdjustmentRow[]> {
    const fromMs = query.from.getTime();
    const toMs = query.to.getTime();
    // The seconds key bounds the seek; the milliseconds make the range exact.
    const conditions = [
      'occurred_at >= ?',
      'occurred_at <= ?',
      'occurred_ms >= ?',
      'occurred_ms < ?',
    ];
    const params: SQLInputValue[] = [
      Math.floor(fromMs / 1000),
      Math.floor(toMs / 1000),
      fromMs,
      toMs,
    ];
    if (query.filters.user !== undefined) {
      conditions.push('user_key = ?');
      params.push(query.filters.user);
    }
    const rows = this.all<Parameters<typeof adjustmentRow>[0]>(
      // A retried request with an Idempotency-Key is one event id published twice (the
      // budget service applied it once): listed once, at its first time in the range
      // (SQLite takes a row's other columns from the one MIN() picks).
      `SELECT MIN(occurred_ms) AS atMs, event_id AS eventId, user_key AS user, action,
         limit_kind AS limitKind, amount, reason, operator
       FROM budget_adjustment_events WHERE ${conditions.join(' AND ')}
       GROUP BY event_id
       ORDER BY atMs DESC, eventId DESC LIMIT ?`,
      [...params, query.limit],
    );
    return rows.map(adjustmentRow);
  }

  /** Whether `write` waits for an fsync (`full`, on a file), rather than for nothing. */
  get waitsForSync(): boolean {
    return this.durablePoint !== NO_WAIT_DURABLE_POINT;
  }

  /** PRAGMA synchronous on the store's connection: 1 (NORMAL) whatever `sync` says. */
  synchronousLevel(): number {
    return synchronousLevel(this.db);
  }

  /** Rows per raw table, for tests and the rebuild check. */
  count(table: RawTable): number {
    const row = this.db.prepare(`SELECT count(*) AS n FROM ${table}`).get() as { n: number };
    return row.n;
  }

  close(): void {
    this.checkpointer?.stop();
    void this.durablePoint.close();
    this.db.close();
  }

  private all<T>(sql: string, params: SQLInputValue[]): T[] {
    return this.db.prepare(sql).all(...params) as T[];
  }
}

function bucketExpr(bucket: Bucket): string {
  const size = BUCKET_SECONDS[bucket];
  return `((CAST(occurred_at AS INTEGER) / ${size}) * ${size})`;
}

function keyOf(dimension: UsageDimension, columns: Columns): string {
  if (dimension === 'none') return `'all'`;
  const column = columns[dimension];
  if (column === undefined) throw new Error(`cannot group by ${dimension} here`);
  return column;
}

/** Events whose bucket starts in [from, to), plus the filters that apply to the table. */
function whereOf(range: TimeRange, bucket: Bucket, filters: UsageFilters, columns: Columns): Where {
  const from = Math.ceil(range.from.getTime() / 1000);
  const to = Math.ceil(range.to.getTime() / 1000);
  const conditions = [`${bucketExpr(bucket)} >= ?`, `${bucketExpr(bucket)} < ?`];
  const params: SQLInputValue[] = [from, to];
  if (from > 0) {
    // The same range on the bare column (the bucket of a time t >= 0 starts at or after
    // `from` exactly when t does at or after `from` rounded up to a bucket, and likewise
    // for `to`), so SQLite seeks the tables' time-led key instead of scanning them.
    const size = BUCKET_SECONDS[bucket];
    conditions.push('occurred_at >= ?', 'occurred_at < ?');
    params.push(Math.ceil(from / size) * size, Math.ceil(to / size) * size);
  }
  for (const dimension of ['user', 'model', 'provider', 'tier', 'route', 'operation'] as const) {
    const value = filters[dimension];
    const column = columns[dimension];
    // A filter that does not apply to the table (a rejection's provider or route) is left out.
    if (value === undefined || column === undefined) continue;
    conditions.push(`${column} = ?`);
    params.push(value);
  }
  return { sql: `WHERE ${conditions.join(' AND ')}`, params };
}

/**
 * The limits a budgets query reads, before their newest states are found: those after its
 * cursor (budget key, then limit kind, the list's order) and of its key and kind filters.
 */
function budgetLimitsWhere(query: BudgetsQuery): Where {
  const conditions: string[] = [];
  const params: SQLInputValue[] = [];
  if (query.after) {
    conditions.push('(budget_key > ? OR (budget_key = ? AND limit_kind > ?))');
    params.push(query.after.budgetKey, query.after.budgetKey, query.after.limitKind);
  }
  const { budgetKey, limitKind } = query.filters ?? {};
  if (budgetKey !== undefined) {
    conditions.push('budget_key = ?');
    params.push(budgetKey);
  }
  if (limitKind !== undefined) {
    conditions.push('limit_kind = ?');
    params.push(limitKind);
  }
  return { sql: conditions.length === 0 ? '' : `WHERE ${conditions.join(' AND ')}`, params };
}

function numbers(totals: UsageTotals): UsageTotals {
  return {
    requests: Number(totals.requests),
    cacheHits: Number(totals.cacheHits),
    inputTokens: Number(totals.inputTokens),
    outputTokens: Number(totals.outputTokens),
    cachedInputTokens: Number(totals.cachedInputTokens),
    cacheWriteInputTokens: Number(totals.cacheWriteInputTokens),
    webSearchRequests: Number(totals.webSearchRequests),
    costDollars: Number(totals.costDollars),
    weightedTokens: Number(totals.weightedTokens),
  };
}
