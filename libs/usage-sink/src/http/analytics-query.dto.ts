import {
  IsIn,
  IsISO8601,
  IsOptional,
  IsString,
  Matches,
  MaxLength,
  MinLength,
} from 'class-validator';
import { BudgetState, STRICT_VALIDATION, validatePlain } from '@aigw/contracts';
import type { ClassConstructor } from 'class-transformer';
import {
  BUCKETS,
  DIMENSIONS,
  USAGE_DIMENSIONS,
  type Bucket,
  type BudgetAdjustmentsQuery,
  type BudgetsQuery,
  type Dimension,
  type FallbacksQuery,
  type LatencyQuery,
  type PayloadsQuery,
  type RatesQuery,
  type SpendOrder,
  type TimeRange,
  type TopSpendersQuery,
  type UsageDimension,
  type UsageFilters,
  type UsageQuery,
} from '../domain/analytics.types';
import { AnalyticsQueryError } from '../domain/analytics-query-error';
import { limitAfterCursor, userAfterCursor } from './keyset-cursor';

// Query strings of the analytics API. Every field arrives as a string (a repeated one as
// an array, which fails IsString); unknown parameters are refused, not ignored.

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;
/** Widest range per bucket size: bounds the rows one request can make a store read. */
export const MAX_RANGE_MS: Readonly<Record<Bucket, number>> = {
  hour: 31 * DAY_MS,
  day: 366 * DAY_MS,
};
/** Ranges of the per-hour rollups (rates, latency, spenders, fallbacks). */
const MAX_SUMMARY_RANGE_MS = 366 * DAY_MS;
/** The latest from or to: ClickHouse's DateTime ends at 2106-02-07T06:28:15Z. */
const LATEST_TIME_MS = Date.UTC(2106, 0, 1);
const DEFAULT_RANGE_MS: Readonly<Record<Bucket, number>> = { hour: DAY_MS, day: 30 * DAY_MS };

const ISO = { strict: true, strictSeparator: true } as const;
const TIME_MESSAGE = 'must be an ISO 8601 time, e.g. 2026-03-01T00:00:00Z';
// Names of users, models, providers, tiers and routes: printable, as the events allow them.
const PRINTABLE = /^[^\u0000-\u001f\u007f]+$/;
const FILTER_MESSAGE = '$property must be 1 to 256 printable characters';

function FilterValue(): PropertyDecorator {
  return (target, key) => {
    IsOptional()(target, key);
    IsString()(target, key);
    MinLength(1, { message: FILTER_MESSAGE })(target, key);
    MaxLength(256, { message: FILTER_MESSAGE })(target, key);
    Matches(PRINTABLE, { message: FILTER_MESSAGE })(target, key);
  };
}

class RangeDto {
  @IsOptional()
  @IsISO8601(ISO, { message: `$property ${TIME_MESSAGE}` })
  from?: string;

  @IsOptional()
  @IsISO8601(ISO, { message: `$property ${TIME_MESSAGE}` })
  to?: string;
}

class FilteredRangeDto extends RangeDto {
  @FilterValue()
  user?: string;

  @FilterValue()
  model?: string;

  @FilterValue()
  provider?: string;

  @FilterValue()
  tier?: string;

  /** The route of the backend that served. */
  @FilterValue()
  route?: string;
}

/** Usage and spend: the filters of every table, and the operation usage events name. */
class UsageFilteredRangeDto extends FilteredRangeDto {
  @FilterValue()
  operation?: string;
}

export class UsageQueryDto extends UsageFilteredRangeDto {
  @IsOptional()
  @IsIn(BUCKETS)
  bucket?: Bucket;

  @IsOptional()
  @IsIn(USAGE_DIMENSIONS)
  groupBy?: UsageDimension;
}

export class TopSpendersQueryDto extends UsageFilteredRangeDto {
  @IsOptional()
  @Matches(/^(100|[1-9][0-9]?)$/, { message: 'limit must be a whole number from 1 to 100' })
  limit?: string;

  @IsOptional()
  @IsIn(['cost', 'tokens', 'user'])
  orderBy?: SpendOrder;

  /** The previous page's nextCursor, with orderBy=user (checked after: keyset-cursor). */
  @IsOptional()
  @IsString()
  cursor?: string;
}

export class RatesQueryDto extends FilteredRangeDto {}

