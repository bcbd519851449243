import type { ClickHouseClient } from '@clickhouse/client';
import { CLICKHOUSE_REQUEST_TIMEOUT_MS, sqlString } from '@aigw/infra';
import {
  addTotals,
  adjustmentRow,
  EMPTY_TOTALS,
  isoSeconds,
  PAYLOAD_BODIES_SQL,
  PAYLOAD_SUMMARY_SQL,
  payloadRecord,
  payloadSummary,
  ratio,
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
  type TopSpendersQuery,
  type UsageAnalytics,
  type UsagePoint,
  type UsageQuery,
  type UsageReport,
  type UsageTotals,
} from '../domain/analytics.types';
import {
  type ColumnMap,
  FALLBACK_COLUMNS,
  keyExpression,
  OPERATION_COLUMNS,
  REJECTION_COLUMNS,
  REQUEST_ROUTE_COLUMNS,
  SERVED_COLUMNS,
  USAGE_ROUTE_COLUMNS,
  whereClause,
} from './analytics-sql';
import { MAX_SERIES_POINTS, seriesTooLarge } from '../domain/analytics-query-error';
import { answerLatency, answerReport, answerTotals } from '../domain/answer-precision';

// 64-bit integers come back as JSON strings; sums of Float64 as numbers.
type Num = string | number;

interface TotalsRow {
  s_requests: Num;
  s_cache_hits: Num;
  s_tokens_in: Num;
  s_tokens_out: Num;
  s_tokens_cached_in: Num;
  s_tokens_cache_write_in: Num;
  s_cost: Num;
  s_weighted: Num;
}

const TOTALS_COLUMNS = `sum(requests) AS s_requests, sum(cache_hits) AS s_cache_hits,
  sum(tokens_in) AS s_tokens_in, sum(tokens_out) AS s_tokens_out,
  sum(tokens_cached_in) AS s_tokens_cached_in,
  sum(tokens_cache_write_in) AS s_tokens_cache_write_in, sum(cost) AS s_cost,
  sum(weighted_cost) AS s_weighted`;

const ROLLUP_KEYS = 'bucket, user_id, model_requested, model_served, provider, tier';

/**
 * The rows of a usage rollup (`usage_hourly`, `usage_daily`) matching `where`, with those of
 * its cache-write rollup (migration 005) added as rows of their own, every other count 0:
 * the totals' sums take both. `where` goes into each side, where it meets their keys.
 */
function usageRows(bucket: 'hourly' | 'daily', where: string): string {
  const zero = 'toUInt64(0)';
  return `(SELECT ${ROLLUP_KEYS}, requests, cache_hits, tokens_in, tokens_out, tokens_cached_in,
      ${zero} AS tokens_cache_write_in, cost, weighted_cost
    FROM usage_${bucket} ${where}
    UNION ALL
    SELECT ${ROLLUP_KEYS}, ${zero}, ${zero}, ${zero}, ${zero}, ${zero}, tokens_cache_write_in,
      toFloat64(0), toFloat64(0)
    FROM cache_writes_${bucket} ${where})`;
}

/** The totals of `operationRows`, under the names `totalsOf` reads. */
const OPERATION_TOTALS = `sum(n_requests) AS s_requests, sum(n_cache_hits) AS s_cache_hits,
  sum(n_in) AS s_tokens_in, sum(n_out) AS s_tokens_out, sum(n_cached_in) AS s_tokens_cached_in,
  sum(n_cache_write_in) AS s_tokens_cache_write_in, sum(n_cost) AS s_cost,
  sum(n_weighted) AS s_weighted`;

/**
 * Rows of a rollup by operation (migration 006), as signed numbers; `negated`: with every
 * number negated and the operation '' (taken away from the '' group). Columns are named
 * apart from the rollups' (18.16 resolves an alias equal to a source column).
 */
