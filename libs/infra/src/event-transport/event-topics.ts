// The gateway's topics as the services create them at start, from @aigw/contracts'
// TOPIC_SETTINGS (partitions, retention, compaction of the budget-state topic).
import { ALL_TOPICS, TOPIC_SETTINGS, type Topic } from '@aigw/contracts';
import { type Admin } from 'kafkajs';
import { createKafka } from '../kafka/kafka-client';
import { ensureTopics, type TopicSpec } from '../kafka/topics';

export interface EventTopicOptions {
  /** Prepended to every topic name (an environment, or a test's isolation). */
  readonly prefix?: string;
  /** Overrides every topic's partition count (one-node test brokers). */
  readonly partitions?: number;
  readonly replicationFactor?: number;
}

export function eventTopicSpecs(options: EventTopicOptions = {}): TopicSpec[] {
  return ALL_TOPICS.map((topic: Topic) => {
    const settings = TOPIC_SETTINGS[topic];
    return {
      topic: `${options.prefix ?? ''}${topic}`,
      partitions: options.partitions ?? settings.partitions,
      retentionMs: settings.retentionMs,
      cleanupPolicy: settings.cleanupPolicy,
      ...(options.replicationFactor ? { replicationFactor: options.replicationFactor } : {}),
      config: {
        ...settings.extraConfig,
        ...(options.replicationFactor && options.replicationFactor >= 3
          ? { 'min.insync.replicas': '2' }
          : {}),
      },
    };
  });
}

/** Creates whichever of the gateway's topics do not exist yet; returns their names. */
export function ensureEventTopics(
  admin: Admin,
  options: EventTopicOptions = {},
): Promise<string[]> {
  return ensureTopics(admin, eventTopicSpecs(options));
}

/**
 * `ensureEventTopics` from a bare broker list, retrying while a busy broker elects
 * partition leaders (a fresh test broker, a cluster rolling its nodes).
 */
export async function prepareEventTopics(
  brokers: string,
  options: { prefix?: string; partitions?: number; attempts?: number } = {},
): Promise<void> {
  const admin = createKafka({ clientId: 'aigw-topic-setup', brokers }).admin();
  await admin.connect();
  try {
    for (let attempt = 1; ; attempt++) {
      try {
        await ensureEventTopics(admin, options);
        return;
      } catch (error) {
        if (attempt >= (options.attempts ?? 10)) throw error;
        await new Promise((resolve) => setTimeout(resolve, 1_000));
      }
    }
  } finally {
    await admin.disconnect();
  }
}
