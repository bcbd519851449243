/**
 * For tests: a WAL sync (WalDurablePointOptions.syncWal) that waits until the test lets
 * it end, resolved or failed, so what waits on it can be seen waiting.
 */
export class HeldSyncs {
  private readonly held: { resolve: () => void; reject: (error: unknown) => void }[] = [];
  /** Syncs begun so far. */
  started = 0;
  /** When set, every sync begun from now on resolves at once. */
  passing = false;

  readonly sync = (): Promise<void> => {
    this.started++;
    if (this.passing) return Promise.resolve();
    return new Promise<void>((resolve, reject) => this.held.push({ resolve, reject }));
  };

  get waiting(): number {
    return this.held.length;
  }

  resolveNext(): void {
    this.take().resolve();
  }

  rejectNext(error: unknown): void {
    this.take().reject(error);
  }

  private take() {
    const next = this.held.shift();
    if (!next) throw new Error('no sync is waiting');
    return next;
  }
}
