import { existsSync } from 'node:fs';

/**
 * `--catch-up-wait` in milliseconds, or why it is refused. A value that is not a number
 * was read as 0 (no wait), so a typo turned a restore's wait off without a word.
 */
export function catchUpWaitMs(given: string): { ms: number } | { error: string } {
  const seconds = given.trim() === '' ? Number.NaN : Number(given);
  if (!Number.isFinite(seconds) || seconds < 0) {
    return { error: `--catch-up-wait: expected a number of seconds >= 0, got '${given}'` };
  }
  return { ms: seconds * 1_000 };
}

/**
 * Why the embedded event log at `path` cannot be rebuilt from, or undefined when it can.
 * Opening a missing file creates an empty log (and its directory's budget.db beside it), so
 * a mistyped `--data-dir` or `--events-file` was reported as "0 mismatches", exit 0, and
 * left empty databases behind.
 */
export function missingEventLog(path: string): string | undefined {
  if (existsSync(path)) return undefined;
  return `no event log at ${path}: give the embedded gateway's data directory (--data-dir, or AI_GATEWAY_DATA_DIR) and its log's file name (--events-file); nothing was read or written`;
}
