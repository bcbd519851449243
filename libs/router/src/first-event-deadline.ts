import { BackendSilence, type GatewayAnswer } from '@aigw/contracts/data-plane';
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

  constructor(ms: number, backendName: string) {
    this.error = new BackendSilence(`backend "${backendName}" sent no stream data within ${ms} ms`);
    this.expired = new Promise<never>((_, reject) => {
      this.timer = setTimeout(() => reject(this.error), ms);
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