function operationSide(bucket: 'hourly' | 'daily', where: string, negated: boolean): string {
  const sign = negated ? '-' : '';
  const count = (column: string, alias: string) => `${sign}toInt64(${column}) AS ${alias}`;
  return `SELECT ${ROLLUP_KEYS}, ${negated ? `'' AS operation` : 'operation'},
      ${count('requests', 'n_requests')}, ${count('cache_hits', 'n_cache_hits')},
      ${count('tokens_in', 'n_in')}, ${count('tokens_out', 'n_out')},
      ${count('tokens_cached_in', 'n_cached_in')},
      ${count('tokens_cache_write_in', 'n_cache_write_in')},
      ${sign}cost AS n_cost, ${sign}weighted_cost AS n_weighted
    FROM usage_operations_${bucket} ${where}`;
}

/**
 * Usage rows by operation matching `where`. With an operation filter (in `where`): the
 * rollups by operation alone. Grouped by operation without one: those, plus the usage
 * and cache-write rollups as operation '' less the rows by operation, so the '' group is
 * the usage that names none (an older build's, or stored before migration 006) and every
 * total still adds up to the ungrouped one. Groups left at 0 requests are dropped by the
 * caller (HAVING).
 */
function operationRows(bucket: 'hourly' | 'daily', where: string, filtered: boolean): string {
  if (filtered) return `(${operationSide(bucket, where, false)})`;
  const zero = 'toInt64(0)';
  return `(${operationSide(bucket, where, false)}
    UNION ALL
    SELECT ${ROLLUP_KEYS}, '' AS operation, toInt64(requests) AS n_requests,
      toInt64(cache_hits) AS n_cache_hits, toInt64(tokens_in) AS n_in,
      toInt64(tokens_out) AS n_out, toInt64(tokens_cached_in) AS n_cached_in,
      ${zero} AS n_cache_write_in, cost AS n_cost, weighted_cost AS n_weighted
    FROM usage_${bucket} ${where}
    UNION ALL
    SELECT ${ROLLUP_KEYS}, '' AS operation, ${zero}, ${zero}, ${zero}, ${zero}, ${zero},
      toInt64(tokens_cache_write_in), toFloat64(0), toFloat64(0)
    FROM cache_writes_${bucket} ${where}
    UNION ALL
    ${operationSide(bucket, where, true)})`;
}

/** Whether a usage query needs the rollups by operation. */
const byOperation = (groupBy: string, filters: { operation?: string }): boolean =>
  groupBy === 'operation' || filters.operation !== undefined;

/**
 * Rows of a usage rollup by route (migration 011), as signed numbers under the names
 * OPERATION_TOTALS reads; `negated`: every number negated and the route '' (taken away
 * from the '' group, keeping its operation).
 */
function routeSide(bucket: 'hourly' | 'daily', where: string, negated: boolean): string {
  const sign = negated ? '-' : '';
  const count = (column: string, alias: string) => `${sign}toInt64(${column}) AS ${alias}`;
  return `SELECT ${ROLLUP_KEYS}, operation, ${negated ? `'' AS route` : 'route'},
      ${count('requests', 'n_requests')}, ${count('cache_hits', 'n_cache_hits')},
      ${count('tokens_in', 'n_in')}, ${count('tokens_out', 'n_out')},
      ${count('tokens_cached_in', 'n_cached_in')},
      ${count('tokens_cache_write_in', 'n_cache_write_in')},
      ${sign}cost AS n_cost, ${sign}weighted_cost AS n_weighted
    FROM usage_routes_${bucket} ${where}`;
}

/**
 * Usage rows by route (with their operation). With a route filter (never '', in `where`):
 * the rollups by route alone, which hold every row naming a route. Grouped by route
 * without one: those, plus all usage as route '' less the rows by route, so the '' group
 * is the usage that names none (an older build's, or stored before migration 011) and
 * every total still adds up. With an operation filter, "all usage" is that operation's
 * (the rollups by operation, which hold every row naming one).
 */
