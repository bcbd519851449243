// Remembers which backends keep failing so the router skips them for a while instead of
// paying a timeout on every request. A 429 with Retry-After cools a backend at once.
// An operator may end a cooldown (reset) or take a backend out of rotation (drain); both
// live in this process only, so a restart or another replica knows nothing of them.
import type { FailoverTrigger } from '@aigw/contracts/data-plane';

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

/** What started a backend's current cooldown. */
interface CooldownCause {
  readonly since: number;
  readonly reason: CooldownReason;
  readonly trigger?: FailoverTrigger;
  /** The Retry-After the backend sent, when that is what cooled it (before the cap). */
  readonly retryAfterMs?: number;
}

/** Who drained a backend, and when; as the operator said it. */
export interface DrainNote {
  readonly operator?: string;
  readonly reason?: string;
}

/** One backend's health as an operator reads it; times are epoch milliseconds. */
export interface BackendHealthSnapshot {
  /** `drained` wins over `cooling`: an operator's drain outlasts any cooldown. */
  readonly state: 'available' | 'cooling' | 'drained';
  readonly cooling?: CooldownCause & { readonly until: number };
  readonly drained?: DrainNote & { readonly since: number };
  readonly consecutiveFailures: number;
  readonly lastFailure?: { readonly at: number; readonly trigger?: FailoverTrigger };
}

export class BackendHealth {
  private readonly consecutiveFailures = new Map<string, number>();
  /** Streams broken off after they started, in a row: apart, as each began with a success. */
  private readonly brokenStreams = new Map<string, number>();
  private readonly coolUntil = new Map<string, number>();
  private readonly cooledBy = new Map<string, CooldownCause>();
  private readonly lastFailure = new Map<string, { at: number; trigger?: FailoverTrigger }>();
  private readonly drained = new Map<string, DrainNote & { since: number }>();
  /** Backends whose cooldown ended and whose one trial call is under way. */
  private readonly onTrial = new Map<string, object>();

  constructor(
    private readonly options: BackendHealthOptions = DEFAULT_BACKEND_HEALTH,
    private readonly now: () => number = Date.now,
  ) {}

  isCooling(backend: string): boolean {
    const until = this.coolUntil.get(backend);
    return until !== undefined && until > this.now();
  }

  /** Cooling or drained: called only when the backends in rotation failed. */
  isOutOfRotation(backend: string): boolean {
    return (this.drained.size > 0 && this.drained.has(backend)) || this.isCooling(backend);
  }

  /**
   * Whether another call is trying this backend after its cooldown ended: until that call
   * ends, the others put it last, rather than all waiting on a backend that may still fail.
   */
  isOnTrial(backend: string): boolean {
    return this.onTrial.size > 0 && this.onTrial.has(backend);
  }

  /**
   * A call to `backend` starts. The first one after a cooldown ended (no success since) is
   * its trial; the returned function, called when that call ends however it ends, lets the
   * backend back into everyone's order (a failure has cooled it again by then).
   */
  startCall(backend: string): (() => void) | undefined {
    if (!this.coolUntil.has(backend) || this.isCooling(backend) || this.onTrial.has(backend)) {
      return undefined;
    }
    // Ends this trial only: a reset may have ended it, and another begun since.
    const trial = {};
    this.onTrial.set(backend, trial);
    return () => {
      if (this.onTrial.get(backend) === trial) this.onTrial.delete(backend);
    };
  }

  /** The health clock: when a call starts, for `recordSuccess`. */
  time(): number {
    return this.now();
  }

  /**
   * A call answered. One that started before the backend's current cooldown began (a long
   * generation sent before the 429) says nothing of the backend now: it leaves the cooldown
   * and the failures as they are. Without `startedAt` every success counts.
   */
  recordSuccess(backend: string, startedAt?: number): void {
    if (startedAt !== undefined && this.isCooling(backend)) {
      const since = this.cooledBy.get(backend)?.since;
      if (since !== undefined && startedAt < since) return;
    }
    this.consecutiveFailures.delete(backend);
    this.coolUntil.delete(backend);
  }

