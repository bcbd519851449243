import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  BudgetState,
  BudgetUnit,
  createBudgetStateChanged,
  LimitKind,
  type GatewayEvent,
} from '@aigw/contracts';
import type { ServedApp } from '@aigw/runtime';
import type { BudgetStateRow, SpenderRow } from '../domain/analytics.types';
import type { AnalyticsStoreUnderTest } from './analytics-contract';
import { usageEventAt } from './analytics-fixture';
import { getAnalytics, serveAnalytics } from './analytics-server';

const AT = Date.parse('2026-05-04T10:00:00Z');
let sequence = 0;

/** A limit's state as the budget service announces it, each a millisecond after the last. */
function stateOf(budgetKey: string, limitKind: LimitKind, state: BudgetState): GatewayEvent {
  sequence += 1;
  return createBudgetStateChanged(
    {
      requestId: null,
      partitionKey: budgetKey,
      budgetKey,
      limitKind,
      windowId: '2026-05',
      state,
      remaining: state === BudgetState.Exhausted ? 0 : 100 + sequence,
      limit: 1000,
      unit: BudgetUnit.Tokens,
      resetAt: '2026-06-01T00:00:00.000Z',
    },
    { occurredAt: new Date(AT + sequence) },
  );
}

/** A budget key with a quote and a backslash, as a header can name a user. */
const ODD_KEY = "o'brien\\";
const KEYS = ['k-00', 'k-01', 'k-02', 'k-03', 'k-04', 'k-05', 'k-06', ODD_KEY];

function initialStates(): GatewayEvent[] {
  return KEYS.flatMap((key, i) => [
    stateOf(
      key,
      LimitKind.TokenBudgetPerUser,
      i % 3 === 0 ? BudgetState.Remaining : BudgetState.Recovered,
    ),
    stateOf(
      key,
      LimitKind.UserRequestsPerMinute,
      i % 2 === 1 ? BudgetState.Exhausted : BudgetState.Remaining,
    ),
  ]);
}

interface Page {
  readonly rows: BudgetStateRow[];
  readonly nextCursor: string | null;
}

/**
 * Paging and filters of `/v1/analytics/budgets` and `top-spenders?orderBy=user`, run against
 * ClickHouse (int) and the embedded SQLite store (unit): a store with many keys is read in
 * full, page by page, while states and usage keep arriving.
 */
