import {
  Topic,
  topicForType,
  type EventTopic,
  type GatewayEvent,
  type GatewayEventType,
} from '@aigw/contracts';

// One flat row per event, in the column names of the raw tables (ClickHouse migrations
// 001/002/004/006/007/008/009/010/012 and the embedded SQLite schema): both stores write exactly these rows. A
// column added to a table later comes last, where adding it to an existing table puts it.

export type RowValue = string | number;
export type EventRow = Readonly<Record<string, RowValue>>;

export type RawTable =
  | 'usage_events'
  | 'request_completed_events'
  | 'request_accepted_events'
  | 'request_rejected_events'
  | 'fallback_events'
  | 'budget_state_events'
  | 'alert_events'
  | 'budget_adjustment_events'
  | 'request_payload_events';

export const TABLE_OF_TOPIC: Readonly<Record<EventTopic, RawTable>> = {
  [Topic.UsageRecorded]: 'usage_events',
  [Topic.RequestCompleted]: 'request_completed_events',
  [Topic.RequestAccepted]: 'request_accepted_events',
  [Topic.RequestRejected]: 'request_rejected_events',
  [Topic.Fallback]: 'fallback_events',
  [Topic.BudgetState]: 'budget_state_events',
  [Topic.Alert]: 'alert_events',
  // Operators' resets and credits: who gave a user budget back, when and how much.
  [Topic.BudgetAdjusted]: 'budget_adjustment_events',
  // Prompts and answers of routes that log them (payloadLogging).
  [Topic.RequestPayload]: 'request_payload_events',
};

/** Every topic that carries events: the sink consumes them all. */
export const SINK_TOPICS = Object.keys(TABLE_OF_TOPIC) as EventTopic[];

export const RAW_TABLES = Object.values(TABLE_OF_TOPIC);

/** Rows of one batch, grouped by the table they go to. */
export type RowsByTable = ReadonlyMap<RawTable, readonly EventRow[]>;

type EventOfType<T extends GatewayEventType> = Extract<GatewayEvent, { type: T }>;

/** Each column of a raw table, in the table's order, and how an event fills it. */
type ColumnReaders<E> = Readonly<Record<string, (event: E) => RowValue>>;

// The last second parsed, by its "YYYY-MM-DDTHH:MM:SS." text: the events of a batch share
// a few seconds: ~150 -> ~70 ns a row (3 a request) against Date.parse every time.
let cachedPrefix = '\u0000'; // matches no time until one is parsed
let cachedSeconds = 0;

/** Whole seconds of an ISO time; a "….sssZ" time of the last second parsed needs no parse. */
export function seconds(iso: string): number {
  if (iso.length === 24 && iso.startsWith(cachedPrefix) && isMillisZ(iso)) return cachedSeconds;
  const value = Math.floor(Date.parse(iso) / 1000);
  // Only a second written as toISOString writes it: Date.parse reads lenient forms (and
  // 24:00) otherwise, where another millisecond of the same text may not be the same second.
  if (iso.length === 24 && Number.isFinite(value) && isMillisZ(iso) && isIsoSecond(iso)) {
    cachedPrefix = iso.slice(0, 20);
    cachedSeconds = value;
  }
  return value;
}

/** Ends in ".dddZ" (the prefix before it is what the cache compares). */
function isMillisZ(iso: string): boolean {
  return (
    iso.charCodeAt(19) === 46 && // .
    isDigit(iso.charCodeAt(20)) &&
    isDigit(iso.charCodeAt(21)) &&
    isDigit(iso.charCodeAt(22)) &&
    iso.charCodeAt(23) === 90 // Z
  );
}

function isDigit(code: number): boolean {
  return code >= 48 && code <= 57;
}

/** `YYYY-MM-DDTHH:mm:ss` with an hour below 24 at the start of `iso`. */
function isIsoSecond(iso: string): boolean {
  for (let index = 0; index < 19; index++) {
    const code = iso.charCodeAt(index);
    const wanted = ISO_SEPARATORS[index];
    if (wanted === 0 ? !isDigit(code) : code !== wanted) return false;
  }
  return (iso.charCodeAt(11) - 48) * 10 + (iso.charCodeAt(12) - 48) < 24;
}

/** The separator at each position of `YYYY-MM-DDTHH:mm:ss` (0: a digit). */
const ISO_SEPARATORS = [0, 0, 0, 0, 0x2d, 0, 0, 0x2d, 0, 0, 0x54, 0, 0, 0x3a, 0, 0, 0x3a, 0, 0];
const flag = (value: boolean): number => (value ? 1 : 0);

