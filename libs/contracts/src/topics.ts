// Every Kafka topic the gateway uses. The version suffix changes only on a breaking
// payload change; a new topic then runs beside the old one until consumers move.
export enum Topic {
  RequestAccepted = 'gateway.request.accepted.v1',
  RequestRejected = 'gateway.request.rejected.v1',
  RequestCompleted = 'gateway.request.completed.v1',
  UsageRecorded = 'gateway.usage.recorded.v1',
  Fallback = 'gateway.fallback.v1',
  BudgetState = 'gateway.budget.state.v1',
  Alert = 'gateway.alert.v1',
  /** Operators' budget resets and credits, keyed by user; the budget service applies them. */
  BudgetAdjusted = 'gateway.budget.adjusted.v1',
  /**
   * Prompts and answers of routes with payloadLogging on, keyed by user: only the
   * usage-sink reads them, and they are kept briefly (they hold what users wrote).
   */
  RequestPayload = 'gateway.request.payload.v1',
  /** Messages a consumer could not decode, forwarded raw with the error in headers. */
  DeadLetter = 'gateway.dead-letter.v1',
}

export type CleanupPolicy = 'delete' | 'compact';

export interface TopicSettings {
  readonly partitions: number;
  /** -1 keeps messages forever (compacted topics keep the latest value per key). */
  readonly retentionMs: number;
  readonly cleanupPolicy: CleanupPolicy;
  /** Extra broker configs applied at creation (kafkajs `configEntries`). */
  readonly extraConfig?: Readonly<Record<string, string>>;
}

const DAY_MS = 24 * 60 * 60 * 1000;

// Usage is the replay source for balances (budgets up to a calendar month plus slack),
// so it is kept longest; request lifecycle events only feed analytics.
export const TOPIC_SETTINGS: Readonly<Record<Topic, TopicSettings>> = {
  [Topic.RequestAccepted]: { partitions: 12, retentionMs: 7 * DAY_MS, cleanupPolicy: 'delete' },
  [Topic.RequestRejected]: { partitions: 12, retentionMs: 7 * DAY_MS, cleanupPolicy: 'delete' },
  [Topic.RequestCompleted]: { partitions: 12, retentionMs: 7 * DAY_MS, cleanupPolicy: 'delete' },
  [Topic.UsageRecorded]: { partitions: 12, retentionMs: 40 * DAY_MS, cleanupPolicy: 'delete' },
  [Topic.Fallback]: { partitions: 6, retentionMs: 7 * DAY_MS, cleanupPolicy: 'delete' },
  [Topic.BudgetState]: {
    partitions: 12,
    retentionMs: -1,
    cleanupPolicy: 'compact',
    // Compact promptly so a restarting ingress replays a short log into its local view.
    extraConfig: { 'min.cleanable.dirty.ratio': '0.1', 'segment.ms': String(60 * 60 * 1000) },
  },
  [Topic.Alert]: { partitions: 3, retentionMs: 30 * DAY_MS, cleanupPolicy: 'delete' },
  // Replayed with usage when balances are rebuilt: kept as long as usage is.
  [Topic.BudgetAdjusted]: { partitions: 12, retentionMs: 40 * DAY_MS, cleanupPolicy: 'delete' },
  // Content, not accounting: kept no longer than an operator needs to look into a call.
  [Topic.RequestPayload]: {
    partitions: 12,
    retentionMs: 3 * DAY_MS,
    cleanupPolicy: 'delete',
    // Two bodies of up to 256 KiB each, escaped once more as JSON strings.
    extraConfig: { 'max.message.bytes': String(2 * 1024 * 1024) },
  },
  [Topic.DeadLetter]: {
    partitions: 3,
    retentionMs: 30 * DAY_MS,
    cleanupPolicy: 'delete',
    // Room for the largest message a source topic takes (a payload's 2 MiB) and the
    // dead-letter headers: below it such a letter could carry only its headers.
    extraConfig: { 'max.message.bytes': String(4 * 1024 * 1024) },
  },
};

export const ALL_TOPICS: readonly Topic[] = Object.values(Topic);

/** Broker config entries for a topic, in the shape kafkajs `createTopics` takes. */
export function topicConfigEntries(topic: Topic): { name: string; value: string }[] {
  const settings = TOPIC_SETTINGS[topic];
  const entries: Record<string, string> = {
    'cleanup.policy': settings.cleanupPolicy,
    'retention.ms': String(settings.retentionMs),
    ...settings.extraConfig,
  };
  return Object.entries(entries).map(([name, value]) => ({ name, value }));
}

export function isTopic(value: string): value is Topic {
  return (ALL_TOPICS as readonly string[]).includes(value);
}
