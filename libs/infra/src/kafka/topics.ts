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

/** How long a fresh topic may take to be served by the broker before we give up. */
const SERVED_TIMEOUT_MS = 15_000;
const SERVED_POLL_MS = 100;

/** Creates the topics that do not exist yet; returns the names it created. */
export async function ensureTopics(admin: Admin, specs: readonly TopicSpec[]): Promise<string[]> {
  const existing = new Set(await admin.listTopics());
  const missing = specs.filter((s) => !existing.has(s.topic));
  if (missing.length === 0) return [];
  const names = missing.map((s) => s.topic);
  try {
    await admin.createTopics({ waitForLeaders: true, topics: missing.map(topicConfig) });
  } catch (error) {
    // A retriable error is the broker not serving the new topics yet (KRaft propagates them
    // asynchronously: UNKNOWN_TOPIC_OR_PARTITION, LEADER_NOT_AVAILABLE); waited out below.
    // Otherwise another instance may have created them between listTopics and createTopics.
    if (!isRetriable(error)) {
      const now = new Set(await admin.listTopics());
      if (!names.every((name) => now.has(name))) throw error;
    }
  }
  await untilServed(admin, names);
  return names;
}

function isRetriable(error: unknown): boolean {
  return (error as { retriable?: unknown }).retriable === true;
}

/** Waits until every partition of `topics` has a leader, so producers can use them at once. */
async function untilServed(admin: Admin, topics: readonly string[]): Promise<void> {
  const deadline = Date.now() + SERVED_TIMEOUT_MS;
  for (;;) {
    try {
      const { topics: served } = await admin.fetchTopicMetadata({ topics: [...topics] });
      const ready = served.every(
        (t) => t.partitions.length > 0 && t.partitions.every((p) => p.leader >= 0),
      );
      if (ready && served.length === topics.length) return;
    } catch (error) {
      if (!isRetriable(error) || Date.now() > deadline) throw error;
    }
    if (Date.now() > deadline) {
      throw new Error(
        `Kafka did not serve topics ${topics.join(', ')} within ${SERVED_TIMEOUT_MS} ms`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, SERVED_POLL_MS));
  }
}
