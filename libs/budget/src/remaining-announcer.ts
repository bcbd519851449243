/** Past this many limits remembered as recently announced, the stale ones are swept. */
const SWEEP_AT = 10_000;

/**
 * Paces the budget state topic's `remaining` announcements: at most one per limit per
 * interval. The first after a quiet spell goes out at once; those that follow within the
 * interval wait, and only the latest of them goes out when it ends, built then from the
 * limit's last balance. A busy user's settlements would otherwise put one message per
 * limit per settled batch on a topic every ingress replica reads (six limits, six
 * messages a call), though each says only how much room is left, which the next one
 * replaces. Transitions never wait: `exhausted` and `recovered` go out through the
 * settler directly and drop any `remaining` waiting for the same limit (`supersede`),
 * so the compacted topic never ends on a stale value. Interval 0: every one at once.
 */
export class RemainingAnnouncer<T> {
  /** When each limit's last `remaining` went out (ms); older than the interval = quiet. */
  private readonly lastSentAt = new Map<string, number>();
  /** The latest waiting per limit, as a builder run when it goes out. */
  private readonly waiting = new Map<string, () => T>();
  private timer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(
    private readonly intervalMs: number,
    private readonly publish: (announcement: T) => void,
    /** Called for each announcement folded into a later one. */
    private readonly onCoalesced: () => void = () => undefined,
    private readonly now: () => number = Date.now,
  ) {}

  /** Announces a limit's room, now or when its interval ends. */
  offer(limitKey: string, build: () => T): void {
    if (this.intervalMs <= 0 || this.closed) {
      this.publish(build());
      return;
    }
    const now = this.now();
    const last = this.lastSentAt.get(limitKey);
    if (last === undefined || now - last >= this.intervalMs) {
      this.waiting.delete(limitKey);
      this.sent(limitKey, now);
      this.publish(build());
      return;
    }
    if (this.waiting.has(limitKey)) this.onCoalesced();
    this.waiting.set(limitKey, build);
    this.timer ??= this.arm();
  }

  /** A transition was announced for the limit: what waited for it is stale. */
  supersede(limitKey: string): void {
    if (this.waiting.delete(limitKey)) this.onCoalesced();
  }

  /** Sends everything waiting (on shutdown, so the topic ends current). */
  flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    const now = this.now();
    const due = [...this.waiting];
    this.waiting.clear();
    for (const [limitKey, build] of due) {
      this.sent(limitKey, now);
      this.publish(build());
    }
  }

  /** Sends what waits and paces no more: settlements during shutdown go out at once. */
  close(): void {
    this.closed = true;
    this.flush();
  }

  get waitingCount(): number {
    return this.waiting.size;
  }

  private arm(): NodeJS.Timeout {
    const timer = setTimeout(() => this.flush(), this.intervalMs);
    // Advisory state: a process on its way out need not wait for it.
    timer.unref();
    return timer;
  }

  private sent(limitKey: string, at: number): void {
    // Re-inserted so the map stays in order of last announcement, oldest first.
    this.lastSentAt.delete(limitKey);
    this.lastSentAt.set(limitKey, at);
    if (this.lastSentAt.size > SWEEP_AT) this.sweep(at);
  }

  // Forgetting a limit quiet for a whole interval changes nothing: it would go out at once.
  private sweep(now: number): void {
    for (const [limitKey, at] of this.lastSentAt) {
      if (now - at < this.intervalMs) return;
      this.lastSentAt.delete(limitKey);
    }
  }
}
