/** Where a quantile falls among `count` sorted values: two ranks and the weight between. */
export interface QuantileRanks {
  readonly lower: number;
  readonly upper: number;
  readonly fraction: number;
}

/**
 * The ranks (0-based, ascending) whose values `interpolatedQuantile` blends for `level`:
 * a store can read just those values in order instead of every one.
 */
export function quantileRanks(count: number, level: number): QuantileRanks {
  const index = Math.max(0, Math.min(count - 1, level * (count - 1)));
  const lower = Math.floor(index);
  return { lower, upper: Math.ceil(index), fraction: index - lower };
}

/** The quantile from the values at its two ranks (see `quantileRanks`). */
export function quantileAt(ranks: QuantileRanks, valueAt: (rank: number) => number): number {
  const low = valueAt(ranks.lower);
  return low + (valueAt(ranks.upper) - low) * ranks.fraction;
}

/**
 * Quantile by linear interpolation between the closest ranks, as ClickHouse's
 * `quantiles` computes it while its reservoir holds every sample: the embedded store
 * and ClickHouse then report the same numbers for the same requests.
 */
export function interpolatedQuantile(sorted: readonly number[], level: number): number {
  if (sorted.length === 0) return 0;
  return quantileAt(quantileRanks(sorted.length, level), (rank) => sorted[rank]);
}
