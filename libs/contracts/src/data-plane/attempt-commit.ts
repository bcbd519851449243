import type { StreamCommit } from './data-plane.types';

/**
 * A stream attempt's commit, decided by whoever hands the stream on (the router in
 * process, the provider-adapter's wire server across the hop): kept once its first event
 * came, given up when it failed before. The metered provider waits on it to know whether
 * the attempt's usage settles the request's hold; one waiter at most (its usage record).
 */
export class AttemptCommit implements StreamCommit {
  private kept: boolean | undefined;
  private waiting: ((kept: boolean) => void) | undefined;

  decided(then: (kept: boolean) => void): void {
    if (this.kept === undefined) this.waiting = then;
    else then(this.kept);
  }

  /** The first decision stands (a failure after the commit does not undo it). */
  decide(kept: boolean): void {
    if (this.kept !== undefined) return;
    this.kept = kept;
    const waiting = this.waiting;
    this.waiting = undefined;
    waiting?.(kept);
  }
}