function routeRows(bucket: 'hourly' | 'daily', query: UsageQuery): string {
  const routeWhere = whereClause(query, query.filters, USAGE_ROUTE_COLUMNS);
  if (query.filters.route !== undefined) return `(${routeSide(bucket, routeWhere, false)})`;
  const everyRow =
    query.filters.operation !== undefined
      ? `SELECT ${ROLLUP_KEYS}, operation, '' AS route, n_requests, n_cache_hits, n_in, n_out,
           n_cached_in, n_cache_write_in, n_cost, n_weighted
         FROM ${operationRows(bucket, whereClause(query, query.filters, OPERATION_COLUMNS), true)}`
      : usageAsRouteless(bucket, whereClause(query, query.filters, SERVED_COLUMNS));
  return `(${routeSide(bucket, routeWhere, false)}
    UNION ALL
    ${everyRow}
    UNION ALL
    ${routeSide(bucket, routeWhere, true)})`;
}

/** The usage and cache-write rollups as rows of route '' and operation ''. */
function usageAsRouteless(bucket: 'hourly' | 'daily', where: string): string {
  const zero = 'toInt64(0)';
  return `SELECT ${ROLLUP_KEYS}, '' AS operation, '' AS route, toInt64(requests) AS n_requests,
      toInt64(cache_hits) AS n_cache_hits, toInt64(tokens_in) AS n_in,
      toInt64(tokens_out) AS n_out, toInt64(tokens_cached_in) AS n_cached_in,
      ${zero} AS n_cache_write_in, cost AS n_cost, weighted_cost AS n_weighted
    FROM usage_${bucket} ${where}
    UNION ALL
    SELECT ${ROLLUP_KEYS}, '' AS operation, '' AS route, ${zero}, ${zero}, ${zero}, ${zero},
      ${zero}, toInt64(tokens_cache_write_in), toFloat64(0), toFloat64(0)
    FROM cache_writes_${bucket} ${where}`;
}

/** Whether a query needs the rollups by route. */
const byRoute = (groupBy: string, filters: { route?: string }): boolean =>
  groupBy === 'route' || filters.route !== undefined;

/** A usage rollup's totals; `webSearches` from the web-search rollups (migration 012). */
function totalsOf(row: TotalsRow, webSearches = 0): UsageTotals {
  return {
    requests: Number(row.s_requests),
    cacheHits: Number(row.s_cache_hits),
    inputTokens: Number(row.s_tokens_in),
    outputTokens: Number(row.s_tokens_out),
    cachedInputTokens: Number(row.s_tokens_cached_in),
    cacheWriteInputTokens: Number(row.s_tokens_cache_write_in),
    webSearchRequests: webSearches,
    costDollars: Number(row.s_cost),
    weightedTokens: Number(row.s_weighted),
  };
}

/** Where a group's web searches are found: its bucket's start and its key. */
const searchKey = (t: Num, key: string): string => `${Number(t)}\n${key}`;

/**
 * The web searches of the usage groups of `query` (by bucket and key), from the rollups of
 * migration 012. They have every key a usage query groups or filters by, with the route and
 * operation as the event named them ('' for none), so one query serves every grouping: a
 * group's searches are those of its rows, as in the usage rollups' groups they are added to.
 */
async function webSearchesByGroup(
  rows: <T>(query: string) => Promise<T[]>,
  query: UsageQuery,
): Promise<Map<string, number>> {
  const bucket = query.bucket === 'hour' ? 'hourly' : 'daily';
  const found = await rows<{ t: Num; key: string; n: Num }>(
    `SELECT toUnixTimestamp(bucket) AS t,
       ${keyExpression(query.groupBy, USAGE_ROUTE_COLUMNS)} AS key, sum(web_searches) AS n
     FROM web_searches_${bucket} ${whereClause(query, query.filters, USAGE_ROUTE_COLUMNS)}
     GROUP BY t, key`,
  );
  return new Map(found.map((row) => [searchKey(row.t, row.key), Number(row.n)]));
}

/** How spenders are listed: the most spent first, or by user id (the order pages take). */
const SPENDER_ORDER: Readonly<Record<TopSpendersQuery['orderBy'], string>> = {
  cost: 's_cost DESC, user_id',
  tokens: '(s_tokens_in + s_tokens_out) DESC, user_id',
  user: 'user_id',
};

/**
 * Longest an analytics query may run on ClickHouse, in seconds: a little under the client's
 * request timeout. ClickHouse does not cancel a query whose HTTP client gave up, so without
 * it an abandoned heavy query would go on using the server; past it ClickHouse refuses the
 * query (TIMEOUT_EXCEEDED), answered as the API's 503 and counted as a failed query.
 */