export class LatencyQueryDto extends FilteredRangeDto {
  @IsOptional()
  @IsIn(DIMENSIONS)
  groupBy?: Dimension;
}

export class FallbacksQueryDto extends RangeDto {
  @FilterValue()
  user?: string;

  /** The model the client asked for. */
  @FilterValue()
  model?: string;
}

export class BudgetAdjustmentsQueryDto extends RangeDto {
  /** The user key adjusted. */
  @FilterValue()
  user?: string;

  @IsOptional()
  @Matches(/^(1000|[1-9][0-9]{0,2})$/, { message: 'limit must be a whole number from 1 to 1000' })
  limit?: string;
}

/** The budgets panel: one row per limit of each budget key, so bounded (10 000 at most). */
export class BudgetsQueryDto {
  @IsOptional()
  @Matches(/^(10000|[1-9][0-9]{0,3})$/, {
    message: 'limit must be a whole number from 1 to 10000',
  })
  limit?: string;

  /** The previous page's nextCursor (checked after: keyset-cursor). */
  @IsOptional()
  @IsString()
  cursor?: string;

  @FilterValue()
  budgetKey?: string;

  @FilterValue()
  limitKind?: string;

  @IsOptional()
  @IsIn(Object.values(BudgetState))
  state?: string;
}

export class PayloadsQueryDto {
  /** The user key whose logged requests are listed (required: checked after). */
  @FilterValue()
  user?: string;

  @IsOptional()
  @Matches(/^(1000|[1-9][0-9]{0,2})$/, { message: 'limit must be a whole number from 1 to 1000' })
  limit?: string;
}

/** A request id as the gateway makes them or a client sends them (x-request-id). */
const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

function validated<T extends object>(cls: ClassConstructor<T>, query: unknown): T {
  // Fastify hands over an object without a prototype; validate a plain copy.
  const plain = typeof query === 'object' && query !== null ? { ...query } : {};
  const result = validatePlain(cls, plain, STRICT_VALIDATION);
  if (!result.ok) throw new AnalyticsQueryError(result.error);
  return result.value;
}

/** A date and time with no offset after it (no Z, no +hh:mm or -hh:mm). */
const NO_OFFSET = /[Tt][^Zz+-]*$/;

/**
 * A time the validator passed. Times are UTC: a date-time without an offset is read as
 * UTC, where Date would read it in the server's time zone. ISO 8601 also has forms no
 * Date reads (week and ordinal dates, the basic format): refused here, not handed on as
 * an invalid time.
 */
function timeOf(value: string, path: 'from' | 'to'): Date {
  const time = new Date(NO_OFFSET.test(value) ? `${value}Z` : value);
  if (Number.isNaN(time.getTime())) {
    throw new AnalyticsQueryError([{ path, message: `${path} ${TIME_MESSAGE}` }]);
  }
  return time;
}

function rangeOf(dto: RangeDto, now: Date, defaultMs: number, maxMs: number): TimeRange {
  const to = dto.to === undefined ? now : timeOf(dto.to, 'to');
  const from =
    dto.from === undefined ? new Date(to.getTime() - defaultMs) : timeOf(dto.from, 'from');
  // ClickHouse's DateTime holds 1970 to 2106-02-07 and wraps a time outside (1969 reads
  // as 2106): the SQLite store would answer such a range, ClickHouse another one.
  for (const [path, time] of [
    ['from', from],
    ['to', to],
  ] as const) {
    if (time.getTime() < 0 || time.getTime() > LATEST_TIME_MS) {
      throw new AnalyticsQueryError([
        { path, message: `${path} must be between 1970-01-01 and 2106-01-01` },
      ]);
    }
  }
  if (from.getTime() >= to.getTime()) {
    throw new AnalyticsQueryError([{ path: 'from', message: 'from must be earlier than to' }]);
  }
  if (to.getTime() - from.getTime() > maxMs) {
    const days = Math.round(maxMs / DAY_MS);
    throw new AnalyticsQueryError([
      { path: 'from', message: `the range from..to must not exceed ${days} days here` },
    ]);
  }
  return { from, to };
}

function filtersOf(dto: Partial<Record<keyof UsageFilters, string>>): UsageFilters {
  const filters: Record<string, string> = {};
  for (const name of ['user', 'model', 'provider', 'tier', 'route', 'operation'] as const) {
    const value = dto[name];
    if (value !== undefined) filters[name] = value;
  }
  return filters;
}

