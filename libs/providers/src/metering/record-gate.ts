import type { RealtimeFrame, RealtimeListener } from '@aigw/contracts/data-plane';
import { answerRecordWait, type MetricsRegistry } from '@aigw/observability';

/**
 * Holds answers until their usage event is durable (AI_GATEWAY_ANSWER_AFTER_RECORD=on), so
 * a crash cannot lose the record of an answer a client got. A failed write does not hold
 * the answer: it goes, counted as `failed` (the event stays queued and is retried).
 * Reused answers (cache hits, dedup followers) wait the same way at the edge
 * (libs/ingress's ReusePublisher.reusedAndRecorded).
 */
export class RecordGate {
  constructor(
    private readonly barrier: () => Promise<void>,
    private readonly metrics: MetricsRegistry,
  ) {}

  /** Resolves once everything published so far is durable, or its write failed. */
  passed(): Promise<void> {
    return answerRecordWait(this.barrier, this.metrics);
  }

  /**
   * The stream's chunks as they come; its end (completion, or the error that broke it)
   * only once `recorded` (its usage event published) has passed the gate, so the edge's
   * `[DONE]` or `message_stop` follows the record. A consumer that stops early does not wait.
   */
  async *endingAfterRecord<T>(
    events: AsyncIterable<T>,
    recorded: Promise<void>,
  ): AsyncGenerator<T> {
    let broken: { error: unknown } | undefined;
    try {
      yield* events;
    } catch (error) {
      broken = { error };
    }
    await recorded;
    await this.passed();
    if (broken) throw broken.error;
  }
}

/**
 * A Realtime session's frames toward the client, in order: a frame that carried a usage
 * record (`response.done`, a transcription's completion) goes once the gate passed, and
 * every frame or close after it waits behind it. With nothing held, frames go at once.
 */
export class RecordGatedRelay {
  private queue: Promise<void> | undefined;

  constructor(
    private readonly gate: RecordGate,
    private readonly listener: RealtimeListener,
  ) {}

  frame(frame: RealtimeFrame, recorded: boolean): void {
    this.relay(() => this.listener.frame(frame), recorded);
  }

  closed(code: number, reason: string): void {
    this.relay(() => this.listener.closed(code, reason), false);
  }

  private relay(deliver: () => void, recorded: boolean): void {
    if (!recorded && this.queue === undefined) return deliver();
    // Started now, so the append it asks for covers this record without waiting its turn.
    const passing = recorded ? this.gate.passed() : undefined;
    const next = (this.queue ?? Promise.resolve()).then(async () => {
      await passing;
      try {
        deliver();
      } catch {
        // The session's socket is gone: its later frames and close still get their turn.
      }
    });
    this.queue = next;
    void next.then(() => {
      if (this.queue === next) this.queue = undefined;
    });
  }
}
