import { BudgetAdjustmentAction } from '@aigw/contracts';

// What the analytics API answers, independent of the store behind it (ClickHouse
// rollups, or SQLite tables in the all-in-one gateway). Times are UTC; a range is
// [from, to) over bucket starts: an event counts when the bucket it falls in starts
// at or after `from` and before `to`.

export type Bucket = 'hour' | 'day';
export const BUCKETS: readonly Bucket[] = ['hour', 'day'];
export const BUCKET_SECONDS: Readonly<Record<Bucket, number>> = { hour: 3600, day: 86_400 };

/**
 * What a usage series or a latency table is broken down by. `route` is the route of the
 * backend that served (migration 010); rows stored before it, and events of builds that
 * name none, are the group ''.
 */
export type Dimension = 'none' | 'user' | 'model' | 'provider' | 'tier' | 'route';
export const DIMENSIONS: readonly Dimension[] = [
  'none',
  'user',
  'model',
  'provider',
  'tier',
  'route',
];

/**
 * Usage and cost also break down by the model operation (chat, embeddings,
 * transcriptions, ...), which only usage events name; usage of an older build's event,
 * which names none, is the group ''.
 */
export type UsageDimension = Dimension | 'operation';
export const USAGE_DIMENSIONS: readonly UsageDimension[] = [...DIMENSIONS, 'operation'];

/** Exact-match filters; `model` is the model that served the request. */
export interface AnalyticsFilters {
  readonly user?: string;
  readonly model?: string;
  readonly provider?: string;
  readonly tier?: string;
  readonly route?: string;
}

/** The filters of usage and spend, which can also pick one operation. */
export interface UsageFilters extends AnalyticsFilters {
  readonly operation?: string;
}

export interface TimeRange {
  readonly from: Date;
  readonly to: Date;
}

export interface UsageQuery extends TimeRange {
  readonly bucket: Bucket;
  readonly groupBy: UsageDimension;
  readonly filters: UsageFilters;
}

export interface UsageTotals {
  readonly requests: number;
  readonly cacheHits: number;
  readonly inputTokens: number;
  readonly outputTokens: number;
  readonly cachedInputTokens: number;
  /** The part of `inputTokens` written to providers' prompt caches. */
  readonly cacheWriteInputTokens: number;
  /** Web searches models ran as a server tool (Anthropic's), billed in `costDollars`. */
  readonly webSearchRequests: number;
  readonly costDollars: number;
  /** Tokens after `llmRequestCosts` weights and `modelCosts`: what token budgets count. */
  readonly weightedTokens: number;
}

export interface UsagePoint extends UsageTotals {
  /** Start of the bucket, ISO 8601 UTC. */
  readonly bucket: string;
  /** The group's value (user, model, ...); `all` when not grouped; '' for none recorded. */
  readonly key: string;
}

export interface UsageReport {
  readonly series: readonly UsagePoint[];
  readonly totals: UsageTotals;
}

/** Most spent first (cost, tokens), or by user id: the order every user can be paged in. */
export type SpendOrder = 'cost' | 'tokens' | 'user';

export interface TopSpendersQuery extends TimeRange {
  readonly limit: number;
  readonly orderBy: SpendOrder;
  readonly filters: UsageFilters;
  /** With `orderBy` user: only the users after this one (the page after a cursor's). */
  readonly afterUser?: string;
}

export interface SpenderRow extends UsageTotals {
  readonly user: string;
}

export interface RatesQuery extends TimeRange {
  readonly filters: AnalyticsFilters;
}

export interface RatesReport {
  /** Completed requests (every outcome). */
  readonly requests: number;
  /** Requests that moved to another backend at least once. */
  readonly fallbackRequests: number;
  readonly fallbackRate: number;
  /** Requests answered from the gateway's response cache. */
  readonly cachedRequests: number;
  readonly cacheHitRate: number;
  readonly failedRequests: number;
  readonly errorRate: number;
  /** Requests refused by ingress; the provider and route filters do not apply (none was called). */
  readonly rejections: number;
}

export interface LatencyQuery extends TimeRange {
  readonly groupBy: Dimension;
  readonly filters: AnalyticsFilters;
}

export interface LatencyRow {
  readonly key: string;
  readonly requests: number;
  readonly meanMs: number;
  readonly p50Ms: number;
  readonly p90Ms: number;
  readonly p95Ms: number;
  readonly p99Ms: number;
}

export const LATENCY_LEVELS = [0.5, 0.9, 0.95, 0.99] as const;

export interface FallbacksQuery extends TimeRange {
  /** `model` here is the model the client asked for; provider and tier do not apply. */
  readonly filters: Pick<AnalyticsFilters, 'user' | 'model'>;
}