export function parseUsageQuery(query: unknown, now = new Date()): UsageQuery {
  const dto = validated(UsageQueryDto, query);
  const bucket = dto.bucket ?? 'hour';
  return {
    ...rangeOf(dto, now, DEFAULT_RANGE_MS[bucket], MAX_RANGE_MS[bucket]),
    bucket,
    groupBy: dto.groupBy ?? 'none',
    filters: filtersOf(dto),
  };
}

export function parseTopSpendersQuery(query: unknown, now = new Date()): TopSpendersQuery {
  const dto = validated(TopSpendersQueryDto, query);
  const orderBy = dto.orderBy ?? 'cost';
  // Spend moves while a client pages: a cursor holds its place in user order only.
  if (dto.cursor !== undefined && orderBy !== 'user') {
    throw new AnalyticsQueryError([
      {
        path: 'cursor',
        message: 'cursor pages only orderBy=user (spend changes as usage arrives)',
      },
    ]);
  }
  return {
    ...rangeOf(dto, now, DAY_MS, MAX_SUMMARY_RANGE_MS),
    limit: dto.limit === undefined ? 10 : Number(dto.limit),
    orderBy,
    filters: filtersOf(dto),
    ...(dto.cursor === undefined ? {} : { afterUser: userAfterCursor(dto.cursor) }),
  };
}

export function parseRatesQuery(query: unknown, now = new Date()): RatesQuery {
  const dto = validated(RatesQueryDto, query);
  return { ...rangeOf(dto, now, DAY_MS, MAX_SUMMARY_RANGE_MS), filters: filtersOf(dto) };
}

export function parseLatencyQuery(query: unknown, now = new Date()): LatencyQuery {
  const dto = validated(LatencyQueryDto, query);
  return {
    ...rangeOf(dto, now, DAY_MS, MAX_SUMMARY_RANGE_MS),
    groupBy: dto.groupBy ?? 'none',
    filters: filtersOf(dto),
  };
}

export function parseFallbacksQuery(query: unknown, now = new Date()): FallbacksQuery {
  const dto = validated(FallbacksQueryDto, query);
  return { ...rangeOf(dto, now, DAY_MS, MAX_SUMMARY_RANGE_MS), filters: filtersOf(dto) };
}

/** Operators' adjustments: the last 30 days by default, newest first, 100 at most. */
export function parseBudgetAdjustmentsQuery(
  query: unknown,
  now = new Date(),
): BudgetAdjustmentsQuery {
  const dto = validated(BudgetAdjustmentsQueryDto, query);
  return {
    ...rangeOf(dto, now, DEFAULT_RANGE_MS.day, MAX_SUMMARY_RANGE_MS),
    limit: dto.limit === undefined ? 100 : Number(dto.limit),
    filters: dto.user === undefined ? {} : { user: dto.user },
  };
}

export function parsePayloadsQuery(query: unknown): PayloadsQuery {
  const dto = validated(PayloadsQueryDto, query);
  if (dto.user === undefined) {
    throw new AnalyticsQueryError([{ path: 'user', message: 'user is required' }]);
  }
  return { user: dto.user, limit: dto.limit === undefined ? 50 : Number(dto.limit) };
}

/** The path's request id, refused with a 400 when it could not be one. */
export function parseRequestId(requestId: string): string {
  if (!REQUEST_ID.test(requestId)) {
    throw new AnalyticsQueryError([
      {
        path: 'requestId',
        message: 'requestId must be 1 to 128 letters, digits or . _ : -',
      },
    ]);
  }
  return requestId;
}

/**
 * The budgets panel: 1000 rows by default, in budget key then limit order. A deployment
 * with many users had every limit of every user in one answer (100 000 users: rows past
 * 20 MB, read and sent each time the panel refreshed).
 */
export function parseBudgetsQuery(query: unknown): BudgetsQuery {
  const dto = validated(BudgetsQueryDto, query);
  const filters: Record<string, string> = {};
  for (const name of ['budgetKey', 'limitKind', 'state'] as const) {
    const value = dto[name];
    if (value !== undefined) filters[name] = value;
  }
  return {
    limit: dto.limit === undefined ? 1000 : Number(dto.limit),
    ...(dto.cursor === undefined ? {} : { after: limitAfterCursor(dto.cursor) }),
    filters,
  };
}