export function describeAnalyticsPaging(
  name: string,
  open: () => Promise<AnalyticsStoreUnderTest>,
): void {
  describe(`pages of budgets and spenders on ${name}`, () => {
    let store: AnalyticsStoreUnderTest;
    let app: ServedApp;
    let base: string;

    const page = async (params: Record<string, string>): Promise<Page> => {
      const response = await getAnalytics(
        `${base}/v1/analytics/budgets?${new URLSearchParams(params).toString()}`,
      );
      assert.equal(response.status, 200, await response.clone().text());
      return (await response.json()) as Page;
    };
    const refusal = async (params: Record<string, string>) => {
      const response = await getAnalytics(
        `${base}/v1/analytics/budgets?${new URLSearchParams(params).toString()}`,
      );
      const body = (await response.json()) as {
        error: { type: string; issues: { path: string }[] };
      };
      return {
        status: response.status,
        type: body.error.type,
        paths: body.error.issues.map((i) => i.path),
      };
    };
    /** Every page of a query, following nextCursor; `between` runs after the first. */
    const everyPage = async (
      params: Record<string, string>,
      between: () => Promise<void> = async () => undefined,
    ): Promise<BudgetStateRow[]> => {
      const rows: BudgetStateRow[] = [];
      let cursor: string | null = null;
      for (let n = 0; n < 100; n += 1) {
        const next: Page = await page(cursor === null ? params : { ...params, cursor });
        rows.push(...next.rows);
        if (n === 0) await between();
        if (next.nextCursor === null) return rows;
        cursor = next.nextCursor;
      }
      throw new Error('no last page after 100');
    };
    const limits = (rows: readonly BudgetStateRow[]) =>
      rows.map((r) => `${r.budgetKey}|${r.limitKind}`);

    before(async () => {
      store = await open();
      await store.writer().write(initialStates());
      ({ app, base } = await serveAnalytics(store.analytics));
    });
    after(async () => {
      await app?.close();
      await store?.close();
    });

    it('says whether more rows follow, and a cursor reads every limit once in order', async () => {
      const all = await page({});
      assert.equal(all.rows.length, 16);
      assert.equal(all.nextCursor, null);
      const first = await page({ limit: '16' });
      assert.equal(first.nextCursor, null);
      const short = await page({ limit: '15' });
      assert.equal(short.rows.length, 15);
      assert.equal(typeof short.nextCursor, 'string');
      const paged = await everyPage({ limit: '3' });
      assert.deepEqual(limits(paged), limits(all.rows));
    });

    it('neither repeats nor skips a limit when states arrive between pages', async () => {
      const before = limits((await page({})).rows);
      const paged = await everyPage({ limit: '5' }, async () => {
        await store.writer().write([
          // Newer states of listed limits, one on either side of the first page's end.
          stateOf('k-00', LimitKind.TokenBudgetPerUser, BudgetState.Exhausted),
          stateOf('k-05', LimitKind.TokenBudgetPerUser, BudgetState.Exhausted),
          // New limits: one sorting before the first page's end, one after it.
          stateOf('k-000', LimitKind.TokenBudgetPerUser, BudgetState.Remaining),
          stateOf('k-99', LimitKind.TokenBudgetPerUser, BudgetState.Remaining),
        ]);
      });
      const expected = [...before, 'k-99|tokenBudget.perUser'].sort();
      assert.deepEqual(limits(paged), expected);
      assert.equal(paged.find((r) => r.budgetKey === 'k-05')?.state, 'exhausted');
    });

    it('filters by budget key, limit and state, bound as values, and pages the filtered rows', async () => {
      const odd = await page({ budgetKey: ODD_KEY });
      assert.deepEqual(limits(odd.rows), [
        `${ODD_KEY}|tokenBudget.perUser`,
        `${ODD_KEY}|tokenRateLimit.perUser.requestsPerMinute`,
      ]);
      const injected = await page({ budgetKey: "k-01' OR '1'='1" });
      assert.deepEqual(injected.rows, []);
      const exhausted = await everyPage({
        state: 'exhausted',
        limitKind: LimitKind.UserRequestsPerMinute,
        limit: '1',
      });
      assert.deepEqual(
        exhausted.map((r) => r.budgetKey),
        ['k-01', 'k-03', 'k-05', ODD_KEY],
      );
      assert.ok(exhausted.every((r) => r.state === 'exhausted'));
    });

    it('pages every spender in user order, usage arriving between pages counted once', async () => {
      const at = new Date('2026-05-04T10:30:00Z');
      const users = [ODD_KEY, 'u-00', 'u-01', 'u-02', 'u-03', 'u-04'];
      await store.writer().write(users.map((user, i) => usageEventAt(at, `spend-${i}`, { user })));
      const range = {
        from: '2026-05-04T00:00:00Z',
        to: '2026-05-05T00:00:00Z',
        orderBy: 'user',
        limit: '2',
      };
      const seen: SpenderRow[] = [];
      let cursor: string | null = null;
      for (let n = 0; n < 10; n += 1) {
        const response = await getAnalytics(
          `${base}/v1/analytics/top-spenders?${new URLSearchParams(cursor === null ? range : { ...range, cursor }).toString()}`,
        );
        assert.equal(response.status, 200, await response.clone().text());
        const body = (await response.json()) as { rows: SpenderRow[]; nextCursor: string | null };
        seen.push(...body.rows);
        if (n === 0) {
          // More usage of a listed user, and of users either side of the page's end.
          await store
            .writer()
            .write([
              usageEventAt(at, 'spend-late-0', { user: 'u-00' }),
              usageEventAt(at, 'spend-late-1', { user: 'n-late' }),
              usageEventAt(at, 'spend-late-3', { user: 'u-000' }),
              usageEventAt(at, 'spend-late-2', { user: 'u-03' }),
            ]);
        }
        if (body.nextCursor === null) break;
        cursor = body.nextCursor;
      }
      assert.deepEqual(
        seen.map((r) => r.user),
        [ODD_KEY, 'u-00', 'u-000', 'u-01', 'u-02', 'u-03', 'u-04'],
      );
      assert.equal(seen.find((r) => r.user === 'u-03')?.requests, 2);
      // The most spent: no cursor, whose place would move as spend arrives.
      const top = await getAnalytics(
        `${base}/v1/analytics/top-spenders?${new URLSearchParams({ ...range, orderBy: 'cost', cursor: cursor ?? '' }).toString()}`,
      );
      assert.equal(top.status, 400);
    });

    it('pages spenders in user order within a route, an operation, or both', async () => {
      const at = new Date('2026-05-06T10:30:00Z');
      const spend = (
        user: string,
        route?: string,
        operation?: string,
        webSearchRequests?: number,
      ) =>
        usageEventAt(at, `filtered-${user}-${route}-${operation}-${webSearchRequests}`, {
          user,
          route,
          operation,
          webSearchRequests,
        });
      await store
        .writer()
        .write([
          spend('p-a', 'main', 'chat', 1),
          spend('p-a', 'embed', 'embeddings'),
          spend('p-b', 'main', 'embeddings', 2),
          spend('p-c', undefined, 'chat', 1),
          spend('p-d', 'main', 'chat', 3),
          spend('p-d', 'main', 'chat'),
          spend('p-e', 'main', undefined, 4),
          spend('p-f', 'embed', 'chat', 5),
        ]);
      /** user:requests:webSearchRequests of every page of a filter, two users a page. */
      const pages = async (filters: Record<string, string>): Promise<string[]> => {
        const params = {
          from: '2026-05-06T00:00:00Z',
          to: '2026-05-07T00:00:00Z',
          orderBy: 'user',
          limit: '2',
          ...filters,
        };
        const seen: string[] = [];
        let cursor: string | null = null;
        for (let n = 0; n < 10; n += 1) {
          const response = await getAnalytics(
            `${base}/v1/analytics/top-spenders?${new URLSearchParams(cursor === null ? params : { ...params, cursor }).toString()}`,
          );
          assert.equal(response.status, 200, await response.clone().text());
          const body = (await response.json()) as { rows: SpenderRow[]; nextCursor: string | null };
          seen.push(...body.rows.map((r) => `${r.user}:${r.requests}:${r.webSearchRequests}`));
          if (body.nextCursor === null) return seen;
          cursor = body.nextCursor;
        }
        throw new Error('no last page after 10');
      };
      assert.deepEqual(await pages({ route: 'main' }), [
        'p-a:1:1',
        'p-b:1:2',
        'p-d:2:3',
        'p-e:1:4',
      ]);
      assert.deepEqual(await pages({ operation: 'chat' }), [
        'p-a:1:1',
        'p-c:1:1',
        'p-d:2:3',
        'p-f:1:5',
      ]);
      assert.deepEqual(await pages({ route: 'main', operation: 'chat' }), ['p-a:1:1', 'p-d:2:3']);
      assert.deepEqual(await pages({ route: 'embed', operation: 'embeddings' }), ['p-a:1:0']);
    });

    it('refuses a cursor it did not make, and a state that is none, with a 400 naming them', async () => {
      const made = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
      for (const cursor of [
        '',
        '!!!',
        'not json',
        made({}),
        made(['a']),
        made(['a', 1]),
        made(['a', 'b', 'c']),
      ]) {
        assert.deepEqual(
          await refusal({ cursor }),
          { status: 400, type: 'invalid_query', paths: ['cursor'] },
          cursor,
        );
      }
      const budgets = await page({ limit: '1' });
      const spenders = await getAnalytics(
        `${base}/v1/analytics/top-spenders?orderBy=user&cursor=${budgets.nextCursor ?? ''}`,
      );
      assert.equal(spenders.status, 400);
      assert.deepEqual(await refusal({ state: 'spent' }), {
        status: 400,
        type: 'invalid_query',
        paths: ['state'],
      });
    });
  });
}
