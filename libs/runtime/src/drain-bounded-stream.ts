import type { DataPlaneError, JsonObject } from '@aigw/contracts/data-plane';
import type { DrainDeadline } from './drain-deadline';

/** What a bounded stream needs of the model call it belongs to (BoundedCall). */
export interface StreamedCall {
  readonly drain: DrainDeadline;
  /** The caller's signal: a cut after it aborted is the caller's hang-up, not counted. */
  readonly caller: AbortSignal;
  readonly onCut: (phase: 'streaming') => void;
  /** The stream's first read. */
  reading(): void;
  /** The stream is over: the call lets go of its caller and its place. */
  release(): void;
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
export class BoundedStream implements AsyncIterableIterator<JsonObject> {
  private iterator: AsyncIterator<JsonObject> | undefined;
  private over = false;
  /** Rejects the wait under way, while a stop is under way. */
  private rejectWait: ((error: DataPlaneError) => void) | undefined;

  constructor(
    private readonly events: AsyncIterable<JsonObject>,
    private readonly call: StreamedCall,
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
