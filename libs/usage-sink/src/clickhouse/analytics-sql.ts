// SQL text for the analytics queries. 18.16 has no server-side parameters, so every
// value reaches the text through `sqlString` (strings) or as a whole number we computed
// (times, limits); column names come only from the fixed maps below, never from input.
import { sqlString } from '@aigw/infra';
import { type TimeRange, type UsageDimension, type UsageFilters } from '../domain/analytics.types';

/** Which column of a rollup a filter or dimension means; absent = does not apply. */
export type ColumnMap = Readonly<Partial<Record<Exclude<UsageDimension, 'none'>, string>>>;

export const SERVED_COLUMNS: ColumnMap = {
  user: 'user_id',
  model: 'model_served',
  provider: 'provider',
  tier: 'tier',
};
/** The usage rollups by operation (migration 006). */
export const OPERATION_COLUMNS: ColumnMap = { ...SERVED_COLUMNS, operation: 'operation' };
/** The usage rollups by route, which name the operation too (migration 011). */
export const USAGE_ROUTE_COLUMNS: ColumnMap = { ...OPERATION_COLUMNS, route: 'route' };
/** The request and latency rollups by route (migration 011). */
export const REQUEST_ROUTE_COLUMNS: ColumnMap = { ...SERVED_COLUMNS, route: 'route' };
export const REJECTION_COLUMNS: ColumnMap = {
  user: 'user_id',
  model: 'model_requested',
  tier: 'tier',
};
export const FALLBACK_COLUMNS: ColumnMap = { user: 'user_id', model: 'model_requested' };

function wholeSeconds(value: number): string {
  if (!Number.isSafeInteger(value)) throw new Error(`not a whole number of seconds: ${value}`);
  return String(value);
}

/** Buckets (rollup column `bucket`) whose start lies in [from, to). */
export function rangeCondition(range: TimeRange): string {
  const from = Math.ceil(range.from.getTime() / 1000);
  const to = Math.ceil(range.to.getTime() / 1000);
  return `bucket >= toDateTime(${wholeSeconds(from)}) AND bucket < toDateTime(${wholeSeconds(to)})`;
}

export function filterConditions(filters: UsageFilters, columns: ColumnMap): string[] {
  const conditions: string[] = [];
  for (const dimension of ['user', 'model', 'provider', 'tier', 'route', 'operation'] as const) {
    const value = filters[dimension];
    const column = columns[dimension];
    if (value === undefined || column === undefined) continue;
    conditions.push(`${column} = ${sqlString(value)}`);
  }
  return conditions;
}

export function whereClause(range: TimeRange, filters: UsageFilters, columns: ColumnMap): string {
  return [
    'WHERE',
    [rangeCondition(range), ...filterConditions(filters, columns)].join(' AND '),
  ].join(' ');
}

/** The group key expression; `'all'` when not grouped. */
export function keyExpression(dimension: UsageDimension, columns: ColumnMap): string {
  if (dimension === 'none') return `'all'`;
  const column = columns[dimension];
  if (column === undefined) throw new Error(`cannot group by ${dimension} here`);
  return column;
}
