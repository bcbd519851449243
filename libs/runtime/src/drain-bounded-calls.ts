import type {
  DataPlaneError,
  GatewayAnswer,
  JsonObject,
  ProviderPort,
  RouterPort,
} from '@aigw/contracts/data-plane';
import { DrainBoundCall, type DrainDeadline } from './drain-deadline';

/** Where a call was when the drain deadline ended it: no answer yet, or mid-stream. */
export type DrainCutPhase = 'waiting' | 'streaming';

/** Told of each call the drain deadline ended (the metric). */
export type DrainCutReport = (phase: DrainCutPhase) => void;

/**
 * The router bounded by the drain deadline: a call runs on a signal that also aborts at the
 * deadline, so no failover attempt or retry delay starts past it and the attempt in flight
 * is cancelled upstream (its adapter settles the usage seen so far); the call then fails
 * with the deadline's 503, and a started stream ends in that error rather than just
 * stopping, which a client would take for a complete answer.
 */
export function drainBoundedRouter(
  router: RouterPort,
  drain: DrainDeadline,
  onCut: DrainCutReport,
): RouterPort {
  return {
    listModels: () => router.listModels(),
    route: (request, signal) =>
      withinDrain(drain, signal, onCut, (bounded) => router.route(request, bounded)),
  };
}

/** The provider calls bounded the same way (the provider-adapter, which has no router). */
export function drainBoundedProviders(
  providers: ProviderPort,
  drain: DrainDeadline,
  onCut: DrainCutReport,
): ProviderPort {
  return {
    invoke: (call) =>
      withinDrain(drain, call.signal, onCut, (bounded) =>
        providers.invoke({ ...call, signal: bounded }),
      ),
  };
}

async function withinDrain(
  drain: DrainDeadline,
  signal: AbortSignal,
  onCut: DrainCutReport,
  call: (bounded: AbortSignal) => Promise<GatewayAnswer>,
): Promise<GatewayAnswer> {
  if (drain.passed) {
    onCut('waiting');
    throw drain.error;
  }
  const bounded = new BoundedCall(drain, signal, onCut);
  let answer: GatewayAnswer;
  try {
    answer = await call(bounded.signal);
  } catch (error) {
    bounded.release();
    // The caller gone first is its hang-up, not the drain's cut.
    if (!drain.passed || signal.aborted) throw error;
    onCut('waiting');
    throw drain.error;
  }
  if (answer.kind !== 'stream') {
    bounded.release();
    return answer;
  }
  return { ...answer, events: bounded.streamed(answer.events) };
}

/**
 * One model call's signal: it aborts when the caller's does (one listener, removed when the
 * call ends) or when the deadline cuts the call. Per call that is a controller, a listener
 * and a slot in the drain's list (about 1 µs, bench/micro/drain-bound.ts), where
 * AbortSignal.any against the drain's long-lived signal cost twice that and left about 110
 * bytes a call on the heap for good (after a full GC).
 */
class BoundedCall extends DrainBoundCall {
  private readonly controller = new AbortController();
  /** A stream handed on and not read yet: a caller that hangs up now may never read it. */
  private unread = false;
  private stream: BoundedStream | undefined;

