// Notices a Kafka consumer that has gone quiet. A healthy kafkajs consumer shows a sign of
// life every second or so (a fetch ends after maxWaitTimeInMs even when there is nothing to
// read, and heartbeats go out every few seconds), but a consumer can stop without a word:
// kafkajs gives up after a crash it calls non-retriable, or hangs after a broker restart
// (tulios/kafkajs#659). The bus replaces a consumer this watch reports.
import type { Consumer, ConsumerEvents } from 'kafkajs';

export interface WatchedConsumer {
  /** Set by the events of the consumer currently running for it. */
  lastSignOfLife: number;
  /** Handler calls in progress: a handler retrying a batch is busy, not stalled. */
  handling: number;
  /** A consumer is being started for it (the first one, or a replacement). */
  starting: boolean;
}

/** The kafkajs events that show a consumer is still at work. */
export function signsOfLife(consumer: Consumer): ConsumerEvents[keyof ConsumerEvents][] {
  const { events } = consumer;
  return [
    events.FETCH_START,
    events.FETCH,
    events.HEARTBEAT,
    events.GROUP_JOIN,
    events.START_BATCH_PROCESS,
    events.END_BATCH_PROCESS,
    // kafkajs is restarting it by itself: still alive, if not well.
    events.CRASH,
  ];
}

/** Consumers that showed no sign of life for `stallAfterMs`, and are neither busy nor starting. */
export function stalledConsumers<T extends WatchedConsumer>(
  watched: readonly T[],
  now: number,
  stallAfterMs: number,
): T[] {
  return watched.filter(
    (w) => !w.starting && w.handling === 0 && now - w.lastSignOfLife > stallAfterMs,
  );
}
