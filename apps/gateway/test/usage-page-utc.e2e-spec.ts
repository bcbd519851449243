// The usage page in a browser west of UTC: the API's buckets are UTC hours and days, and
// the page says so ("per day (UTC)"), so the charts must label each bucket with its UTC
// time, not the browser's (in New York a day starting 00:00 UTC is 19:00 the day before).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { until } from '@aigw/testing';
import type { AppProcess } from '@aigw/testing/processes';
import { usagePageLoaded, withChromiumPage } from './chromium-page';
import { chatAs, startUsagePageGateway, type UsagePageGateway } from './usage-page-gateway';

const USER = 'utc-chart-user-s33';

describe('usage page charts in UTC', { timeout: 180_000 }, () => {
  let started: UsagePageGateway;
  let gateway: AppProcess;

  before(async () => {
    started = await startUsagePageGateway(
      'utc',
      '  costControl:\n    modelPricing:\n      gpt-4o-mini: {inputPer1k: 0.15, outputPer1k: 0.6}\n',
    );
    gateway = started.gateway;
    await chatAs(gateway, USER);
  });

  after(async () => {
    await started?.stop();
  });

  it('labels a daily bucket with its UTC day in a browser in New York', async () => {
    const params = new URLSearchParams({ range: '30d', bucket: 'day' });
    // The UTC day the call's usage is bucketed in, as the API answers it.
    let day = '';
    await until(`${USER}'s usage in the analytics store`, async () => {
      const query = new URLSearchParams({
        from: new Date(Date.now() - 2 * 86_400_000).toISOString(),
        to: new Date(Date.now() + 86_400_000).toISOString(),
        bucket: 'day',
        groupBy: 'user',
      });
      const response = await fetch(`${gateway.baseUrl}/v1/analytics/usage?${query.toString()}`);
      const body = (await response.json()) as { series: { key: string; bucket: string }[] };
      day = body.series.find((p) => p.key === USER)?.bucket.slice(0, 10) ?? '';
      return day !== '';
    });
    await withChromiumPage(
      async (page) => {
        await page.goto(`${gateway.baseUrl}/usage?${params.toString()}`);
        assert.equal(await usagePageLoaded(page), 'ready');
        // uPlot's legend shows the time under the cursor: hover the only bucket, today's.
        const plot = page.locator('#chart-cost .u-over');
        const box = await plot.boundingBox();
        assert.ok(box, 'the cost chart has a plot area');
        await plot.hover({ position: { x: box.width / 2, y: box.height / 2 } });
        const time = page.locator('#chart-cost .u-legend tr.u-series .u-value').first();
        assert.equal(await time.innerText(), `${day} 12:00am`);
      },
      { timezoneId: 'America/New_York' },
    );
  });

  it('reads a to without an offset as UTC, as the API does, in a browser in New York', async () => {
    await withChromiumPage(
      async (page) => {
        await page.goto(`${gateway.baseUrl}/usage?range=24h&to=2026-12-07T00:00:00`);
        assert.equal(await usagePageLoaded(page), 'ready');
        // 24 hours before that UTC midnight, not before New York's.
        assert.equal(
          await page.locator('#range').innerText(),
          '2026-12-06T00:00:00.000Z – 2026-12-07T00:00:00.000Z, per hour (UTC)',
        );
      },
      { timezoneId: 'America/New_York' },
    );
  });

  it('covers the same whole buckets in every panel: a range starting inside a day counts none of it', async () => {
    // The page's clock 30 days and a minute past the start of today (UTC): its 30-day range
    // starts a minute into today, so the daily usage series leaves today out, as it leaves
    // out every bucket starting before from. The other panels must leave it out too.
    const today = Date.parse(new Date().toISOString().slice(0, 10));
    const day = 86_400_000;
    await withChromiumPage(async (page) => {
      await page.clock.setFixedTime(today + 30 * day + 60_000);
      await page.goto(`${gateway.baseUrl}/usage?range=30d`);
      assert.equal(await usagePageLoaded(page), 'ready');
      assert.equal(await page.locator('#total-requests').innerText(), '0');
      // Latency reads requests by hour: before, from 01:00 today, so it showed the call.
      assert.equal(await page.locator('#latency').innerText(), '–');
      assert.equal(
        await page.locator('#range').innerText(),
        `${new Date(today + day).toISOString()} – ${new Date(today + 31 * day).toISOString()}, per day (UTC)`,
      );
    });
  });
});
