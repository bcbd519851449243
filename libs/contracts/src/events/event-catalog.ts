import { type ClassConstructor } from 'class-transformer';
import { Topic } from '../topics';
import { ALERT_RAISED, AlertRaised } from './alert-raised.event';
import { BUDGET_ADJUSTED, BudgetAdjusted } from './budget-adjusted.event';
import { BUDGET_STATE_CHANGED, BudgetStateChanged } from './budget-state-changed.event';
import { FALLBACK_OCCURRED, FallbackOccurred } from './fallback-occurred.event';
import { REQUEST_ACCEPTED, RequestAccepted } from './request-accepted.event';
import { REQUEST_COMPLETED, RequestCompleted } from './request-completed.event';
import { REQUEST_PAYLOAD, RequestPayloadLogged } from './request-payload.event';
import { REQUEST_REJECTED, RequestRejected } from './request-rejected.event';
import { TokenUsageRecorded, USAGE_RECORDED } from './token-usage-recorded.event';

/** Which payload class each event topic carries. */
export interface TopicEventMap {
  [Topic.RequestAccepted]: RequestAccepted;
  [Topic.RequestRejected]: RequestRejected;
  [Topic.RequestCompleted]: RequestCompleted;
  [Topic.UsageRecorded]: TokenUsageRecorded;
  [Topic.Fallback]: FallbackOccurred;
  [Topic.BudgetState]: BudgetStateChanged;
  [Topic.Alert]: AlertRaised;
  [Topic.BudgetAdjusted]: BudgetAdjusted;
  [Topic.RequestPayload]: RequestPayloadLogged;
}

export type EventTopic = keyof TopicEventMap;
export type GatewayEvent = TopicEventMap[EventTopic];
export type GatewayEventType = GatewayEvent['type'];

export interface EventSpec<E extends GatewayEvent> {
  readonly topic: EventTopic;
  readonly type: E['type'];
  readonly version: E['version'];
  readonly cls: ClassConstructor<E>;
  /** Kafka message key: decides the partition and, on compacted topics, what survives. */
  readonly messageKey: (event: E) => string;
}

const byPartitionKey = (event: GatewayEvent): string => event.partitionKey;

export const EVENT_CATALOG: { readonly [T in EventTopic]: EventSpec<TopicEventMap[T]> } = {
  [Topic.RequestAccepted]: {
    topic: Topic.RequestAccepted,
    ...REQUEST_ACCEPTED,
    cls: RequestAccepted,
    messageKey: byPartitionKey,
  },
  [Topic.RequestRejected]: {
    topic: Topic.RequestRejected,
    ...REQUEST_REJECTED,
    cls: RequestRejected,
    messageKey: byPartitionKey,
  },
  [Topic.RequestCompleted]: {
    topic: Topic.RequestCompleted,
    ...REQUEST_COMPLETED,
    cls: RequestCompleted,
    messageKey: byPartitionKey,
  },
  [Topic.UsageRecorded]: {
    topic: Topic.UsageRecorded,
    ...USAGE_RECORDED,
    cls: TokenUsageRecorded,
    messageKey: byPartitionKey,
  },
  [Topic.Fallback]: {
    topic: Topic.Fallback,
    ...FALLBACK_OCCURRED,
    cls: FallbackOccurred,
    messageKey: byPartitionKey,
  },
  [Topic.BudgetState]: {
    topic: Topic.BudgetState,
    ...BUDGET_STATE_CHANGED,
    cls: BudgetStateChanged,
    // Compaction keeps the last message per key, so the key must name one limit of one
    // budget key; keying by user alone would let one limit's state erase another's.
    messageKey: (event) => budgetStateKey(event.budgetKey, event.limitKind),
  },
  [Topic.Alert]: {
    topic: Topic.Alert,
    ...ALERT_RAISED,
    cls: AlertRaised,
    messageKey: byPartitionKey,
  },
  [Topic.BudgetAdjusted]: {
    topic: Topic.BudgetAdjusted,
    ...BUDGET_ADJUSTED,
    cls: BudgetAdjusted,
    messageKey: byPartitionKey,
  },
  [Topic.RequestPayload]: {
    topic: Topic.RequestPayload,
    ...REQUEST_PAYLOAD,
    cls: RequestPayloadLogged,
    messageKey: byPartitionKey,
  },
};

export function budgetStateKey(budgetKey: string, limitKind: string): string {
  return `${budgetKey}|${limitKind}`;
}

export function isEventTopic(topic: string): topic is EventTopic {
  return Object.prototype.hasOwnProperty.call(EVENT_CATALOG, topic);
}

const TOPIC_BY_TYPE = new Map<string, EventTopic>(
  (Object.keys(EVENT_CATALOG) as EventTopic[]).map((topic) => [EVENT_CATALOG[topic].type, topic]),
);

/** The topic an event of this type is published to. */
export function topicForType(type: GatewayEventType): EventTopic {
  const topic = TOPIC_BY_TYPE.get(type);
  if (topic === undefined) throw new Error(`no topic carries event type "${type}"`);
  return topic;
}