const ANALYTICS_QUERY_SECONDS = Math.floor(CLICKHOUSE_REQUEST_TIMEOUT_MS / 1000) - 5;

/** Quantiles of an empty group come back as NaN (null in JSON): report 0. */
const finite = (value: Num | null | undefined): number => {
  const n = Number(value ?? 0);
  return Number.isFinite(n) ? n : 0;
};

/** Answers from the rollup tables of migrations 003, 005, 006, 011 and 012; no query reads a raw table. */
export class ClickHouseUsageAnalytics implements UsageAnalytics {
  private readonly maxSeriesPoints: number;

  constructor(
    private readonly client: ClickHouseClient,
    options: { readonly maxSeriesPoints?: number } = {},
  ) {
    this.maxSeriesPoints = limitOf(options.maxSeriesPoints ?? MAX_SERIES_POINTS);
  }

  async usage(query: UsageQuery): Promise<UsageReport> {
    if (byRoute(query.groupBy, query.filters)) return this.usageByRoute(query);
    if (byOperation(query.groupBy, query.filters)) return this.usageByOperation(query);
    const where = whereClause(query, query.filters, SERVED_COLUMNS);
    const rows = await this.rows<TotalsRow & { t: Num; key: string }>(
      `SELECT toUnixTimestamp(bucket) AS t, ${keyExpression(query.groupBy, SERVED_COLUMNS)} AS key,
         ${TOTALS_COLUMNS}
       FROM ${usageRows(query.bucket === 'hour' ? 'hourly' : 'daily', where)}
       GROUP BY t, key ORDER BY t, key LIMIT ${this.maxSeriesPoints + 1}`,
    );
    if (rows.length > this.maxSeriesPoints) throw seriesTooLarge(this.maxSeriesPoints);
    return this.report(rows, query);
  }

  private async usageByOperation(query: UsageQuery): Promise<UsageReport> {
    const where = whereClause(query, query.filters, OPERATION_COLUMNS);
    const filtered = query.filters.operation !== undefined;
    const rows = await this.rows<TotalsRow & { t: Num; key: string }>(
      `SELECT toUnixTimestamp(bucket) AS t,
         ${keyExpression(query.groupBy, OPERATION_COLUMNS)} AS key, ${OPERATION_TOTALS}
       FROM ${operationRows(query.bucket === 'hour' ? 'hourly' : 'daily', where, filtered)}
       GROUP BY t, key HAVING s_requests != 0 ORDER BY t, key LIMIT ${this.maxSeriesPoints + 1}`,
    );
    if (rows.length > this.maxSeriesPoints) throw seriesTooLarge(this.maxSeriesPoints);
    return this.report(rows, query);
  }

  private async usageByRoute(query: UsageQuery): Promise<UsageReport> {
    const rows = await this.rows<TotalsRow & { t: Num; key: string }>(
      `SELECT toUnixTimestamp(bucket) AS t,
         ${keyExpression(query.groupBy, USAGE_ROUTE_COLUMNS)} AS key, ${OPERATION_TOTALS}
       FROM ${routeRows(query.bucket === 'hour' ? 'hourly' : 'daily', query)}
       GROUP BY t, key HAVING s_requests != 0 ORDER BY t, key LIMIT ${this.maxSeriesPoints + 1}`,
    );
    if (rows.length > this.maxSeriesPoints) throw seriesTooLarge(this.maxSeriesPoints);
    return this.report(rows, query);
  }

  /** The usage groups' series and totals, each group with its web searches. */
  private async report(
    rows: readonly (TotalsRow & { t: Num; key: string })[],
    query: UsageQuery,
  ): Promise<UsageReport> {
    const searches = await webSearchesByGroup((sql) => this.rows(sql), query);
    const series: UsagePoint[] = rows.map((row) => ({
      bucket: isoSeconds(Number(row.t)),
      key: row.key,
      ...totalsOf(row, searches.get(searchKey(row.t, row.key)) ?? 0),
    }));
    return answerReport({ series, totals: series.reduce<UsageTotals>(addTotals, EMPTY_TOTALS) });
  }