  /** Counts a failure; returns the cooldown it started, if it started one. */
  recordFailure(
    backend: string,
    retryAfterMs?: number,
    trigger?: FailoverTrigger,
  ): Cooldown | undefined {
    const failures = (this.consecutiveFailures.get(backend) ?? 0) + 1;
    this.consecutiveFailures.set(backend, failures);
    this.lastFailure.set(backend, { at: this.now(), trigger });
    if (retryAfterMs !== undefined && retryAfterMs > 0) {
      return this.coolFor(
        backend,
        { reason: 'retry_after', trigger, retryAfterMs },
        Math.min(retryAfterMs, this.options.maxRetryAfterMs),
      );
    }
    if (failures >= this.options.failureThreshold) {
      return this.coolFor(backend, { reason: 'failures', trigger }, this.options.cooldownMs);
    }
    return undefined;
  }

  /**
   * A stream the backend broke off, or let stall, after its first event. The first event
   * counted as a success, so these are counted apart: as many in a row as the failure
   * threshold cool the backend down as failures would (the client already got an error,
   * and no failover can help it; the next streams go elsewhere). Returns that cooldown.
   */
  recordBrokenStream(backend: string): Cooldown | undefined {
    const broken = (this.brokenStreams.get(backend) ?? 0) + 1;
    this.lastFailure.set(backend, { at: this.now(), trigger: 'error' });
    if (broken < this.options.failureThreshold) {
      this.brokenStreams.set(backend, broken);
      return undefined;
    }
    this.brokenStreams.delete(backend);
    return this.coolFor(backend, { reason: 'failures', trigger: 'error' }, this.options.cooldownMs);
  }

  /** A stream the backend finished: its broken streams are no longer in a row. */
  recordFinishedStream(backend: string): void {
    if (this.brokenStreams.size > 0) this.brokenStreams.delete(backend);
  }

  /** Ends a backend's cooldown (and a trial after one) and drain, and forgets its failures in a row. */
  reset(backend: string): void {
    this.consecutiveFailures.delete(backend);
    this.brokenStreams.delete(backend);
    this.coolUntil.delete(backend);
    this.cooledBy.delete(backend);
    this.drained.delete(backend);
    this.onTrial.delete(backend);
  }

  /**
   * Forgets a backend's failures and cooldown, but not a drain (the operator's own act on
   * the name): its name now stands for another upstream, whose health is not known yet.
   */
  forgetFailures(backend: string): void {
    const drain = this.drained.get(backend);
    this.reset(backend);
    this.lastFailure.delete(backend);
    if (drain) this.drained.set(backend, drain);
  }

  /** Takes a backend out of rotation until `reset` (a last resort, as a cooled one). */
  drain(backend: string, note: DrainNote = {}): void {
    this.drained.set(backend, { ...note, since: this.now() });
  }

  /** The backends drained now, for the metrics. */
  drainedBackends(): string[] {
    return [...this.drained.keys()];
  }

  snapshot(backend: string): BackendHealthSnapshot {
    const until = this.coolUntil.get(backend);
    const cause = this.cooledBy.get(backend);
    const cooling =
      until !== undefined && until > this.now() && cause ? { ...cause, until } : undefined;
    const drained = this.drained.get(backend);
    const lastFailure = this.lastFailure.get(backend);
    return {
      state: drained ? 'drained' : cooling ? 'cooling' : 'available',
      ...(cooling ? { cooling } : {}),
      ...(drained ? { drained } : {}),
      consecutiveFailures: this.consecutiveFailures.get(backend) ?? 0,
      ...(lastFailure ? { lastFailure } : {}),
    };
  }

  private coolFor(
    backend: string,
    cause: Omit<CooldownCause, 'since'>,
    ms: number,
  ): Cooldown | undefined {
    // Failing again while already cooling (the last resort was tried) starts nothing new.
    const wasCooling = this.isCooling(backend);
    const until = this.now() + ms;
    this.coolUntil.set(backend, Math.max(until, this.coolUntil.get(backend) ?? 0));
    if (wasCooling) return undefined;
    this.cooledBy.set(backend, { ...cause, since: this.now() });
    return { reason: cause.reason, ms };
  }
}
