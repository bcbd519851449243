import type Redis from 'ioredis';
import type { FlightEvent } from './domain/flight';
import { aliveEntry, brokenEntry, eventsEntry } from './flight-stream-entries';

export interface FlightStreamWriterOptions {
  readonly stream: string;
  /** How long the stream stays after its last write. */
  readonly keepMs: number;
  /** Frees the flight's lock once the stream is marked broken (the next caller leads). */
  readonly release: () => Promise<void>;
  readonly onError?: (what: string, error: unknown) => void;
}

/**
 * A leader's side of its flight's Redis Stream: the events of each tick in one numbered
 * entry, and heartbeats naming the last batch sent. A write that failed may still have
 * reached Redis (its reply timed out: Redis slow, or this process stalled), so writing goes
 * on and the numbers tell: a follower that meets a later batch, or a beat naming a batch
 * it has not read, knows of the hole and fails with a clear error instead of reading an
 * answer with chunks missing. Once the call ended with a write failed, the `x` mark goes
 * last (a follower that read the whole answer has stopped before it) and the lock is
 * freed. Callers on the leader's own replica read the flight in memory, whole.
 */
export class FlightStreamWriter {
  private pending: string[] = [];
  private scheduled = false;
  private seq = 0;
  private broken = false;
  private marked = false;
  private marking?: Promise<void>;
  /** The last events write, awaited before the leader's end is judged. */
  private lastWrite: Promise<void> = Promise.resolve();

  constructor(
    private readonly redis: Redis,
    private readonly options: FlightStreamWriterOptions,
  ) {}

  /** Whether some events never reached Redis. */
  get isBroken(): boolean {
    return this.broken;
  }

  /** The first entry: followers know the leader is alive, and whether to keep the answer. */
  start(retained: boolean): void {
    void this.write(aliveEntry(retained));
  }

  beat(): void {
    void this.write(aliveEntry(true, this.seq));
  }

  append(event: FlightEvent): void {
    this.pending.push(JSON.stringify(event));
    if (!this.scheduled) {
      this.scheduled = true;
      // Everything appended in one tick travels in one entry.
      setImmediate(() => this.writePending());
    }
  }

  /**
   * At the call's end: writes what is pending, resolves once every write so far has
   * succeeded or failed, and marks the stream broken if one failed.
   */
  async flush(): Promise<void> {
    this.writePending();
    await this.lastWrite;
    if (this.broken) await this.markBroken();
  }

  private writePending(): void {
    this.scheduled = false;
    if (this.pending.length > 0) {
      const entry = eventsEntry(++this.seq, this.pending);
      this.lastWrite = this.write(entry).then((written) => {
        if (!written) this.broken = true;
      });
    }
    this.pending = [];
  }

  private markBroken(): Promise<void> {
    if (this.marked) return Promise.resolve();
    this.marking ??= this.write(brokenEntry())
      .then(async (written) => {
        if (!written) return;
        this.marked = true;
        await this.options.release();
      })
      .finally(() => (this.marking = undefined));
    return this.marking;
  }

  /** Resolves true once Redis took the entry, false when it did not (never rejects). */
  private async write(fields: string[]): Promise<boolean> {
    const { stream, keepMs } = this.options;
    try {
      const replies = await this.redis
        .multi()
        .xadd(stream, '*', ...fields)
        .pexpire(stream, keepMs)
        .exec();
      const failed = replies?.find(([error]) => error)?.[0];
      if (failed) throw failed;
      return true;
    } catch (error) {
      this.options.onError?.('dedup publish', error);
      return false;
    }
  }
}