export interface FallbackRow {
  readonly fromProvider: string;
  readonly fromModel: string;
  readonly toProvider: string;
  readonly toModel: string;
  readonly reason: string;
  readonly count: number;
}

export interface BudgetStateRow {
  readonly budgetKey: string;
  readonly limitKind: string;
  readonly state: string;
  readonly remaining: number;
  readonly limit: number;
  readonly unit: string;
  readonly windowId: string;
  readonly resetAt: string;
  /** When the budget service reported this state. */
  readonly at: string;
}

/** A limit of a budget key: the budgets list's sort key, where one page ends. */
export interface BudgetLimitKey {
  readonly budgetKey: string;
  readonly limitKind: string;
}

/** Exact-match filters of the budgets list; `state` is the newest state's. */
export interface BudgetsFilters {
  readonly budgetKey?: string;
  readonly limitKind?: string;
  readonly state?: string;
}

export interface BudgetsQuery {
  /** Most rows answered, in budget key then limit order. */
  readonly limit: number;
  /** Only the limits after this one in that order: the page after a cursor's. */
  readonly after?: BudgetLimitKey;
  readonly filters?: BudgetsFilters;
}

export interface BudgetAdjustmentsQuery extends TimeRange {
  /** Most rows answered, newest first. */
  readonly limit: number;
  /** `user`: the user key the adjustment was made to. */
  readonly filters: Pick<AnalyticsFilters, 'user'>;
}

/** An operator's reset or credit of a user's budget (a `budget.adjusted` event). */
export interface BudgetAdjustmentRow {
  /** When the operator made it, ISO 8601 UTC with milliseconds. */
  readonly at: string;
  readonly eventId: string;
  readonly user: string;
  readonly action: string;
  /** The limit adjusted, or `all` (a reset of every limit of the user). */
  readonly limitKind: string;
  /** A credit's amount in the limit's own unit; null for a reset. */
  readonly amount: number | null;
  /** Why, in the operator's words; null when none was given. */
  readonly reason: string | null;
  /** Who made it, as the operator named themselves; null when unnamed (or made before 008). */
  readonly operator: string | null;
}

/** The analytics API's one port; the ClickHouse and the embedded stores implement it. */
export interface UsageAnalytics {
  usage(query: UsageQuery): Promise<UsageReport>;
  topSpenders(query: TopSpendersQuery): Promise<readonly SpenderRow[]>;
  rates(query: RatesQuery): Promise<RatesReport>;
  latency(query: LatencyQuery): Promise<readonly LatencyRow[]>;
  fallbacks(query: FallbacksQuery): Promise<readonly FallbackRow[]>;
  /** The latest reported state of every limit that has had one. */
  budgets(query: BudgetsQuery): Promise<readonly BudgetStateRow[]>;
  /** Operators' resets and credits whose time is in [from, to), newest first. */
  budgetAdjustments(query: BudgetAdjustmentsQuery): Promise<readonly BudgetAdjustmentRow[]>;
  /** The logged request and answer of one request (payloadLogging); undefined when none. */
  payload(requestId: string): Promise<PayloadRecord | undefined>;
  /** A user's logged requests, newest first, without their bodies. */
  payloads(query: PayloadsQuery): Promise<readonly PayloadSummary[]>;
}

export interface PayloadsQuery {
  readonly user: string;
  /** Most rows answered, newest first. */
  readonly limit: number;
}

/** A logged request without its bodies, as listed. */
export interface PayloadSummary {
  readonly requestId: string;
  /** When the request reached the gateway, and when it ended (ISO 8601 UTC, milliseconds). */
  readonly startedAt: string;
  readonly finishedAt: string;
  readonly user: string;
  readonly endpoint: string;
  readonly modelRequested: string;
  /** null when no backend answered (a failure before one did, or a cache hit's backend). */
  readonly modelServed: string | null;
  readonly provider: string | null;
  readonly backend: string | null;
  readonly stream: boolean;
  readonly status: number;
  readonly errorCode: string | null;
  readonly latencyMs: number;
}

/** One logged body: its (maybe cut) text, whether it was cut, and its whole size. */
export interface PayloadBody {
  readonly body: string;
  readonly truncated: boolean;
  readonly bytes: number;
}

export interface PayloadRecord extends PayloadSummary {
  readonly request: PayloadBody;
  /** A JSON answer's body, or a stream's assembled answer; body '' when there was none. */
  readonly response: PayloadBody;
}

/** How both stores select a payload row, in the API's names. */
export const PAYLOAD_SUMMARY_SQL = `request_id AS requestId, started_ms AS startedMs,
  occurred_ms AS finishedMs, user_id AS user, endpoint, model_requested AS modelRequested,
  model_served AS modelServed, provider, backend, stream, http_status AS status,
  error_code AS errorCode, latency_ms AS latencyMs`;

