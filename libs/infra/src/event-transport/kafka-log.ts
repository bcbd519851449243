// kafkajs' own log lines into the service's structured logger, at warn: kafkajs reports
// every retry of an outage as ERROR, while the bus reports the outage itself once.
import type { logCreator } from 'kafkajs';
import { kafkajs } from '../client-libraries';

export interface KafkaLogSink {
  warn(msg: string, fields?: Record<string, unknown>): void;
  debug?(msg: string, fields?: Record<string, unknown>): void;
}

// Known and explained: bounded retries are deliberate (a failed send goes to the spool and
// is replayed; consumers dedupe on event id), and every producer names its partitioner.
const SUPPRESSED = [/Limiting retries for the idempotent producer/, /default partitioner/];

export function kafkaLogCreator(sink: KafkaLogSink): logCreator {
  const { logLevel } = kafkajs();
  return () =>
    ({ namespace, level, log }) => {
      const { message, broker, groupId, retryCount, error } = log as {
        message: string;
        broker?: unknown;
        groupId?: unknown;
        retryCount?: unknown;
        error?: unknown;
      };
      if (SUPPRESSED.some((pattern) => pattern.test(message))) return;
      const fields: Record<string, unknown> = { component: 'kafkajs', namespace };
      if (broker !== undefined) fields.broker = broker;
      if (groupId !== undefined) fields.groupId = groupId;
      if (retryCount !== undefined) fields.retryCount = retryCount;
      if (error !== undefined) {
        fields.reason = typeof error === 'string' ? error : JSON.stringify(error);
      }
      if (level === logLevel.ERROR || level === logLevel.WARN) sink.warn(message, fields);
      else sink.debug?.(message, fields);
    };
}
