import { DataPlaneError, DataPlaneErrorCode } from '@aigw/contracts/data-plane';
import { positiveInteger, type Env } from './service-settings';
import { StartupError } from './listen';

/** How long a stopping process lets model calls run before it ends them itself. */
export const DRAIN_TIMEOUT_SETTING = 'AI_GATEWAY_DRAIN_TIMEOUT_MS';

/**
 * 310 s: the Kubernetes manifests' terminationGracePeriodSeconds (330) less their preStop
 * sleep (5, before SIGTERM), less 15 s for the cut answers to go out and the events to be
 * written before the kubelet's SIGKILL. deploy-manifests.spec.ts checks the manifests agree.
 */
export const DEFAULT_DRAIN_TIMEOUT_MS = 310_000;

/** AI_GATEWAY_DRAIN_TIMEOUT_MS, checked: a bad value is a one-line start-up error. */
export function drainTimeoutMs(env: Env): number {
  try {
    return positiveInteger(env, DRAIN_TIMEOUT_SETTING, DEFAULT_DRAIN_TIMEOUT_MS);
  } catch (error) {
    throw new StartupError((error as Error).message);
  }
}

/** A model call the deadline ends: cut once, when the deadline passes while it runs. */
export abstract class DrainBoundCall {
  /** Its place among the calls running (`DrainDeadline.track`), -1 when not tracked. */
  drainSlot = -1;
  abstract cut(error: DataPlaneError): void;
}

/**
 * The end of a stop's drain. A failover chain may outlast the pod's grace period (three
 * backends timing out in turn is 3 × requestTimeout), and the kubelet's SIGKILL would then
 * reset the client's connection. From `begin` (the stop) the process has `timeoutMs`; at
 * the deadline `signal` aborts with `error`, and each call still running (`track`) is cut
 * with it, which ends it with an answer of the API's own (a 503, or a stream's error event).
 */
export class DrainDeadline {
  readonly signal: AbortSignal;
  readonly error: DataPlaneError;
  private readonly controller = new AbortController();
  private timer: NodeJS.Timeout | undefined;
  /**
   * The calls running now, each knowing its slot: tracking one is a push, letting it go a
   * swap with the last, so a call costs no more however many run. Walked once, at the
   * deadline (why not a signal per call derived from this one: BoundedCall).
   */
  private readonly running: DrainBoundCall[] = [];

  constructor(readonly timeoutMs: number) {
    this.signal = this.controller.signal;
    this.error = new DataPlaneError(
      DataPlaneErrorCode.NoBackendAvailable,
      `this gateway instance is shutting down and ended the request at its drain deadline (${DRAIN_TIMEOUT_SETTING}, ${timeoutMs} ms); retry it`,
      // Another replica takes the retry at once.
      { retryAfterMs: 1_000 },
    );
  }

  /** Whether the deadline has passed: no model call starts or goes on after it. */
  get passed(): boolean {
    return this.controller.signal.aborted;
  }

  /** Whether a stop has begun the countdown (or the deadline has passed). */
  get begun(): boolean {
    return this.timer !== undefined || this.passed;
  }

  /** Starts the countdown (once; a second stop signal does not move the deadline). */
  begin(): void {
    if (this.timer || this.passed) return;
    this.timer = setTimeout(this.pass, this.timeoutMs);
    // The answers in flight hold the process; the countdown alone must not.
    this.timer.unref();
  }

  /** Passes the deadline now (an operator's repeated stop signal); once, as the timer would. */
  cutNow(): void {
    if (this.passed) return;
    clearTimeout(this.timer);
    this.pass();
  }

  /** Stops the countdown once everything has drained. */
  end(): void {
    clearTimeout(this.timer);
  }

  /** How many calls the deadline would cut now. */
  get runningCalls(): number {
    return this.running.length;
  }

  /** A call that runs from now until `untrack`; cut at the deadline. */
  track(call: DrainBoundCall): void {
    if (call.drainSlot !== -1) return;
    call.drainSlot = this.running.length;
    this.running.push(call);
  }

  untrack(call: DrainBoundCall): void {
    const slot = call.drainSlot;
    if (slot === -1) return;
    call.drainSlot = -1;
    const last = this.running.pop()!;
    if (last !== call) {
      this.running[slot] = last;
      last.drainSlot = slot;
    }
  }

  private readonly pass = (): void => {
    // First, so each call cut below (and what its abort sets off) sees the deadline passed.
    this.controller.abort(this.error);
    // Taken out first: a cut call lets go of its slot, which would move the others.
    const running = this.running.splice(0);
    for (const call of running) call.drainSlot = -1;
    for (const call of running) call.cut(this.error);
  };
}
