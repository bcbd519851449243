/**
 * Quantile by linear interpolation between the closest ranks, as ClickHouse's
 * `quantiles` computes it while its reservoir holds every sample: the embedded store
 * and ClickHouse then report the same numbers for the same requests.
 */
export function interpolatedQuantile(sorted: readonly number[], level: number): number {
  if (sorted.length === 0) return 0;
  const index = Math.max(0, Math.min(sorted.length - 1, level * (sorted.length - 1)));
  const lower = Math.floor(index);
  const upper = Math.ceil(index);
  const low = sorted[lower];
  return low + (sorted[upper] - low) * (index - lower);
}