  async topSpenders(query: TopSpendersQuery): Promise<readonly SpenderRow[]> {
    // A page of users in id order starts after its cursor's: a condition on the rollups'
    // user key, before they are summed.
    const where = (columns: ColumnMap) =>
      query.afterUser === undefined
        ? whereClause(query, query.filters, columns)
        : `${whereClause(query, query.filters, columns)} AND user_id > ${sqlString(query.afterUser)}`;
    // One route's spend comes from the rollups by route alone, one operation's from the
    // rollups by operation alone.
    const from =
      query.filters.route !== undefined
        ? `${OPERATION_TOTALS} FROM (${routeSide('hourly', where(USAGE_ROUTE_COLUMNS), false)})`
        : query.filters.operation === undefined
          ? `${TOTALS_COLUMNS} FROM ${usageRows('hourly', where(SERVED_COLUMNS))}`
          : `${OPERATION_TOTALS} FROM ${operationRows('hourly', where(OPERATION_COLUMNS), true)}`;
    const rows = await this.rows<TotalsRow & { user_id: string }>(
      `SELECT user_id, ${from}
       GROUP BY user_id ORDER BY ${SPENDER_ORDER[query.orderBy]} LIMIT ${limitOf(query.limit)}`,
    );
    const searches = await this.webSearchesOf(
      query,
      rows.map((row) => row.user_id),
    );
    return rows.map((row) =>
      answerTotals({ user: row.user_id, ...totalsOf(row, searches.get(row.user_id) ?? 0) }),
    );
  }

  /**
   * The web searches of a page's users over the page's range and filters (rollups of
   * migration 012). Only those users: reading every user after the cursor would make
   * paging through N users cost about N² rows read.
   */
  private async webSearchesOf(
    query: TopSpendersQuery,
    users: readonly string[],
  ): Promise<Map<string, number>> {
    if (users.length === 0) return new Map();
    const searched = await this.rows<{ user_id: string; n: Num }>(
      `SELECT user_id, sum(web_searches) AS n
       FROM web_searches_hourly ${whereClause(query, query.filters, USAGE_ROUTE_COLUMNS)}
         AND user_id IN (${users.map(sqlString).join(', ')})
       GROUP BY user_id`,
    );
    return new Map(searched.map((row) => [row.user_id, Number(row.n)]));
  }

  async rates(query: RatesQuery): Promise<RatesReport> {
    // One route's requests come from the rollup by route (migration 011), which holds
    // every request naming one; a route filter is never ''.
    const requestsFrom =
      query.filters.route === undefined
        ? `requests_hourly ${whereClause(query, query.filters, SERVED_COLUMNS)}`
        : `requests_routes_hourly ${whereClause(query, query.filters, REQUEST_ROUTE_COLUMNS)}`;
    const [requests] = await this.rows<{ n: Num; fb: Num; cached: Num; failed: Num }>(
      `SELECT sum(requests) AS n, sum(fallback_requests) AS fb, sum(cached_requests) AS cached,
         sum(failed_requests) AS failed
       FROM ${requestsFrom}`,
    );
    const [rejected] = await this.rows<{ n: Num }>(
      `SELECT sum(rejections) AS n
       FROM rejections_hourly ${whereClause(query, query.filters, REJECTION_COLUMNS)}`,
    );
    const total = Number(requests?.n ?? 0);
    const fallbackRequests = Number(requests?.fb ?? 0);
    const cachedRequests = Number(requests?.cached ?? 0);
    const failedRequests = Number(requests?.failed ?? 0);
    return {
      requests: total,
      fallbackRequests,
      fallbackRate: ratio(fallbackRequests, total),
      cachedRequests,
      cacheHitRate: ratio(cachedRequests, total),
      failedRequests,
      errorRate: ratio(failedRequests, total),
      rejections: Number(rejected?.n ?? 0),
    };
  }

