import { Topic, type EventTopic, type GatewayEvent } from '@aigw/contracts';

// One flat row per event, in the column names of the raw tables (ClickHouse migrations
// 001/002 and the embedded SQLite schema): both stores write exactly these rows.

export type RowValue = string | number;
export type EventRow = Readonly<Record<string, RowValue>>;

export type RawTable =
  | 'usage_events'
  | 'request_completed_events'
  | 'request_accepted_events'
  | 'request_rejected_events'
  | 'fallback_events'
  | 'budget_state_events'
  | 'alert_events';

export const TABLE_OF_TOPIC: Readonly<Record<EventTopic, RawTable>> = {
  [Topic.UsageRecorded]: 'usage_events',
  [Topic.RequestCompleted]: 'request_completed_events',
  [Topic.RequestAccepted]: 'request_accepted_events',
  [Topic.RequestRejected]: 'request_rejected_events',
  [Topic.Fallback]: 'fallback_events',
  [Topic.BudgetState]: 'budget_state_events',
  [Topic.Alert]: 'alert_events',
};

/** Every topic that carries events: the sink consumes them all. */
export const SINK_TOPICS = Object.keys(TABLE_OF_TOPIC) as EventTopic[];

export const RAW_TABLES = Object.values(TABLE_OF_TOPIC);

/** Columns each raw table holds, in order; text columns are the rest. */
// prettier-ignore
export const TABLE_COLUMNS: Readonly<Record<RawTable, readonly string[]>> = {
  usage_events: [
    'event_id', 'occurred_at', 'user_id', 'request_id', 'model_requested', 'model_served',
    'provider', 'backend', 'tier', 'usage_source', 'reservation_id', 'input_tokens',
    'output_tokens', 'cached_input_tokens', 'cost_dollars', 'weighted_token_cost', 'cache_hit',
  ],
  request_completed_events: [
    'event_id', 'occurred_at', 'request_id', 'user_id', 'endpoint', 'status', 'http_status',
    'latency_ms', 'ttfb_ms', 'provider', 'backend', 'model_requested', 'model_served', 'tier',
    'stream', 'cached', 'attempts', 'error_code',
  ],
  request_accepted_events: [
    'event_id', 'occurred_at', 'request_id', 'user_id', 'endpoint', 'model_requested', 'tier',
    'stream', 'reservation_id', 'reserved_tokens', 'estimated_input_tokens',
  ],
  request_rejected_events: [
    'event_id', 'occurred_at', 'request_id', 'user_id', 'endpoint', 'reason', 'http_status',
    'model_requested', 'tier', 'limit_kind',
  ],
  fallback_events: [
    'event_id', 'occurred_at', 'request_id', 'user_id', 'model_requested', 'from_backend',
    'from_provider', 'from_model', 'to_backend', 'to_provider', 'to_model', 'reason',
    'attempt', 'upstream_status',
  ],
  budget_state_events: [
    'event_id', 'occurred_at', 'occurred_ms', 'request_id', 'budget_key', 'limit_kind',
    'window_id', 'state', 'remaining', 'limit_value', 'unit', 'reset_at',
  ],
  alert_events: [
    'event_id', 'occurred_at', 'request_id', 'budget_key', 'limit_kind', 'window_id',
    'threshold', 'used', 'limit_value', 'unit', 'tier', 'message',
  ],
};

/** Rows of one batch, grouped by the table they go to. */
export type RowsByTable = ReadonlyMap<RawTable, readonly EventRow[]>;

const seconds = (iso: string): number => Math.floor(Date.parse(iso) / 1000);
const flag = (value: boolean): number => (value ? 1 : 0);

