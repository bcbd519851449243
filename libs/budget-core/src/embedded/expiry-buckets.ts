/**
 * Keys grouped by the time after which they may be dropped. Keys of one window share
 * that time, so there are few groups, and taking the due keys visits only those.
 */
export class ExpiryBuckets {
  private readonly buckets = new Map<number, string[]>(); // expires at -> keys

  add(key: string, expiresAt: number): void {
    const bucket = this.buckets.get(expiresAt);
    if (bucket) bucket.push(key);
    else this.buckets.set(expiresAt, [key]);
  }

  /** Removes and returns every key whose time is before `now`. */
  takeDue(now: number): string[] {
    const due: string[] = [];
    for (const [expiresAt, keys] of this.buckets) {
      if (expiresAt >= now) continue;
      this.buckets.delete(expiresAt);
      for (const key of keys) due.push(key);
    }
    return due;
  }
}
