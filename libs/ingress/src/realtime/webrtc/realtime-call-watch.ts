import {
  realtimeCallAnswered,
  realtimeUsage,
  responseDone,
  type DataPlaneError,
  type RealtimeCallAnswer,
  type RealtimeConnection,
  type RealtimeListener,
  type TokenUsage,
} from '@aigw/contracts/data-plane';
import { addUsage } from '../realtime-accounting';
import { BUDGET_CHECK_INTERVAL_MS, type SessionEnd } from '../realtime-session';
import type { RealtimeLogFields, RealtimeObserver, RealtimeOutcome } from '../realtime-telemetry';

export interface RealtimeCallWatchOptions {
  readonly observer: RealtimeObserver;
  readonly fields: RealtimeLogFields;
  /** The refusal of a spent limit of the caller, if one is spent now (local, no network). */
  readonly spentLimit?: () => DataPlaneError | undefined;
  /** Told once the call is over. */
  readonly finished: (end: SessionEnd) => void;
  readonly checkIntervalMs?: number;
  /** How long a hang-up of its caller's waits for the sideband to close (SIDEBAND_CLOSE_WAIT_MS). */
  readonly closeWaitMs?: number;
}

/**
 * How long a hang-up its caller asked for waits for the sideband's close, the backend's
 * last events before it: past the provider side's own wait for the backend's hang-up (5 s).
 */
const SIDEBAND_CLOSE_WAIT_MS = 6_000;

/** The sideband's close codes of a call that simply ended (its browser hung up). */
const CALL_OVER: ReadonlySet<number> = new Set([1000, 1001]);

/**
 * A WebRTC call as the gateway sees it: its sideband's events, which reach no client (the
 * browser has the media and data channel itself). The provider side's answer comes first;
 * each `response.done` is billed on the way here (as a socket session's) and summed for the
 * session's request. The call is a session as the metrics and request telemetry count
 * them: open from the answer until the sideband closes. A caller's budget spent mid-call
 * ends it as a socket session's would end: closing the connection hangs the call up.
 */
export class RealtimeCallWatch {
  /** The backend's answer, once the provider side sent it. */
  answer?: RealtimeCallAnswer;
  private settleAnswer!: (answer: RealtimeCallAnswer | undefined) => void;
  /**
   * The answer: sent before the connection resolved in one process, after it across the
   * split deployment's hops (their frames follow each upgrade). Undefined when the sideband
   * closed first.
   */
  readonly answered = new Promise<RealtimeCallAnswer | undefined>(
    (resolve) => (this.settleAnswer = resolve),
  );
  private connection?: RealtimeConnection;
  private closedEarly?: number;
  private outcome?: RealtimeOutcome;
  private usage?: TokenUsage;
  private refusal?: DataPlaneError;
  private timer?: NodeJS.Timeout;
  private finished = false;
  private settleOver!: () => void;
  /** Settled once the call is over and reported (its usage summed, `finished` told). */
  readonly over = new Promise<void>((resolve) => (this.settleOver = resolve));

  constructor(private readonly options: RealtimeCallWatchOptions) {}

  readonly listener: RealtimeListener = {
    frame: (frame) => {
      if (!this.answer) {
        const answer = realtimeCallAnswered(frame);
        if (answer) {
          this.answer = answer;
          this.settleAnswer(answer);
          return;
        }
      }
      const done = responseDone(frame);
      const usage = done && realtimeUsage(done);
      if (!usage) return;
      this.usage = addUsage(this.usage, usage);
      if (this.connection) this.checkBudget();
    },
    closed: (code) => {
      this.settleAnswer(undefined);
      // A hang-up waits for this: the backend's events before it are the call's last.
      if (this.outcome) return this.finish();
      if (!this.connection) {
        this.closedEarly = code;
        return;
      }
      this.onSidebandClosed(code);
    },
  };

  /** The call was answered and its sideband is open: watch it from now on. */
  attach(connection: RealtimeConnection): void {
    this.connection = connection;
    this.options.observer.opened(this.options.fields);
    if (this.closedEarly !== undefined) return this.onSidebandClosed(this.closedEarly);
    if (this.checkBudget() || !this.options.spentLimit) return;
    this.timer = setInterval(
      () => this.checkBudget(),
      this.options.checkIntervalMs ?? BUDGET_CHECK_INTERVAL_MS,
    );
    this.timer.unref();
  }

  /**
   * The gateway is stopping: nothing would bill the call any more, so it is hung up. One
   * its caller hung up and still waiting for the sideband's close is over now, as hung up:
   * reported later, its end would come after the calls' directory closed (its record left).
   */
  shutdown(): void {
    if (this.outcome) return this.finish();
    this.end('shutdown', 1001, 'gateway shutting down');
  }

  /**
   * Its caller hung it up (`POST /v1/realtime/calls/{id}/hangup`): the call is over once
   * the sideband closed behind the backend's hang-up, so the responses it reported last
   * are summed too (or once SIDEBAND_CLOSE_WAIT_MS passed). A call already over stays so.
   */
  hangUp(): Promise<void> {
    this.end('hung_up', 1000, 'hung up by its caller', true);
    return this.over;
  }

  /** Hangs the call up when the caller's budget is spent; true when it did. */
  private checkBudget(): boolean {
    if (this.outcome) return true;
    const refusal = this.options.spentLimit?.();
    if (!refusal) return false;
    this.refusal = refusal;
    this.end('budget_exceeded', 1008, 'budget exceeded');
    return true;
  }

  private onSidebandClosed(code: number): void {
    this.end(CALL_OVER.has(code) ? 'call_ended' : 'upstream_closed');
  }

  /**
   * Ends the call once (hung up unless the backend ended it); the first reason is the
   * outcome. Reported at once, or, `untilClosed`, once the sideband closed.
   */
  private end(outcome: RealtimeOutcome, code = 1000, reason = '', untilClosed = false): void {
    if (this.outcome) return;
    this.outcome = outcome;
    clearInterval(this.timer);
    this.connection?.close(code, reason);
    if (!untilClosed || this.closedEarly !== undefined) return this.finish();
    this.timer = setTimeout(
      () => this.finish(),
      this.options.closeWaitMs ?? SIDEBAND_CLOSE_WAIT_MS,
    );
    this.timer.unref();
  }

  /** Reports the call's end once: its outcome, and the usage summed by then. */
  private finish(): void {
    if (this.finished || !this.outcome) return;
    this.finished = true;
    clearTimeout(this.timer);
    const outcome = this.outcome;
    this.options.observer.ended(outcome, this.options.fields);
    this.options.observer.callEnded?.(outcome);
    this.options.finished({ outcome, usage: this.usage, refusal: this.refusal });
    this.settleOver();
  }
}
