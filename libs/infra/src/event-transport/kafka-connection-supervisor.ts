// Reaching Kafka for a bus that may serve without it (`whileUnreachable: 'spool'`): the
// start waits for one quick answer at most `startWaitMs`, so a service listens at once while
// Kafka is down; the tries go on in the background with a doubling backoff until Kafka
// answers, each one reported, so an operator sees a transport that stays down.

/** One try to reach Kafka ended: it answered and the topics are ready, or it did not. */
export type ConnectionAttemptOutcome = 'connected' | 'failed';

export interface ConnectionSupervisorObserver {
  connectionAttempt?(outcome: ConnectionAttemptOutcome, error?: unknown): void;
}

export interface ConnectionSupervisorLogger {
  warn(msg: string, fields?: Record<string, unknown>): void;
}

export interface KafkaConnectionSupervisorOptions {
  /**
   * Whether Kafka answers, tried once (a client without retries of its own, so the
   * supervisor's backoff spaces the tries and each try is counted).
   */
  readonly probe: () => Promise<void>;
  /** Once Kafka answers: create or check the topics. A failure counts as a failed try. */
  readonly prepare: () => Promise<void>;
  /** The longest `start` waits for the first probe; the try goes on in the background. */
  readonly startWaitMs: number;
  readonly retryMinMs: number;
  readonly retryMaxMs: number;
  /** True once the owner closes: no further tries. */
  readonly stopped: () => boolean;
  readonly observer?: ConnectionSupervisorObserver;
  readonly logger?: ConnectionSupervisorLogger;
}

export type SupervisedStart =
  { readonly connected: true } | { readonly connected: false; readonly error: unknown };

const sleep = (ms: number): Promise<void> =>
  new Promise((resolve) => setTimeout(resolve, ms).unref());

/** Settles with `undefined` when `promise` has not settled within `ms`. */
async function within<T>(promise: Promise<T>, ms: number): Promise<{ value: T } | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), ms);
    timer.unref();
  });
  try {
    return await Promise.race([promise.then((value) => ({ value })), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

export class KafkaConnectionSupervisor {
  private attempts = 0;

  constructor(private readonly options: KafkaConnectionSupervisorOptions) {}

  /**
   * The first try, waited for at most `startWaitMs` while Kafka has not answered (once it
   * answers, the topic set-up is waited for as a normal start does). Not connected: the
   * tries go on in the background and `onConnected` runs once one succeeds.
   */
  async start(onConnected: (attempt: number) => void): Promise<SupervisedStart> {
    this.attempts = 1;
    const probing = this.options.probe();
    probing.catch(() => undefined); // settled below or in the background
    let answered: { value: void } | undefined;
    try {
      answered = await within(probing, this.options.startWaitMs);
    } catch (error) {
      this.failed(error);
      void this.keepTrying(undefined, onConnected);
      return { connected: false, error };
    }
    if (answered === undefined) {
      const error = new Error(`Kafka did not answer within ${this.options.startWaitMs} ms`);
      void this.keepTrying(probing, onConnected);
      return { connected: false, error };
    }
    try {
      await this.options.prepare();
    } catch (error) {
      this.failed(error);
      void this.keepTrying(undefined, onConnected);
      return { connected: false, error };
    }
    this.options.observer?.connectionAttempt?.('connected');
    return { connected: true };
  }

  /** Tries with the backoff until Kafka answers and the topics are ready, or the owner stops. */
  private async keepTrying(
    pending: Promise<void> | undefined,
    onConnected: (attempt: number) => void,
  ): Promise<void> {
    let delay = this.options.retryMinMs;
    for (;;) {
      if (pending === undefined) {
        await sleep(delay);
        delay = Math.min(delay * 2, this.options.retryMaxMs);
        if (this.options.stopped()) return;
        this.attempts++;
      }
      try {
        await (pending ?? this.options.probe());
        pending = undefined;
        if (this.options.stopped()) return;
        await this.options.prepare();
      } catch (error) {
        pending = undefined;
        if (this.options.stopped()) return;
        this.failed(error);
        continue;
      }
      if (this.options.stopped()) return;
      this.options.observer?.connectionAttempt?.('connected');
      onConnected(this.attempts);
      return;
    }
  }

  private failed(error: unknown): void {
    this.options.observer?.connectionAttempt?.('failed', error);
    if (this.attempts % 10 === 0) {
      this.options.logger?.warn('Kafka does not answer; events stay in the spool', {
        attempt: this.attempts,
        error,
      });
    }
  }
}
