import type { MetricsRegistry } from './metrics-registry';

/**
 * Waits until everything published so far is durable (`barrier`, the event bus's
 * recordBarrier) before an answer goes (AI_GATEWAY_ANSWER_AFTER_RECORD=on), timed on
 * `ai_gateway_answer_record_wait_seconds`. A failed write does not hold the answer: the wait
 * resolves, counted `failed` (the bus logs it; the event stays queued and is retried).
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
