// The usage page with AI_GATEWAY_ANALYTICS_TOKEN set: the token rides in the page's URL
// fragment (/usage#token=...), so every way the page offers to move to another range must
// keep it, or the next load asks the API without it and gets a 401.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { AppProcess } from '@aigw/testing/processes';
import { usagePageLoaded, withChromiumPage } from './chromium-page';
import { startUsagePageGateway, type UsagePageGateway } from './usage-page-gateway';

const TOKEN = 'usage-page-token-s33';

describe('usage page behind the analytics token', { timeout: 180_000 }, () => {
  let started: UsagePageGateway;
  let gateway: AppProcess;

  before(async () => {
    started = await startUsagePageGateway('token', '', { AI_GATEWAY_ANALYTICS_TOKEN: TOKEN });
    gateway = started.gateway;
  });

  after(async () => {
    await started?.stop();
  });

  it('keeps the token when a range link is followed', async () => {
    await withChromiumPage(async (page) => {
      const problems: string[] = [];
      page.on('pageerror', (error) => problems.push(error.message));
      await page.goto(`${gateway.baseUrl}/usage#token=${TOKEN}`);
      assert.equal(await usagePageLoaded(page), 'ready');

      for (const range of ['7d', '30d', '24h']) {
        await Promise.all([
          page.waitForURL(`**/usage?range=${range}*`),
          page.click(`nav a:text-is("${linkText(range)}")`),
        ]);
        assert.equal(await usagePageLoaded(page), 'ready', `after the ${range} link`);
        assert.equal(new URL(page.url()).hash, `#token=${TOKEN}`, range);
        assert.match(
          await page.locator('#range').innerText(),
          range === '30d' ? /per day \(UTC\)$/ : /per hour \(UTC\)$/,
        );
      }
      assert.deepEqual(problems, []);
    });
  });

  it("names a proxy's non-JSON error by its status, not by a JSON parse failure", async () => {
    await withChromiumPage(async (page) => {
      // What a reverse proxy in front of the gateway answers when a query outlasts it.
      await page.route('**/v1/analytics/rates?*', (route) =>
        route.fulfill({
          status: 504,
          contentType: 'text/html',
          body: '<html><body><h1>504 Gateway Time-out</h1></body></html>',
        }),
      );
      await page.goto(`${gateway.baseUrl}/usage#token=${TOKEN}`);
      assert.equal(
        await usagePageLoaded(page),
        'Could not load usage: /v1/analytics/rates answered 504 Gateway Timeout',
      );
    });
  });
});

function linkText(range: string): string {
  return { '24h': 'last 24 hours', '7d': 'last 7 days', '30d': 'last 30 days' }[range]!;
}
