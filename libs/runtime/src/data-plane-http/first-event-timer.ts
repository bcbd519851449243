import { backendSilence, type BackendSilence, type JsonObject } from '@aigw/contracts/data-plane';

/** The longest a Node timer waits (2^31 - 1 ms); a longer one would fire at once. */
const MAX_TIMER_MS = 2_147_483_647;

/**
 * A stream call's first-event deadline as the router sent it, timed here from the call's
 * arrival. At it the backend's call is cancelled with the backend's timeout as the reason
 * (so the metering counts `timeout`, as the all-in-one gateway does) and the router is told
 * the timeout over the wire, where its own hang-up would read here as a caller that left.
 */
export class FirstEventTimer {
  /** The call's signal: the router hanging up, or the deadline passing. */
  readonly signal: AbortSignal;
  readonly error: BackendSilence;
  private readonly deadline = new AbortController();
  private readonly timer: NodeJS.Timeout;

  constructor(ms: number, backendName: string, hangUp: AbortSignal) {
    this.error = backendSilence(backendName, ms);
    this.timer = setTimeout(() => this.deadline.abort(this.error), ms);
    this.signal = AbortSignal.any([hangUp, this.deadline.signal]);
  }

  get expired(): boolean {
    return this.deadline.signal.aborted;
  }

  /** The first event came, or the call ended: the timer goes. */
  readonly clear = (): void => clearTimeout(this.timer);

  /** What the call failed with: the backend's timeout once the deadline cut it. */
  failure(error: unknown): unknown {
    return this.expired ? this.error : error;
  }

  /** The stream's events; cut by the deadline before its first, it fails as the timeout. */
  async *events(events: AsyncIterable<JsonObject>): AsyncGenerator<JsonObject> {
    try {
      yield* events;
    } catch (error) {
      throw this.failure(error);
    }
    if (this.expired) throw this.error;
  }
}

/**
 * The timer for a stream call whose router sent its deadline (FIRST_EVENT_MS_HEADER); none
 * for a router that sent none (an older release) or a value that is no whole positive
 * number of milliseconds a timer can wait.
 */
export function firstEventTimer(
  header: string | string[] | undefined,
  backendName: string,
  hangUp: AbortSignal,
): FirstEventTimer | undefined {
  if (typeof header !== 'string' || !/^[1-9]\d{0,9}$/.test(header)) return undefined;
  const ms = Number(header);
  return ms <= MAX_TIMER_MS ? new FirstEventTimer(ms, backendName, hangUp) : undefined;
}
