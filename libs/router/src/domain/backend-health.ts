// Remembers which backends keep failing so the router skips them for a while instead of
// paying a timeout on every request. A 429 with Retry-After cools a backend at once.

export interface BackendHealthOptions {
  /** Consecutive failures after which a backend is cooled down. */
  readonly failureThreshold: number;
  readonly cooldownMs: number;
  /** Longest Retry-After we honour, so one odd header cannot park a backend for hours. */
  readonly maxRetryAfterMs: number;
}

export const DEFAULT_BACKEND_HEALTH: BackendHealthOptions = {
  failureThreshold: 3,
  cooldownMs: 30_000,
  maxRetryAfterMs: 300_000,
};

/** Why a backend was cooled down: it asked us to wait, or it failed too often in a row. */
export type CooldownReason = 'retry_after' | 'failures';

/** A cooldown that a failure started. */
export interface Cooldown {
  readonly reason: CooldownReason;
  readonly ms: number;
}

export class BackendHealth {
  private readonly consecutiveFailures = new Map<string, number>();
  private readonly coolUntil = new Map<string, number>();

  constructor(
    private readonly options: BackendHealthOptions = DEFAULT_BACKEND_HEALTH,
    private readonly now: () => number = Date.now,
  ) {}

  isCooling(backend: string): boolean {
    const until = this.coolUntil.get(backend);
    return until !== undefined && until > this.now();
  }

  recordSuccess(backend: string): void {
    this.consecutiveFailures.delete(backend);
    this.coolUntil.delete(backend);
  }

  /** Counts a failure; returns the cooldown it started, if it started one. */
  recordFailure(backend: string, retryAfterMs?: number): Cooldown | undefined {
    const failures = (this.consecutiveFailures.get(backend) ?? 0) + 1;
    this.consecutiveFailures.set(backend, failures);
    if (retryAfterMs !== undefined && retryAfterMs > 0) {
      return this.coolFor(
        backend,
        'retry_after',
        Math.min(retryAfterMs, this.options.maxRetryAfterMs),
      );
    }
    if (failures >= this.options.failureThreshold) {
      return this.coolFor(backend, 'failures', this.options.cooldownMs);
    }
    return undefined;
  }

  private coolFor(backend: string, reason: CooldownReason, ms: number): Cooldown | undefined {
    // Failing again while already cooling (the last resort was tried) starts nothing new.
    const wasCooling = this.isCooling(backend);
    const until = this.now() + ms;
    this.coolUntil.set(backend, Math.max(until, this.coolUntil.get(backend) ?? 0));
    return wasCooling ? undefined : { reason, ms };
  }
}
