import type { Balance } from '@aigw/budget-core';
import { BoundedLru } from '../responses/bounded-lru';

/** What a caller's last admitted call was told, held until its first window ends. */
interface LastTold<Limit> {
  readonly limits: readonly Limit[];
  readonly balances: readonly Balance[];
  bytes: number;
  expiresAt: number;
}

interface WindowedLimit {
  readonly windowRef: { readonly endsAt: number };
}

/**
 * The balances a caller's last admitted call was told, by caller and requested model, so
 * an answer reused from the cache or a shared call (admitted without a hold) is told its
 * limits as they stood then, with no store call: a cache hit must stay as cheap as it is.
 * Only routes that reuse answers remember. An entry ends with the first of its windows
 * (balances of an ended window say nothing of the new one); bounded, least recently told
 * first out.
 */
export class LastBalances<Limit extends WindowedLimit> {
  private readonly entries: BoundedLru<LastTold<Limit>>;

  constructor(now: () => number, maxEntries = 10_000) {
    this.entries = new BoundedLru({ maxEntries, maxBytes: Infinity }, () => undefined, now);
  }

  remember(key: string, limits: readonly Limit[], balances: readonly Balance[], now: number): void {
    let expiresAt = Infinity;
    for (const limit of limits) expiresAt = Math.min(expiresAt, limit.windowRef.endsAt);
    this.entries.remove(key);
    this.entries.add(key, { limits, balances, bytes: 0, expiresAt }, now);
  }

  /** What `key` was last told, unless its first window has ended since. */
  get(key: string, now: number): LastTold<Limit> | undefined {
    return this.entries.live(key, now);
  }
}
