import {
  DataPlaneError,
  DataPlaneErrorCode,
  type GatewayAnswer,
  type JsonObject,
  type StreamAnswer,
} from '@aigw/contracts/data-plane';

/** The longest a Node timer waits (2^31 - 1 ms, about 24.8 days). */
const MAX_TIMER_MS = 2_147_483_647;

/**
 * A client's deadline for a whole call (`x-ai-gateway-request-timeout-ms`): failover
 * attempts, retry delays and a stream's body included. It only cuts: each attempt still
 * ends at its backend's own request and first-byte timeouts, whichever comes first. At the
 * deadline the call's signal aborts, which cancels the upstream call in flight.
 */
export class RequestDeadline {
  readonly signal: AbortSignal;
  readonly error: DataPlaneError;
  private readonly controller = new AbortController();
  private readonly endsAt: number;
  private readonly timer: NodeJS.Timeout;

  constructor(
    readonly ms: number,
    private readonly clientSignal: AbortSignal,
  ) {
    this.endsAt = performance.now() + ms;
    this.error = new DataPlaneError(
      DataPlaneErrorCode.UpstreamTimeout,
      `the request did not complete within its x-ai-gateway-request-timeout-ms (${ms} ms)`,
    );
    // Node fires a timer set past MAX_TIMER_MS after 1 ms; a deadline that far off is
    // later than any backend's own timeout, so waiting MAX_TIMER_MS cuts nothing.
    this.timer = setTimeout(() => this.controller.abort(this.error), Math.min(ms, MAX_TIMER_MS));
    this.timer.unref(); // a stream never read must not hold the process until the deadline
    this.signal = AbortSignal.any([clientSignal, this.controller.signal]);
    // A client gone ends the call: a stream it never read would not release the timer.
    if (clientSignal.aborted) this.release();
    else clientSignal.addEventListener('abort', this.release, { once: true });
  }

  get passed(): boolean {
    return this.controller.signal.aborted;
  }

  /** Milliseconds left, 0 once passed. */
  remaining(): number {
    return this.passed ? 0 : Math.max(0, this.endsAt - performance.now());
  }

  readonly release = (): void => {
    clearTimeout(this.timer);
    this.clientSignal.removeEventListener('abort', this.release);
  };

  /** The answer, the deadline released once it is complete (a stream: when it ends). */
  releaseAfter(answer: GatewayAnswer): GatewayAnswer {
    if (answer.kind !== 'stream') {
      this.release();
      return answer;
    }
    return { ...answer, events: this.releasedAtEnd(answer) };
  }

  private async *releasedAtEnd(answer: StreamAnswer): AsyncGenerator<JsonObject> {
    try {
      yield* answer.events;
    } finally {
      this.release();
    }
  }
}
