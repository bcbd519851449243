// The usage page's budgets table with more limits than one page of the analytics API: the
// first page shows, and "Show more" adds the rest, a page at a time, until none is left.
// Before, the page showed the API's first 1000 rows and no way to the others.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { until } from '@aigw/testing';
import type { AppProcess } from '@aigw/testing/processes';
import { usagePageLoaded, withChromiumPage } from './chromium-page';
import { chatAs, startUsagePageGateway, type UsagePageGateway } from './usage-page-gateway';

/** One more than the page asks the API for at once. */
const USERS = 101;
const userOf = (i: number) => `more-budgets-${String(i).padStart(3, '0')}`;

describe('usage page budgets past one page', { timeout: 300_000 }, () => {
  let started: UsagePageGateway;
  let gateway: AppProcess;

  before(async () => {
    started = await startUsagePageGateway(
      'more-budgets',
      '  tokenRateLimit:\n    perUser: {requestsPerMinute: 1}\n',
      // Every settlement's room announced at once, so each user's state is stored now.
      { AI_GATEWAY_BUDGET_STATE_INTERVAL_MS: '0' },
    );
    gateway = started.gateway;
    for (let i = 0; i < USERS; i += 1) await chatAs(gateway, userOf(i));
  });

  after(async () => {
    await started?.stop();
  });

  it('shows the first page, then every limit with "Show more"', async () => {
    await until(`${USERS} budget limits stored`, async () => {
      const response = await fetch(`${gateway.baseUrl}/v1/analytics/budgets?limit=10000`);
      const body = (await response.json()) as { rows: unknown[] };
      return body.rows.length === USERS;
    });
    await withChromiumPage(async (page) => {
      await page.goto(`${gateway.baseUrl}/usage`);
      assert.equal(await usagePageLoaded(page), 'ready');
      const rows = page.locator('#budgets tbody tr');
      const more = page.locator('#budgets-more');
      assert.equal(await rows.count(), USERS - 1);
      assert.equal(await more.isVisible(), true);
      await more.click();
      await rows.nth(USERS - 1).waitFor();
      assert.equal(await more.isVisible(), false);
      const keys: (string | null)[] = [];
      for (let i = 0; i < (await rows.count()); i += 1) {
        keys.push(await rows.nth(i).getAttribute('data-key'));
      }
      assert.deepEqual(
        keys,
        Array.from(
          { length: USERS },
          (_, i) => `${userOf(i)}|tokenRateLimit.perUser.requestsPerMinute`,
        ),
      );
    });
  });

  it('says a failed "Show more" failed, and no longer once one works', async () => {
    await withChromiumPage(async (page) => {
      // The first "Show more" fails; the next answers the next page with more to come.
      let asked = 0;
      await page.route('**/v1/analytics/budgets?*cursor=*', async (route) => {
        asked += 1;
        if (asked === 1) {
          await route.fulfill({ status: 503, json: { error: { message: 'store down' } } });
          return;
        }
        const answered = await route.fetch();
        const body = (await answered.json()) as { rows: unknown[] };
        await route.fulfill({ json: { rows: body.rows, nextCursor: 'more-after-this' } });
      });
      await page.goto(`${gateway.baseUrl}/usage`);
      assert.equal(await usagePageLoaded(page), 'ready');
      const rows = page.locator('#budgets tbody tr');
      const more = page.locator('#budgets-more');
      await more.click();
      await until('the failure shown', async () =>
        /failed: store down/.test(await more.innerText()),
      );
      assert.equal(await rows.count(), USERS - 1);
      await more.click();
      await rows.nth(USERS - 1).waitFor();
      assert.equal(await more.isVisible(), true);
      assert.equal(await more.innerText(), 'Show more limits');
    });
  });
});
