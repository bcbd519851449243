import type { Balance } from '@aigw/budget-core';

/**
 * The balances a caller's last admitted call was told, by caller and requested model, so
 * an answer reused from the cache or a shared call (admitted without a hold) is told its
 * limits as they stood then, with no store call: a cache hit must stay as cheap as it is.
 * Only routes that reuse answers remember. Bounded, least recently told first out.
 */
export class LastBalances<Limit> {
  private readonly entries = new Map<string, LastTold<Limit>>();

  constructor(private readonly maxEntries = 10_000) {}

  remember(key: string, limits: readonly Limit[], balances: readonly Balance[]): void {
    this.entries.delete(key); // re-inserted last: the Map's order is the recency order
    this.entries.set(key, { limits, balances });
    if (this.entries.size > this.maxEntries) {
      this.entries.delete(this.entries.keys().next().value as string);
    }
  }

  get(key: string): LastTold<Limit> | undefined {
    return this.entries.get(key);
  }
}

export interface LastTold<Limit> {
  readonly limits: readonly Limit[];
  readonly balances: readonly Balance[];
}
