export interface BatcherOptions {
  /** Write as soon as this many items wait. */
  readonly maxItems: number;
  /** Longest an item waits for others before a smaller batch is written; 0 = at once. */
  readonly maxWaitMs: number;
}

interface OpenBatch<T> {
  readonly items: T[];
  readonly done: Promise<void>;
  resolve(): void;
  reject(error: unknown): void;
}

/**
 * Gathers the items of several deliveries into one write, bounded by size and time.
 * `add` resolves only once the write holding its items succeeded, and rejects when that
 * write failed: a consumer that awaits it commits nothing that is not stored. Writes run
 * one at a time, so a write never races another over the same event ids.
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
    const batch = (this.open ??= openBatch<T>());
    batch.items.push(...items);
    if (batch.items.length >= this.options.maxItems || this.options.maxWaitMs <= 0) this.cut();
    else this.timer ??= setTimeout(() => this.cut(), this.options.maxWaitMs);
    return batch.done;
  }

  /** Writes whatever waits now and resolves when every write so far has finished. */
  async drain(): Promise<void> {
    this.cut();
    await this.writing.catch(() => undefined);
  }

  private cut(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    const batch = this.open;
    if (!batch) return;
    this.open = undefined;
    this.writing = this.writing
      .catch(() => undefined)
      .then(() => this.write(batch.items))
      .then(
        () => batch.resolve(),
        (error: unknown) => {
          batch.reject(error);
          throw error;
        },
      );
    // The failure reached the waiters above; the chain itself must not go unhandled.
    this.writing.catch(() => undefined);
  }
}

function openBatch<T>(): OpenBatch<T> {
  let resolve!: () => void;
  let reject!: (error: unknown) => void;
  const done = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { items: [], done, resolve, reject };
}
