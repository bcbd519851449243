import type { LatencyRow, UsageReport, UsageTotals } from './analytics.types';

/**
 * Significant digits the analytics API gives its sums of non-whole numbers (dollars,
 * weighted tokens) and its latencies in. Both stores add floats, in different orders:
 * ClickHouse its rollup rows (themselves sums, merged in any order), SQLite each raw row;
 * the same events then came out as 0.3219174999999999 from one and 0.3219175 from the
 * other, and a total by hour apart from the same total by day. The orders' differences
 * stay far below the 12th digit (about 1e-16 relative per addition), so rounding there
 * gives both stores, and every bucket size, one answer: to the cent below $10^10.
 */
export const ANSWER_SIGNIFICANT_DIGITS = 12;

/** `value` to ANSWER_SIGNIFICANT_DIGITS significant digits. */
export function answerNumber(value: number): number {
  if (value === 0 || !Number.isFinite(value)) return value;
  return Number(value.toPrecision(ANSWER_SIGNIFICANT_DIGITS));
}

/** Totals (or a row holding them) with their dollars and weighted tokens rounded. */
export function answerTotals<T extends UsageTotals>(totals: T): T {
  return {
    ...totals,
    costDollars: answerNumber(totals.costDollars),
    weightedTokens: answerNumber(totals.weightedTokens),
  };
}

/** A usage report as answered: each point and the totals (summed before rounding) rounded. */
export function answerReport(report: UsageReport): UsageReport {
  return { series: report.series.map(answerTotals), totals: answerTotals(report.totals) };
}

/** A latency row with its mean and percentiles rounded. */
export function answerLatency(row: LatencyRow): LatencyRow {
  return {
    ...row,
    meanMs: answerNumber(row.meanMs),
    p50Ms: answerNumber(row.p50Ms),
    p90Ms: answerNumber(row.p90Ms),
    p95Ms: answerNumber(row.p95Ms),
    p99Ms: answerNumber(row.p99Ms),
  };
}