  async latency(query: LatencyQuery): Promise<readonly LatencyRow[]> {
    // Quantile states cannot be taken apart: by route, the rollup of migration 011 alone,
    // which holds every request (route '' too) stored since.
    const [table, columns] = byRoute(query.groupBy, query.filters)
      ? ['latency_routes_hourly', REQUEST_ROUTE_COLUMNS]
      : ['latency_hourly', SERVED_COLUMNS];
    const rows = await this.rows<{ key: string; n: Num; mean: Num; q: (Num | null)[] }>(
      `SELECT ${keyExpression(query.groupBy, columns)} AS key, countMerge(requests) AS n,
         avgMerge(latency_avg) AS mean,
         quantilesMerge(0.5, 0.9, 0.95, 0.99)(latency_q) AS q
       FROM ${table} ${whereClause(query, query.filters, columns)}
       GROUP BY key ORDER BY key`,
    );
    return rows
      .filter((row) => Number(row.n) > 0)
      .map((row) =>
        answerLatency({
          key: row.key,
          requests: Number(row.n),
          meanMs: finite(row.mean),
          p50Ms: finite(row.q[0]),
          p90Ms: finite(row.q[1]),
          p95Ms: finite(row.q[2]),
          p99Ms: finite(row.q[3]),
        }),
      );
  }

  async fallbacks(query: FallbacksQuery): Promise<readonly FallbackRow[]> {
    const rows = await this.rows<{
      from_provider: string;
      from_model: string;
      to_provider: string;
      to_model: string;
      reason: string;
      n: Num;
    }>(
      `SELECT from_provider, from_model, to_provider, to_model, reason, sum(fallbacks) AS n
       FROM fallbacks_hourly ${whereClause(query, query.filters, FALLBACK_COLUMNS)}
       GROUP BY from_provider, from_model, to_provider, to_model, reason
       ORDER BY n DESC, from_provider, from_model, to_provider, to_model, reason`,
    );
    return rows.map((row) => ({
      fromProvider: row.from_provider,
      fromModel: row.from_model,
      toProvider: row.to_provider,
      toModel: row.to_model,
      reason: row.reason,
      count: Number(row.n),
    }));
  }

  /** From migration 013's table: the newest state by time, then event id. */
  async budgets(query: BudgetsQuery): Promise<readonly BudgetStateRow[]> {
    const rows = await this.rows<{
      budget_key: string;
      limit_kind: string;
      b_state: string;
      b_remaining: Num;
      b_limit: Num;
      b_unit: string;
      b_window: string;
      b_reset: Num;
      b_at: Num;
    }>(
      `SELECT budget_key, limit_kind, tupleElement(b, 1) AS b_window, tupleElement(b, 2) AS b_state,
         tupleElement(b, 3) AS b_remaining, tupleElement(b, 4) AS b_limit,
         tupleElement(b, 5) AS b_unit, toUnixTimestamp(tupleElement(b, 6)) AS b_reset,
         tupleElement(b, 7) AS b_at
       FROM (
         SELECT budget_key, limit_kind, argMaxMerge(newest) AS b
         FROM budget_state_newest ${budgetLimitsWhere(query)}
         GROUP BY budget_key, limit_kind
       )
       ${newestStateWhere(query)}
       ORDER BY budget_key, limit_kind
       LIMIT ${limitOf(query.limit)}`,
    );
    return rows.map((row) => ({
      budgetKey: row.budget_key,
      limitKind: row.limit_kind,
      state: row.b_state,
      remaining: Number(row.b_remaining),
      limit: Number(row.b_limit),
      unit: row.b_unit,
      windowId: row.b_window,
      resetAt: isoSeconds(Number(row.b_reset)),
      at: new Date(Number(row.b_at)).toISOString(),
    }));
  }

  /** From the raw table (migrations 007, 008): adjustments are few, and read with FINAL. */
  async payload(requestId: string): Promise<PayloadRecord | undefined> {
    const [row] = await this.rows<StoredPayload>(
      `SELECT ${PAYLOAD_SUMMARY_SQL}, ${PAYLOAD_BODIES_SQL} FROM request_payload_events FINAL
       WHERE request_id = ${sqlString(requestId)} ORDER BY occurred_ms DESC LIMIT 1`,
    );
    return row && payloadRecord(row);
  }

