export interface BatcherOptions {
  /** Write as soon as this many items wait. */
  readonly maxItems: number;
  /** Longest an item waits for others before a smaller batch is written; 0 = at once. */
  readonly maxWaitMs: number;
}

/** One `add`: its items, and the answer its caller awaits. */
interface Delivery<T> {
  readonly items: readonly T[];
  readonly done: Promise<void>;
  resolve(): void;
  reject(error: unknown): void;
}

interface OpenBatch<T> {
  readonly items: T[];
  readonly deliveries: Delivery<T>[];
}

/**
 * Deliveries written alone after their shared write failed, with none stored, before the
 * rest are failed untried: the store is down, not refusing one delivery's events.
 */
const ALONE_TRIES_WITHOUT_STORE = 3;

/**
 * Gathers the items of several deliveries into one write, bounded by size and time.
 * `add` resolves only once a write holding its items succeeded, and rejects when it
 * failed: a consumer that awaits it commits nothing that is not stored. A shared write
 * that fails is tried again one delivery at a time, so an event the store refuses fails
 * only its own delivery (the bus then isolates it) and the others' events are stored.
 * Writes run one at a time, so a write never races another over the same event ids.
 */
export class EventBatcher<T> {
  private open: OpenBatch<T> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private writing: Promise<void> = Promise.resolve();

  constructor(
    private readonly write: (items: readonly T[]) => Promise<void>,
    private readonly options: BatcherOptions,
  ) {}

  add(items: readonly T[]): Promise<void> {
    if (items.length === 0) return Promise.resolve();
    const batch = (this.open ??= { items: [], deliveries: [] });
    const delivery = deliveryOf(items);
    batch.items.push(...items);
    batch.deliveries.push(delivery);
    if (batch.items.length >= this.options.maxItems || this.options.maxWaitMs <= 0) this.cut();
    else this.timer ??= setTimeout(() => this.cut(), this.options.maxWaitMs);
    return delivery.done;
  }

  /** Writes whatever waits now and resolves when every write so far has finished. */
  async drain(): Promise<void> {
    this.cut();
    await this.writing;
  }

  private cut(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    const batch = this.open;
    if (!batch) return;
    this.open = undefined;
    // Never rejects: each failure reached its deliveries' waiters.
    this.writing = this.writing.then(() => this.writeBatch(batch));
  }

  private async writeBatch(batch: OpenBatch<T>): Promise<void> {
    try {
      await this.write(batch.items);
    } catch (error) {
      if (batch.deliveries.length === 1) batch.deliveries[0].reject(error);
      else await this.writeEachAlone(batch.deliveries, error);
      return;
    }
    for (const delivery of batch.deliveries) delivery.resolve();
  }

  private async writeEachAlone(deliveries: readonly Delivery<T>[], error: unknown): Promise<void> {
    let lastError = error;
    let failures = 0;
    let stored = false;
    for (const delivery of deliveries) {
      if (!stored && failures >= ALONE_TRIES_WITHOUT_STORE) {
        delivery.reject(lastError);
        continue;
      }
      try {
        await this.write(delivery.items);
        stored = true;
        delivery.resolve();
      } catch (aloneError) {
        failures++;
        lastError = aloneError;
        delivery.reject(aloneError);
      }
    }
  }
}

function deliveryOf<T>(items: readonly T[]): Delivery<T> {
  let resolve!: () => void;
  let reject!: (error: unknown) => void;
  const done = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { items, done, resolve, reject };
}