const ENVELOPE = {
  event_id: (e: GatewayEvent) => e.eventId,
  occurred_at: (e: GatewayEvent) => seconds(e.occurredAt),
};

const READERS: { readonly [T in GatewayEventType]: ColumnReaders<EventOfType<T>> } = {
  'usage.recorded': {
    ...ENVELOPE,
    user_id: (e) => e.userId,
    request_id: (e) => e.requestId,
    model_requested: (e) => e.modelRequested,
    model_served: (e) => e.modelServed,
    provider: (e) => e.provider,
    backend: (e) => e.backend,
    tier: (e) => e.tier ?? '',
    usage_source: (e) => e.usageSource,
    reservation_id: (e) => e.reservationId ?? '',
    input_tokens: (e) => e.inputTokens,
    output_tokens: (e) => e.outputTokens,
    cached_input_tokens: (e) => e.cachedInputTokens,
    cost_dollars: (e) => e.costDollars,
    weighted_token_cost: (e) => e.weightedTokenCost,
    cache_hit: (e) => flag(e.cacheHit),
    cache_write_input_tokens: (e) => e.cacheWriteInputTokens ?? 0,
    // '' for an older build's event, which names no operation.
    operation: (e) => e.operation ?? '',
    // The backend's route ('' for an older build's event); added by migration 010.
    route: (e) => e.route ?? '',
    // Server-tool web searches, billed in cost_dollars (0 when none); migration 012.
    web_search_requests: (e) => e.webSearchRequests ?? 0,
  },
  'request.completed': {
    ...ENVELOPE,
    request_id: (e) => e.requestId,
    user_id: (e) => e.userId,
    endpoint: (e) => e.endpoint,
    status: (e) => e.status,
    http_status: (e) => e.httpStatus,
    latency_ms: (e) => e.latencyMs,
    ttfb_ms: (e) => e.ttfbMs ?? -1,
    provider: (e) => e.provider ?? '',
    backend: (e) => e.backend ?? '',
    model_requested: (e) => e.modelRequested,
    model_served: (e) => e.modelServed ?? '',
    tier: (e) => e.tier ?? '',
    stream: (e) => flag(e.stream),
    cached: (e) => flag(e.cached),
    attempts: (e) => e.attempts,
    error_code: (e) => e.errorCode ?? '',
    // The backend's route ('' for an older build's event); added by migration 010.
    route: (e) => e.route ?? '',
  },
  'request.accepted': {
    ...ENVELOPE,
    request_id: (e) => e.requestId,
    user_id: (e) => e.userId,
    endpoint: (e) => e.endpoint,
    model_requested: (e) => e.modelRequested,
    tier: (e) => e.tier ?? '',
    stream: (e) => flag(e.stream),
    reservation_id: (e) => e.reservationId ?? '',
    reserved_tokens: (e) => e.reservedTokens ?? 0,
    estimated_input_tokens: (e) => e.estimatedInputTokens ?? 0,
  },
  'request.rejected': {
    ...ENVELOPE,
    request_id: (e) => e.requestId,
    user_id: (e) => e.userId ?? '',
    endpoint: (e) => e.endpoint,
    reason: (e) => e.reason,
    http_status: (e) => e.httpStatus,
    model_requested: (e) => e.modelRequested ?? '',
    tier: (e) => e.tier ?? '',
    limit_kind: (e) => e.limitKind ?? '',
  },
  'fallback.occurred': {
    ...ENVELOPE,
    request_id: (e) => e.requestId,
    user_id: (e) => e.userId,
    model_requested: (e) => e.modelRequested,
    from_backend: (e) => e.fromBackend,
    from_provider: (e) => e.fromProvider,
    from_model: (e) => e.fromModel,
    to_backend: (e) => e.toBackend,
    to_provider: (e) => e.toProvider,
    to_model: (e) => e.toModel,
    reason: (e) => e.reason,
    attempt: (e) => e.attempt,
    upstream_status: (e) => e.upstreamStatus ?? 0,
  },
  'budget.state': {
    ...ENVELOPE,
    occurred_ms: (e) => Date.parse(e.occurredAt),
    request_id: (e) => e.requestId ?? '',
    budget_key: (e) => e.budgetKey,
    limit_kind: (e) => e.limitKind,
    window_id: (e) => e.windowId,
    state: (e) => e.state,
    remaining: (e) => e.remaining,
    limit_value: (e) => e.limit,
    unit: (e) => e.unit,
    reset_at: (e) => seconds(e.resetAt),
  },
  'alert.raised': {
    ...ENVELOPE,
    request_id: (e) => e.requestId ?? '',
    budget_key: (e) => e.budgetKey,
    limit_kind: (e) => e.limitKind,
    window_id: (e) => e.windowId,
    threshold: (e) => e.threshold,
    used: (e) => e.used,
    limit_value: (e) => e.limit ?? 0,
    unit: (e) => e.unit,
    tier: (e) => e.tier ?? '',
    message: (e) => e.message,
  },
  'budget.adjusted': {
    ...ENVELOPE,
    occurred_ms: (e) => Date.parse(e.occurredAt),
    user_key: (e) => e.userKey,
    action: (e) => e.action,
    // '' for every limit of the user (a reset without a limit kind).
    limit_kind: (e) => e.limitKind ?? '',
    // 0 for a reset, which has no amount.
    amount: (e) => e.amount ?? 0,
    reason: (e) => e.reason ?? '',
    // Who made it ('' when unnamed); added by migration 008, so it comes last.
    operator: (e) => e.operator ?? '',
  },
  'request.payload': {
    ...ENVELOPE,
    occurred_ms: (e) => Date.parse(e.occurredAt),
    started_ms: (e) => Date.parse(e.startedAt),
    request_id: (e) => e.requestId,
    user_id: (e) => e.userId,
    endpoint: (e) => e.endpoint,
    model_requested: (e) => e.modelRequested,
    model_served: (e) => e.modelServed ?? '',
    provider: (e) => e.provider ?? '',
    backend: (e) => e.backend ?? '',
    stream: (e) => flag(e.stream),
    http_status: (e) => e.httpStatus,
    error_code: (e) => e.errorCode ?? '',
    latency_ms: (e) => e.latencyMs,
    request_body: (e) => e.requestBody,
    request_truncated: (e) => flag(e.requestTruncated),
    request_bytes: (e) => e.requestBytes,
    response_body: (e) => e.responseBody,
    response_truncated: (e) => flag(e.responseTruncated),
    response_bytes: (e) => e.responseBytes,
  },
};