  constructor(
    readonly drain: DrainDeadline,
    readonly caller: AbortSignal,
    readonly onCut: DrainCutReport,
  ) {
    super();
    if (caller.aborted) this.controller.abort(caller.reason);
    // The call itself is the listener (handleEvent): no closure made per call.
    else caller.addEventListener('abort', this);
    drain.track(this);
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  /** The caller hung up: its abort goes on to the call. */
  handleEvent(): void {
    this.controller.abort(this.caller.reason);
    // Dropped unread (the edge does), it would stay tracked for good; tracked again if read.
    if (this.unread) this.release();
  }

  /** At the deadline: the call in flight is cancelled upstream, a stream's wait ended. */
  cut(error: DataPlaneError): void {
    this.controller.abort(error);
    this.stream?.deadlinePassed();
  }

  streamed(events: AsyncIterable<JsonObject>): AsyncIterableIterator<JsonObject> {
    this.unread = true;
    this.stream = new BoundedStream(events, this);
    return this.stream;
  }

  /** The stream's first read. */
  reading(): void {
    this.unread = false;
    if (!this.drain.passed) this.drain.track(this);
  }

  release(): void {
    this.caller.removeEventListener('abort', this);
    this.drain.untrack(this);
  }
}

const done = (): IteratorResult<JsonObject> => ({ done: true, value: undefined });

/** An iterator's next() that threw rather than rejected, as a rejection. */
const thrown = async (error: unknown): Promise<never> => {
  throw error;
};

/**
 * A stream's events until the deadline, which ends it with the deadline's error. While no
 * stop has begun an event costs one promise (no race); once one has, each wait is also
 * ended at the deadline, as the backend may be slow to notice the abort and the error must
 * reach the client before the pod is killed. A wait already under way when the stop began
 * ends through the abort (a fetch's pending read rejects at once).
 */
class BoundedStream implements AsyncIterableIterator<JsonObject> {
  private iterator: AsyncIterator<JsonObject> | undefined;
  private over = false;
  /** Rejects the wait under way, while a stop is under way. */
  private rejectWait: ((error: DataPlaneError) => void) | undefined;

  constructor(
    private readonly events: AsyncIterable<JsonObject>,
    private readonly call: BoundedCall,
  ) {}

  [Symbol.asyncIterator](): AsyncIterableIterator<JsonObject> {
    return this;
  }

  next(): Promise<IteratorResult<JsonObject>> {
    if (this.over) return Promise.resolve(done());
    if (!this.iterator) {
      this.iterator = this.events[Symbol.asyncIterator]();
      this.call.reading();
    }
    const drain = this.call.drain;
    if (drain.passed) return Promise.reject(this.cutHere());
    let next: Promise<IteratorResult<JsonObject>>;
    try {
      next = this.iterator.next();
    } catch (error) {
      next = thrown(error);
    }
    if (!drain.begun) return next.then(this.came, this.failed);
    return new Promise((resolve, reject) => {
      this.rejectWait = reject;
      const settled = () => {
        if (this.rejectWait === reject) this.rejectWait = undefined;
      };
      next.then(this.came, this.failed).then(
        (result) => {
          settled();
          resolve(result);
        },
        // A DataPlaneError, or what the stream failed with: passed on as it is.
        (error: DataPlaneError) => {
          settled();
          reject(error);
        },
      );
    });
  }

  return(): Promise<IteratorResult<JsonObject>> {
    const iterator = this.iterator;
    if (this.over || !iterator) {
      this.finish();
      return Promise.resolve(done());
    }
    this.finish();
    if (this.call.drain.passed) {
      // Cut: the iterator may still wait on the backend, and its return() would queue behind.
      void iterator.return?.()?.catch(() => undefined);
      return Promise.resolve(done());
    }
    return Promise.resolve(iterator.return?.()).then(done);
  }

  /** The deadline, while a wait is under way (between waits, the next read is cut). */
  deadlinePassed(): void {
    const reject = this.rejectWait;
    this.rejectWait = undefined;
    reject?.(this.cutHere());
  }

  private readonly came = (
    result: IteratorResult<JsonObject>,
  ): IteratorResult<JsonObject> | Promise<IteratorResult<JsonObject>> => {
    // After the deadline even an event or a quiet end is its cut: the client must not take
    // the stream for complete.
    if (this.call.drain.passed) throw this.cutHere();
    if (!result.done) return result;
    this.finish();
    return Promise.resolve(this.iterator!.return?.()).then(done);
  };

  private readonly failed = (error: unknown): Promise<never> => {
    if (this.call.drain.passed) throw this.cutHere();
    this.finish();
    return Promise.resolve(this.iterator!.return?.()).then(() => {
      throw error;
    });
  };

  /** The stream ends here in the deadline's error (counted, unless the caller hung up). */
  private cutHere(): DataPlaneError {
    if (!this.over) {
      this.finish();
      if (!this.call.caller.aborted) this.call.onCut('streaming');
      void this.iterator?.return?.()?.catch(() => undefined);
    }
    return this.call.drain.error;
  }

  private finish(): void {
    if (this.over) return;
    this.over = true;
    this.call.release();
  }
}
