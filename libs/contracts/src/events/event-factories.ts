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
  // Assigned onto the instance rather than merged from a third object: this runs three
  // times per request. The class declares every field, so the JSON key order is fixed.
  const event = Object.assign(new cls(), init);
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

export const createRequestAccepted = (init: EventInit<RequestAccepted>, meta: EventMeta = {}) =>
  build(RequestAccepted, REQUEST_ACCEPTED, init, meta);

export const createRequestRejected = (init: EventInit<RequestRejected>, meta: EventMeta = {}) =>
  build(RequestRejected, REQUEST_REJECTED, init, meta);

export const createRequestCompleted = (init: EventInit<RequestCompleted>, meta: EventMeta = {}) =>
  build(RequestCompleted, REQUEST_COMPLETED, init, meta);

export const createTokenUsageRecorded = (
  init: EventInit<TokenUsageRecorded>,
  meta: EventMeta = {},
) => build(TokenUsageRecorded, USAGE_RECORDED, init, meta);

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