function rowOf(event: GatewayEvent): { table: RawTable; row: EventRow } {
  const base = { event_id: event.eventId, occurred_at: seconds(event.occurredAt) };
  switch (event.type) {
    case 'usage.recorded': {
      const e = event;
      return {
        table: 'usage_events',
        row: {
          ...base,
          user_id: e.userId,
          request_id: e.requestId,
          model_requested: e.modelRequested,
          model_served: e.modelServed,
          provider: e.provider,
          backend: e.backend,
          tier: e.tier ?? '',
          usage_source: e.usageSource,
          reservation_id: e.reservationId ?? '',
          input_tokens: e.inputTokens,
          output_tokens: e.outputTokens,
          cached_input_tokens: e.cachedInputTokens,
          cost_dollars: e.costDollars,
          weighted_token_cost: e.weightedTokenCost,
          cache_hit: flag(e.cacheHit),
        },
      };
    }
    case 'request.completed':
      return {
        table: 'request_completed_events',
        row: {
          ...base,
          request_id: event.requestId,
          user_id: event.userId,
          endpoint: event.endpoint,
          status: event.status,
          http_status: event.httpStatus,
          latency_ms: event.latencyMs,
          ttfb_ms: event.ttfbMs ?? -1,
          provider: event.provider ?? '',
          backend: event.backend ?? '',
          model_requested: event.modelRequested,
          model_served: event.modelServed ?? '',
          tier: event.tier ?? '',
          stream: flag(event.stream),
          cached: flag(event.cached),
          attempts: event.attempts,
          error_code: event.errorCode ?? '',
        },
      };
    case 'request.accepted':
      return {
        table: 'request_accepted_events',
        row: {
          ...base,
          request_id: event.requestId,
          user_id: event.userId,
          endpoint: event.endpoint,
          model_requested: event.modelRequested,
          tier: event.tier ?? '',
          stream: flag(event.stream),
          reservation_id: event.reservationId ?? '',
          reserved_tokens: event.reservedTokens ?? 0,
          estimated_input_tokens: event.estimatedInputTokens ?? 0,
        },
      };
    case 'request.rejected':
      return {
        table: 'request_rejected_events',
        row: {
          ...base,
          request_id: event.requestId,
          user_id: event.userId ?? '',
          endpoint: event.endpoint,
          reason: event.reason,
          http_status: event.httpStatus,
          model_requested: event.modelRequested ?? '',
          tier: event.tier ?? '',
          limit_kind: event.limitKind ?? '',
        },
      };
    case 'fallback.occurred':
      return {
        table: 'fallback_events',
        row: {
          ...base,
          request_id: event.requestId,
          user_id: event.userId,
          model_requested: event.modelRequested,
          from_backend: event.fromBackend,
          from_provider: event.fromProvider,
          from_model: event.fromModel,
          to_backend: event.toBackend,
          to_provider: event.toProvider,
          to_model: event.toModel,
          reason: event.reason,
          attempt: event.attempt,
          upstream_status: event.upstreamStatus ?? 0,
        },
      };
    case 'budget.state':
      return {
        table: 'budget_state_events',
        row: {
          ...base,
          occurred_ms: Date.parse(event.occurredAt),
          request_id: event.requestId ?? '',
          budget_key: event.budgetKey,
          limit_kind: event.limitKind,
          window_id: event.windowId,
          state: event.state,
          remaining: event.remaining,
          limit_value: event.limit,
          unit: event.unit,
          reset_at: seconds(event.resetAt),
        },
      };
    case 'alert.raised':
      return {
        table: 'alert_events',
        row: {
          ...base,
          request_id: event.requestId ?? '',
          budget_key: event.budgetKey,
          limit_kind: event.limitKind,
          window_id: event.windowId,
          threshold: event.threshold,
          used: event.used,
          limit_value: event.limit ?? 0,
          unit: event.unit,
          tier: event.tier ?? '',
          message: event.message,
        },
      };
  }
}

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
    const { table, row } = rowOf(event);
    const rows = byTable.get(table);
    if (rows) rows.push(row);
    else byTable.set(table, [row]);
  }
  return byTable;
}
