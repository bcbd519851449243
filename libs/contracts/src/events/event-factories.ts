import { ALERT_RAISED, AlertRaised } from './alert-raised.event';
import { BUDGET_ADJUSTED, BudgetAdjusted } from './budget-adjusted.event';
import { BUDGET_STATE_CHANGED, BudgetStateChanged } from './budget-state-changed.event';
import { type EventEnvelope } from './event-envelope';
import { newEventId } from './event-id';
import { isoTimestamp } from './iso-timestamp';
import { FALLBACK_OCCURRED, FallbackOccurred } from './fallback-occurred.event';
import { REQUEST_ACCEPTED, RequestAccepted } from './request-accepted.event';
import { REQUEST_COMPLETED, RequestCompleted } from './request-completed.event';
import { REQUEST_PAYLOAD, RequestPayloadLogged } from './request-payload.event';
import { REQUEST_REJECTED, RequestRejected } from './request-rejected.event';
import { TokenUsageRecorded, USAGE_RECORDED } from './token-usage-recorded.event';

/** What a producer supplies: everything but the envelope fields the factory fills. */
export type EventInit<E extends EventEnvelope> = Omit<
  E,
  'eventId' | 'type' | 'version' | 'occurredAt'
>;

/** Overrides for replays and tests; normally the factory picks a fresh id and now. */
export interface EventMeta {
  readonly eventId?: string;
  readonly occurredAt?: Date | string;
}

function build<E extends EventEnvelope>(
  cls: new () => E,
  id: { readonly type: E['type']; readonly version: E['version'] },
  init: EventInit<E>,
  meta: EventMeta,
): E {
  // The class declares every field, so the JSON key order is fixed whatever init's order.
  return stamp(Object.assign(new cls(), init), id, meta);
}

/** Fills the envelope fields the factory owns. */
function stamp<E extends EventEnvelope>(
  event: E,
  id: { readonly type: E['type']; readonly version: E['version'] },
  meta: EventMeta,
): E {
  event.eventId = meta.eventId ?? newEventId();
  event.type = id.type;
  event.version = id.version;
  const { occurredAt } = meta;
  event.occurredAt =
    occurredAt === undefined
      ? isoTimestamp(Date.now())
      : typeof occurredAt === 'string'
        ? occurredAt
        : occurredAt.toISOString();
  return event;
}

// The three events of every request copy their fields one by one: Object.assign onto the
// instance was ~2/3 of building an event in the gateway's profile (a generic copy, as each
// factory hands it another shape), and plain stores cost next to nothing. Every field of
// the class is copied (event-factories.spec checks it), so the result is the same object.

export const createRequestAccepted = (
  init: EventInit<RequestAccepted>,
  meta: EventMeta = {},
): RequestAccepted => {
  const event = new RequestAccepted();
  event.partitionKey = init.partitionKey;
  event.requestId = init.requestId;
  event.userId = init.userId;
  event.endpoint = init.endpoint;
  event.modelRequested = init.modelRequested;
  event.stream = init.stream;
  event.tier = init.tier;
  event.reservationId = init.reservationId;
  event.reservedTokens = init.reservedTokens;
  event.estimatedInputTokens = init.estimatedInputTokens;
  return stamp(event, REQUEST_ACCEPTED, meta);
};

export const createRequestCompleted = (
  init: EventInit<RequestCompleted>,
  meta: EventMeta = {},
): RequestCompleted => {
  const event = new RequestCompleted();
  event.partitionKey = init.partitionKey;
  event.requestId = init.requestId;
  event.userId = init.userId;
  event.endpoint = init.endpoint;
  event.status = init.status;
  event.httpStatus = init.httpStatus;
  event.latencyMs = init.latencyMs;
  event.ttfbMs = init.ttfbMs;
  event.provider = init.provider;
  event.backend = init.backend;
  event.route = init.route;
  event.modelRequested = init.modelRequested;
  event.modelServed = init.modelServed;
  event.stream = init.stream;
  event.cached = init.cached;
  event.attempts = init.attempts;
  event.tier = init.tier;
  event.errorCode = init.errorCode;
  return stamp(event, REQUEST_COMPLETED, meta);
};

export const createTokenUsageRecorded = (
  init: EventInit<TokenUsageRecorded>,
  meta: EventMeta = {},
): TokenUsageRecorded => {
  const event = new TokenUsageRecorded();
  event.partitionKey = init.partitionKey;
  event.requestId = init.requestId;
  event.userId = init.userId;
  event.budgetKey = init.budgetKey;
  event.inputTokens = init.inputTokens;
  event.outputTokens = init.outputTokens;
  event.cachedInputTokens = init.cachedInputTokens;
  event.cacheWriteInputTokens = init.cacheWriteInputTokens;
  event.cacheWrite1hInputTokens = init.cacheWrite1hInputTokens;
  event.imageInputTokens = init.imageInputTokens;
  event.imageOutputTokens = init.imageOutputTokens;
  event.webSearchRequests = init.webSearchRequests;
  event.webFetchRequests = init.webFetchRequests;
  event.usageSource = init.usageSource;
  event.modelRequested = init.modelRequested;
  event.modelServed = init.modelServed;
  event.provider = init.provider;
  event.backend = init.backend;
  event.route = init.route;
  event.tier = init.tier;
  event.costDollars = init.costDollars;
  event.weightedTokenCost = init.weightedTokenCost;
  event.cacheHit = init.cacheHit;
  event.reservationId = init.reservationId;
  event.operation = init.operation;
  return stamp(event, USAGE_RECORDED, meta);
};

export const createRequestRejected = (init: EventInit<RequestRejected>, meta: EventMeta = {}) =>
  build(RequestRejected, REQUEST_REJECTED, init, meta);

export const createFallbackOccurred = (init: EventInit<FallbackOccurred>, meta: EventMeta = {}) =>
  build(FallbackOccurred, FALLBACK_OCCURRED, init, meta);

export const createBudgetStateChanged = (
  init: EventInit<BudgetStateChanged>,
  meta: EventMeta = {},
) => build(BudgetStateChanged, BUDGET_STATE_CHANGED, init, meta);

export const createAlertRaised = (init: EventInit<AlertRaised>, meta: EventMeta = {}) =>
  build(AlertRaised, ALERT_RAISED, init, meta);

export const createBudgetAdjusted = (init: EventInit<BudgetAdjusted>, meta: EventMeta = {}) =>
  build(BudgetAdjusted, BUDGET_ADJUSTED, init, meta);

export const createRequestPayloadLogged = (
  init: EventInit<RequestPayloadLogged>,
  meta: EventMeta = {},
) => build(RequestPayloadLogged, REQUEST_PAYLOAD, init, meta);
