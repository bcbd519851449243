import type { BudgetLimitKey, BudgetStateRow, SpenderRow } from '../domain/analytics.types';
import { AnalyticsQueryError } from '../domain/analytics-query-error';

// A page of a list ends at a row, and the next page starts after it: the cursor names that
// row by the list's sort key (a budget limit's budget key and limit kind; a spender's user),
// so rows stored while an operator pages neither repeat a row nor push one past the page
// boundary, as an offset would. It is opaque to clients (base64url of JSON whose form may
// change).

/** Longest cursor taken: two keys of 1,024 characters, each up to 4 UTF-8 bytes, encoded. */
const CURSOR = /^[A-Za-z0-9_-]{1,11000}$/;
const KEY_PART = /^[^\u0000-\u001f\u007f]{0,1024}$/;
const INVALID = 'cursor is not one this API answered for this list (take nextCursor as it came)';

/** A page: its rows, and the cursor of the next (null: nothing more). */
export interface Page<Row> {
  readonly rows: readonly Row[];
  readonly nextCursor: string | null;
}

function cursorOf(parts: readonly string[]): string {
  return Buffer.from(JSON.stringify(parts)).toString('base64url');
}

/** The sort key a cursor names, of `count` parts; a 400 naming `cursor` for any other. */
function partsOf(cursor: string, count: number): string[] {
  const invalid = new AnalyticsQueryError([{ path: 'cursor', message: INVALID }]);
  if (!CURSOR.test(cursor)) throw invalid;
  let parts: unknown;
  try {
    parts = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw invalid;
  }
  if (!Array.isArray(parts) || parts.length !== count) throw invalid;
  if (!parts.every((part) => typeof part === 'string' && KEY_PART.test(part))) throw invalid;
  return parts as string[];
}

/**
 * One page from the rows a store answered for `limit + 1`: the first `limit`, and the
 * cursor of the last of them when there was a row past it.
 */
function pageOf<Row>(
  rows: readonly Row[],
  limit: number,
  keyOf: (row: Row) => readonly string[],
): Page<Row> {
  if (rows.length <= limit) return { rows, nextCursor: null };
  const page = rows.slice(0, limit);
  return { rows: page, nextCursor: cursorOf(keyOf(page[page.length - 1])) };
}

export function budgetsCursor(last: BudgetLimitKey): string {
  return cursorOf([last.budgetKey, last.limitKind]);
}

/** The budget limit a budgets cursor names. */
export function limitAfterCursor(cursor: string): BudgetLimitKey {
  const [budgetKey, limitKind] = partsOf(cursor, 2);
  return { budgetKey, limitKind };
}

export function budgetsPage(rows: readonly BudgetStateRow[], limit: number): Page<BudgetStateRow> {
  return pageOf(rows, limit, (row) => [row.budgetKey, row.limitKind]);
}

/** The user a spenders cursor names. */
export function userAfterCursor(cursor: string): string {
  const [user] = partsOf(cursor, 1);
  return user;
}

export function spendersPage(rows: readonly SpenderRow[], limit: number): Page<SpenderRow> {
  return pageOf(rows, limit, (row) => [row.user]);
}
