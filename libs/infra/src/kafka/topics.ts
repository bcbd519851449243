// Topics are created by the services at start, with their partitions and retention, so a
// fresh cluster needs no manual step. An existing topic is left as it is.
import { type Admin, type ITopicConfig } from 'kafkajs';

export interface TopicSpec {
  readonly topic: string;
  readonly partitions: number;
  /** Default 1 (one-node test and dev clusters); production sets it. */
  readonly replicationFactor?: number;
  /** -1 keeps messages forever. */
  readonly retentionMs?: number;
  readonly cleanupPolicy?: 'delete' | 'compact' | 'compact,delete';
  readonly config?: Readonly<Record<string, string>>;
}

export function topicConfig(spec: TopicSpec): ITopicConfig {
  const entries: Record<string, string> = { ...spec.config };
  if (spec.retentionMs !== undefined) entries['retention.ms'] = String(spec.retentionMs);
  if (spec.cleanupPolicy !== undefined) entries['cleanup.policy'] = spec.cleanupPolicy;
  return {
    topic: spec.topic,
    numPartitions: spec.partitions,
    replicationFactor: spec.replicationFactor ?? 1,
    configEntries: Object.entries(entries).map(([name, value]) => ({ name, value })),
  };
}

/** Creates the topics that do not exist yet; returns the names it created. */
export async function ensureTopics(admin: Admin, specs: readonly TopicSpec[]): Promise<string[]> {
  const existing = new Set(await admin.listTopics());
  const missing = specs.filter((s) => !existing.has(s.topic));
  if (missing.length === 0) return [];
  try {
    await admin.createTopics({ waitForLeaders: true, topics: missing.map(topicConfig) });
  } catch (error) {
    // Another instance may have created them between listTopics and createTopics.
    const now = new Set(await admin.listTopics());
    if (!missing.every((s) => now.has(s.topic))) throw error;
  }
  return missing.map((s) => s.topic);
}
