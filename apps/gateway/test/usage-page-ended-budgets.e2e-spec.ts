// The usage page's budgets table lists each limit's newest announced state, however old
// (the analytics API keeps it so). A row whose window has ended is not a limit spent now:
// the page must not show a user whose per-minute limit ran out an hour ago as exhausted.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { until } from '@aigw/testing';
import type { AppProcess } from '@aigw/testing/processes';
import { usagePageLoaded, withChromiumPage } from './chromium-page';
import { chatAs, startUsagePageGateway, type UsagePageGateway } from './usage-page-gateway';

const USER = 'ended-window-user-s33';
const LIMIT = 'tokenRateLimit.perUser.requestsPerMinute';

interface BudgetRow {
  budgetKey: string;
  limitKind: string;
  state: string;
  remaining: number;
  unit: string;
  limit: number;
  resetAt: string;
}

describe('usage page budgets whose window ended', { timeout: 180_000 }, () => {
  let started: UsagePageGateway;
  let gateway: AppProcess;

  before(async () => {
    started = await startUsagePageGateway(
      'ended',
      '  tokenRateLimit:\n    perUser: {requestsPerMinute: 1}\n',
      // Every settlement's room announced at once, so the exhausted state is stored now.
      { AI_GATEWAY_BUDGET_STATE_INTERVAL_MS: '0' },
    );
    gateway = started.gateway;
    await chatAs(gateway, USER);
  });

  after(async () => {
    await started?.stop();
  });

  it('marks the row as an ended window, not a limit spent now', async () => {
    let row: BudgetRow | undefined;
    await until(`${USER}'s exhausted per-minute limit in the budgets`, async () => {
      const response = await fetch(`${gateway.baseUrl}/v1/analytics/budgets`);
      const body = (await response.json()) as { rows: BudgetRow[] };
      row = body.rows.find((b) => b.budgetKey === USER && b.limitKind === LIMIT);
      return row?.state === 'exhausted';
    });
    assert.ok(row);
    const resetAt = Date.parse(row.resetAt);
    const cells = async (at: number): Promise<string[]> => {
      let shown: string[] = [];
      await withChromiumPage(async (page) => {
        // The browser's clock, held still (a load can take seconds): just before the
        // window's end, then an hour past it.
        await page.clock.setFixedTime(at);
        await page.goto(`${gateway.baseUrl}/usage`);
        assert.equal(await usagePageLoaded(page), 'ready');
        const tr = page.locator(`#budgets tbody tr[data-key="${USER}|${LIMIT}"]`);
        shown = await tr.locator('td').allInnerTexts();
      });
      return shown;
    };
    assert.deepEqual(await cells(resetAt - 1_000), [
      USER,
      LIMIT,
      'exhausted',
      `0 ${row.unit}`,
      '1',
      row.resetAt,
    ]);
    assert.deepEqual(await cells(resetAt + 3_600_000), [
      USER,
      LIMIT,
      'window ended (was exhausted)',
      '–',
      '1',
      row.resetAt,
    ]);
  });
});
