import type { ValidationIssue } from '@aigw/contracts';

/** A query string the API refuses, with every problem named by its parameter. */
export class AnalyticsQueryError extends Error {
  override name = 'AnalyticsQueryError';
  readonly issues: readonly ValidationIssue[];
  constructor(issues: readonly ValidationIssue[]) {
    // Several checks of one field share a message; say it once.
    const unique = [...new Map(issues.map((i) => [`${i.path}\n${i.message}`, i])).values()];
    super(unique.map((i) => i.message).join('; '));
    this.issues = unique;
  }
}

/**
 * Most points (bucket, group) one usage series may hold: `groupBy=user` by hour over a
 * month is users × 744 of them, which no chart shows and a store should not assemble.
 * A store reads one more than this and refuses the query when it gets it.
 */
export const MAX_SERIES_POINTS = 100_000;

/** The 400 for a usage series past `maxPoints`, saying how to ask for fewer. */
export function seriesTooLarge(maxPoints: number): AnalyticsQueryError {
  return new AnalyticsQueryError([
    {
      path: 'groupBy',
      message: `the series would hold more than ${maxPoints} points (buckets × groups): narrow the range from..to, use bucket=day, or filter`,
    },
  ]);
}
