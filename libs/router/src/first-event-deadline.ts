import {
  backendSilence,
  type BackendSilence,
  type GatewayAnswer,
} from '@aigw/contracts/data-plane';
import type { StreamAttemptSignal } from './stream-attempt-signal';

/**
 * A stream attempt's first-byte timeout, one timer from the call's start to its first
 * event: the backend's headers (a token fetch, a stalled error body) and the wait for the
 * first event share it, rather than each getting the whole of it.
 */
export class FirstEventDeadline {
  /** Also the reason the attempt's call is cancelled with: the backend's timeout. */
  readonly error: BackendSilence;
  /** Rejects with `error` once the time is up; never settles otherwise. */
  readonly expired: Promise<never>;
  private timer: NodeJS.Timeout | undefined;

  /**
   * `graceMs` past `ms` before the router gives up itself: a provider across a hop times the
   * backend against `ms` too, and its report of the timeout should reach the router first.
   */
  constructor(
    readonly ms: number,
    backendName: string,
    graceMs = 0,
  ) {
    this.error = backendSilence(backendName, ms);
    this.expired = new Promise<never>((_, reject) => {
      this.timer = setTimeout(() => reject(this.error), ms + graceMs);
    });
    // Raced only while the attempt waits; a rejection no one awaits is no crash.
    this.expired.catch(() => undefined);
  }

  /**
   * The provider's answer, or the timeout when it comes first: then the call is cancelled
   * (its adapter lets go of the connection) and a stream that still starts is closed.
   */
  async answer(
    invoked: Promise<GatewayAnswer>,
    attempt: StreamAttemptSignal | undefined,
  ): Promise<GatewayAnswer> {
    try {
      return await Promise.race([invoked, this.expired]);
    } catch (error) {
      if (error === this.error) {
        attempt?.abandon(error);
        invoked.then(
          (late) =>
            late.kind === 'stream'
              ? void late.events[Symbol.asyncIterator]().return?.()
              : undefined,
          () => undefined,
        );
      }
      throw error;
    }
  }

  /** The first event came, or the attempt ended: the timer goes. */
  clear(): void {
    clearTimeout(this.timer);
  }
}
