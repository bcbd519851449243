import type { BudgetLimitKey, BudgetStateRow } from '../domain/analytics.types';
import { AnalyticsQueryError } from '../domain/analytics-query-error';

// A page of the budgets list ends at a limit, and the next page starts after it: the cursor
// names that limit by the list's sort key (budget key, then limit kind), so limits reported
// while an operator pages neither repeat a row nor push one past the page boundary, as an
// offset would. It is opaque to clients (base64url of JSON whose form may change).

/** Longest cursor taken: two keys of 1,024 characters, each up to 4 UTF-8 bytes, encoded. */
const CURSOR = /^[A-Za-z0-9_-]{1,11000}$/;
const KEY_PART = /^[^\u0000-\u001f\u007f]{1,1024}$/;
const INVALID = 'cursor is not one this API answered (take nextCursor as it came)';

export function budgetsCursor(last: BudgetLimitKey): string {
  return Buffer.from(JSON.stringify([last.budgetKey, last.limitKind])).toString('base64url');
}

/** The limit a cursor names; a 400 naming `cursor` for anything this API did not make. */
export function limitAfterCursor(cursor: string): BudgetLimitKey {
  const invalid = new AnalyticsQueryError([{ path: 'cursor', message: INVALID }]);
  if (!CURSOR.test(cursor)) throw invalid;
  let parts: unknown;
  try {
    parts = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw invalid;
  }
  if (!Array.isArray(parts) || parts.length !== 2) throw invalid;
  const [budgetKey, limitKind] = parts as unknown[];
  if (typeof budgetKey !== 'string' || typeof limitKind !== 'string') throw invalid;
  if (!KEY_PART.test(budgetKey) || !KEY_PART.test(limitKind)) throw invalid;
  return { budgetKey, limitKind };
}

/**
 * One page from the rows a store answered for `limit + 1`: the first `limit`, and the
 * cursor of the last of them when there was a row past it (null: nothing more).
 */
export function budgetsPage(
  rows: readonly BudgetStateRow[],
  limit: number,
): { rows: readonly BudgetStateRow[]; nextCursor: string | null } {
  if (rows.length <= limit) return { rows, nextCursor: null };
  const page = rows.slice(0, limit);
  return { rows: page, nextCursor: budgetsCursor(page[page.length - 1]) };
}
