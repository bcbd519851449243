import type { KafkaEventBusObserver } from '@aigw/infra';
import type { MetricsRegistry } from '@aigw/observability';

/**
 * The code an event refused by the Kafka producer is counted under in
 * ai_gateway_events_rejected_total: `PRODUCER.SPOOL_FULL` (the disk spool at
 * AI_GATEWAY_SPOOL_MAX_BYTES), `PRODUCER.SPOOL_WRITE_FAILED`, `PRODUCER.SPOOL_TOO_LARGE`,
 * `PRODUCER.SPOOL_CLOSED`: beside the embedded log's `EVENT_LOG.BACKLOG_FULL`, so one
 * alert covers both shapes.
 */
export function kafkaRefusalCode(reason: string): string {
  return `PRODUCER.SPOOL_${reason.toUpperCase().replace(/-/g, '_')}`;
}

/** Where the Kafka bus's numbers go in the process's metrics. */
export function kafkaEventMetrics(metrics: MetricsRegistry): KafkaEventBusObserver {
  return {
    spoolDepth: (events) => metrics.setSpoolDepth(events),
    consumerLag: (labels, lag) => metrics.setConsumerLag(labels, lag),
    consumerLagGone: (labels) => metrics.clearConsumerLag(labels),
    consumerReplaced: (labels) => metrics.recordConsumerReplaced(labels),
    deadLettered: (labels) => metrics.recordEventRejected(labels),
    handlerDeadLettered: (labels) => metrics.recordEventHandlerDeadLettered(labels),
    handlerRetried: (labels) => metrics.recordEventHandlerRetry(labels),
    refused: ({ topic, reason }, count) =>
      metrics.recordEventRejected({ topic, code: kafkaRefusalCode(reason) }, count),
  };
}
