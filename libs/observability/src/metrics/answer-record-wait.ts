import type { MetricsRegistry } from './metrics-registry';

/**
 * Waits until everything published so far is durable (`barrier`, the event bus's
 * recordBarrier) before an answer goes (AI_GATEWAY_ANSWER_AFTER_RECORD=on), timed on
 * `ai_gateway_answer_record_wait_seconds`. On the embedded bus that is the log's append and,
 * with AI_GATEWAY_SQLITE_SYNC=full, the fdatasync of its WAL after it (on the threadpool,
 * shared by every answer waiting then); on Kafka the broker's ack or the spool. A failed
 * write or sync does not hold the answer: the wait resolves, counted `failed` (the bus or
 * the sync's observer logs it; the event stays queued, or in the log, and is retried).
 */
export async function answerRecordWait(
  barrier: () => Promise<void>,
  metrics: MetricsRegistry,
): Promise<void> {
  const started = performance.now();
  let outcome: 'durable' | 'failed' = 'durable';
  try {
    await barrier();
  } catch {
    outcome = 'failed';
  }
  metrics.observeAnswerRecordWait(outcome, (performance.now() - started) / 1000);
}