export const PAYLOAD_BODIES_SQL = `request_body AS requestBody,
  request_truncated AS requestTruncated, request_bytes AS requestBytes,
  response_body AS responseBody, response_truncated AS responseTruncated,
  response_bytes AS responseBytes`;

export interface StoredPayloadSummary {
  requestId: string;
  startedMs: number | string;
  finishedMs: number | string;
  user: string;
  endpoint: string;
  modelRequested: string;
  modelServed: string;
  provider: string;
  backend: string;
  stream: number | string;
  status: number | string;
  errorCode: string;
  latencyMs: number | string;
}

export interface StoredPayload extends StoredPayloadSummary {
  requestBody: string;
  requestTruncated: number | string;
  requestBytes: number | string;
  responseBody: string;
  responseTruncated: number | string;
  responseBytes: number | string;
}

const orNull = (value: string): string | null => (value === '' ? null : value);

/** The API's row of a stored payload ('' reads back as null; ClickHouse's numbers as text). */
export function payloadSummary(stored: StoredPayloadSummary): PayloadSummary {
  return {
    requestId: stored.requestId,
    startedAt: new Date(Number(stored.startedMs)).toISOString(),
    finishedAt: new Date(Number(stored.finishedMs)).toISOString(),
    user: stored.user,
    endpoint: stored.endpoint,
    modelRequested: stored.modelRequested,
    modelServed: orNull(stored.modelServed),
    provider: orNull(stored.provider),
    backend: orNull(stored.backend),
    stream: Number(stored.stream) === 1,
    status: Number(stored.status),
    errorCode: orNull(stored.errorCode),
    latencyMs: Number(stored.latencyMs),
  };
}

export function payloadRecord(stored: StoredPayload): PayloadRecord {
  return {
    ...payloadSummary(stored),
    request: {
      body: stored.requestBody,
      truncated: Number(stored.requestTruncated) === 1,
      bytes: Number(stored.requestBytes),
    },
    response: {
      body: stored.responseBody,
      truncated: Number(stored.responseTruncated) === 1,
      bytes: Number(stored.responseBytes),
    },
  };
}

/** `limit_kind` '' is every limit of the user. */
export const ALL_LIMITS = 'all';

/** The API's row of a stored adjustment: '' and a reset's 0 read back as absent. */
export function adjustmentRow(stored: {
  atMs: number;
  eventId: string;
  user: string;
  action: string;
  limitKind: string;
  amount: number;
  reason: string;
  operator: string;
}): BudgetAdjustmentRow {
  return {
    at: new Date(stored.atMs).toISOString(),
    eventId: stored.eventId,
    user: stored.user,
    action: stored.action,
    limitKind: stored.limitKind === '' ? ALL_LIMITS : stored.limitKind,
    amount: stored.action === (BudgetAdjustmentAction.Reset as string) ? null : stored.amount,
    reason: stored.reason === '' ? null : stored.reason,
    operator: stored.operator === '' ? null : stored.operator,
  };
}

export const USAGE_ANALYTICS = Symbol('USAGE_ANALYTICS');

export const EMPTY_TOTALS: UsageTotals = {
  requests: 0,
  cacheHits: 0,
  inputTokens: 0,
  outputTokens: 0,
  cachedInputTokens: 0,
  cacheWriteInputTokens: 0,
  webSearchRequests: 0,
  costDollars: 0,
  weightedTokens: 0,
};

export function addTotals(a: UsageTotals, b: UsageTotals): UsageTotals {
  return {
    requests: a.requests + b.requests,
    cacheHits: a.cacheHits + b.cacheHits,
    inputTokens: a.inputTokens + b.inputTokens,
    outputTokens: a.outputTokens + b.outputTokens,
    cachedInputTokens: a.cachedInputTokens + b.cachedInputTokens,
    cacheWriteInputTokens: a.cacheWriteInputTokens + b.cacheWriteInputTokens,
    webSearchRequests: a.webSearchRequests + b.webSearchRequests,
    costDollars: a.costDollars + b.costDollars,
    weightedTokens: a.weightedTokens + b.weightedTokens,
  };
}

export function ratio(part: number, whole: number): number {
  return whole === 0 ? 0 : part / whole;
}

/** Seconds since the epoch of the bucket `at` falls in. */
export function bucketStart(epochSeconds: number, bucket: Bucket): number {
  const size = BUCKET_SECONDS[bucket];
  return Math.floor(epochSeconds / size) * size;
}

export function isoSeconds(epochSeconds: number): string {
  return new Date(epochSeconds * 1000).toISOString().replace('.000Z', 'Z');
}