  async payloads(query: PayloadsQuery): Promise<readonly PayloadSummary[]> {
    const rows = await this.rows<StoredPayloadSummary>(
      `SELECT ${PAYLOAD_SUMMARY_SQL} FROM request_payload_events FINAL
       WHERE user_id = ${sqlString(query.user)}
       ORDER BY occurred_ms DESC, event_id DESC LIMIT ${limitOf(query.limit)}`,
    );
    return rows.map(payloadSummary);
  }

  async budgetAdjustments(query: BudgetAdjustmentsQuery): Promise<readonly BudgetAdjustmentRow[]> {
    const fromMs = wholeNumber(query.from.getTime());
    const toMs = wholeNumber(query.to.getTime());
    // The seconds bound the partitions and granules read; the milliseconds make it exact.
    const conditions = [
      `occurred_at >= toDateTime(${Math.floor(fromMs / 1000)})`,
      `occurred_at <= toDateTime(${Math.floor(toMs / 1000)})`,
      `occurred_ms >= ${fromMs}`,
      `occurred_ms < ${toMs}`,
    ];
    if (query.filters.user !== undefined) {
      conditions.push(`user_key = ${sqlString(query.filters.user)}`);
    }
    const rows = await this.rows<{
      at_ms: Num;
      event_id: string;
      user_key: string;
      action: string;
      limit_kind: string;
      amount: Num;
      reason: string;
      operator: string;
    }>(
      // A retried request with an Idempotency-Key is one event id published twice (the
      // budget service applied it once): listed once, at its first time in the range.
      `SELECT at_ms, event_id, user_key, action, limit_kind, amount, reason, operator
       FROM (
         SELECT occurred_ms AS at_ms, event_id, user_key, action, limit_kind, amount, reason,
           operator
         FROM budget_adjustment_events FINAL WHERE ${conditions.join(' AND ')}
         ORDER BY occurred_ms ASC LIMIT 1 BY event_id
       )
       ORDER BY at_ms DESC, event_id DESC LIMIT ${limitOf(query.limit)}`,
    );
    return rows.map((row) =>
      adjustmentRow({
        atMs: Number(row.at_ms),
        eventId: row.event_id,
        user: row.user_key,
        action: row.action,
        limitKind: row.limit_kind,
        amount: Number(row.amount),
        reason: row.reason,
        operator: row.operator,
      }),
    );
  }

  private async rows<T>(query: string): Promise<T[]> {
    const result = await this.client.query({
      query,
      format: 'JSONEachRow',
      clickhouse_settings: { max_execution_time: ANALYTICS_QUERY_SECONDS },
    });
    return result.json<T>();
  }
}

/**
 * The limits a budgets query reads (the table's sort key, so a page seeks to its cursor):
 * those after the cursor, in budget key then limit kind order, and of the key and kind
 * filters.
 */
function budgetLimitsWhere(query: BudgetsQuery): string {
  const conditions: string[] = [];
  if (query.after) {
    const key = sqlString(query.after.budgetKey);
    conditions.push(
      `(budget_key > ${key} OR (budget_key = ${key} AND limit_kind > ${sqlString(query.after.limitKind)}))`,
    );
  }
  const { budgetKey, limitKind } = query.filters ?? {};
  if (budgetKey !== undefined) conditions.push(`budget_key = ${sqlString(budgetKey)}`);
  if (limitKind !== undefined) conditions.push(`limit_kind = ${sqlString(limitKind)}`);
  return conditions.length === 0 ? '' : `WHERE ${conditions.join(' AND ')}`;
}

/** The state filter, on the newest state once it is found. */
function newestStateWhere(query: BudgetsQuery): string {
  const state = query.filters?.state;
  return state === undefined ? '' : `WHERE tupleElement(b, 2) = ${sqlString(state)}`;
}

function wholeNumber(value: number): number {
  if (!Number.isSafeInteger(value) || value < 0) throw new Error(`not a whole time: ${value}`);
  return value;
}

function limitOf(limit: number): number {
  if (!Number.isInteger(limit) || limit < 1) throw new Error(`bad limit ${limit}`);
  return limit;
}