/** How one event type becomes a row of its raw table. */
export interface RowLayout {
  readonly table: RawTable;
  /** Column names, in the table's order. */
  readonly columns: readonly string[];
  /** The event's values, in the order of `columns`. */
  readonly values: (event: GatewayEvent) => RowValue[];
  /** The event as a row keyed by column name, in the order of `columns`. */
  readonly row: (event: GatewayEvent) => EventRow;
}

/** `readers` of any one event type (each reads only the type it is listed under). */
function layout(table: RawTable, readers: ColumnReaders<never>): RowLayout {
  const columns = Object.keys(readers);
  const read = Object.values(readers) as ((event: GatewayEvent) => RowValue)[];
  return {
    table,
    columns,
    // A plain loop over the readers: this runs for every event the gateway stores.
    values: (event) => {
      const values = new Array<RowValue>(read.length);
      for (let i = 0; i < read.length; i++) values[i] = read[i](event);
      return values;
    },
    // Filled column by column: Object.fromEntries over [column, value] pairs made an array
    // per column (bench/micro/usage-sink-decode.ts: ~2.6 -> ~0.9 µs, 2.3 -> 0.6 KB an event).
    row: (event) => {
      const row: Record<string, RowValue> = {};
      for (let i = 0; i < read.length; i++) row[columns[i]] = read[i](event);
      return row;
    },
  };
}

const LAYOUTS = new Map<GatewayEventType, RowLayout>(
  (Object.keys(READERS) as GatewayEventType[]).map((type) => [
    type,
    layout(TABLE_OF_TOPIC[topicForType(type)], READERS[type]),
  ]),
);

/** The layout of the row an event is stored as. */
export function rowLayoutOf(event: GatewayEvent): RowLayout {
  const found = LAYOUTS.get(event.type);
  if (!found) throw new Error(`no raw table for events of type ${String(event.type)}`);
  return found;
}

/** Columns each raw table holds, in order: what both schemas declare. */
export const TABLE_COLUMNS = Object.fromEntries(
  [...LAYOUTS.values()].map(({ table, columns }) => [table, columns]),
) as Readonly<Record<RawTable, readonly string[]>>;

/**
 * The batch as rows per table. An event id seen twice in one batch (a redelivery that
 * overlaps the original) yields one row.
 */
export function toRowsByTable(events: readonly GatewayEvent[]): RowsByTable {
  const seen = new Set<string>();
  const byTable = new Map<RawTable, EventRow[]>();
  for (const event of events) {
    if (seen.has(event.eventId)) continue;
    seen.add(event.eventId);
    const { table, row: rowOf } = rowLayoutOf(event);
    const row = rowOf(event);
    const rows = byTable.get(table);
    if (rows) rows.push(row);
    else byTable.set(table, [row]);
  }
  return byTable;
}
