import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { BudgetAdjustmentAction, CompletionStatus, createBudgetAdjusted } from '@aigw/contracts';
import type { ServedApp } from '@aigw/runtime';
import {
  bucketStart,
  isoSeconds,
  LATENCY_LEVELS,
  type Bucket,
  type UsageAnalytics,
  type UsageDimension,
  type UsageTotals,
} from '../domain/analytics.types';
import { interpolatedQuantile } from '../domain/percentiles';
import { AnalyticsQueryError } from '../domain/analytics-query-error';
import { UsageSinkConsumer, type UsageEventWriter } from '../usage-sink.consumer';
import {
  ADJUSTMENTS,
  buildWorkload,
  ODD_USER,
  payloadEvents,
  RANGE,
  type ExpectedAdjustment,
  type Workload,
  usageEventAt,
} from './analytics-fixture';
import { getAnalytics, serveAnalytics } from './analytics-server';

export interface AnalyticsStoreUnderTest {
  /** A fresh writer over the same store, as a restarted sink would have. */
  writer(): UsageEventWriter;
  readonly analytics: UsageAnalytics;
  /** Rows stored for usage, completed requests and budget adjustments, once per event id. */
  storedCounts(): Promise<{ usage: number; completed: number; adjustments: number }>;
  close(): Promise<void>;
}

const approx = (actual: number, expected: number, what: string): void =>
  assert.ok(
    Math.abs(actual - expected) <= 1e-9 * Math.max(1, Math.abs(expected)),
    `${what}: ${actual} != ${expected}`,
  );

function expectedTotals(
  workload: Workload,
  pick: (u: Workload['usage'][number]) => boolean,
): UsageTotals {
  const rows = workload.usage.filter(pick);
  return {
    requests: rows.length,
    cacheHits: rows.filter((u) => u.cacheHit).length,
    inputTokens: rows.reduce((a, u) => a + u.inputTokens, 0),
    outputTokens: rows.reduce((a, u) => a + u.outputTokens, 0),
    cachedInputTokens: rows.reduce((a, u) => a + u.cachedInputTokens, 0),
    cacheWriteInputTokens: rows.reduce((a, u) => a + (u.cacheWriteInputTokens ?? 0), 0),
    webSearchRequests: rows.reduce((a, u) => a + (u.webSearchRequests ?? 0), 0),
    costDollars: rows.reduce((a, u) => a + u.costDollars, 0),
    weightedTokens: rows.reduce((a, u) => a + u.weightedTokenCost, 0),
  };
}

function assertTotals(actual: UsageTotals, expected: UsageTotals, what: string): void {
  for (const key of Object.keys(expected) as (keyof UsageTotals)[]) {
    approx(actual[key], expected[key], `${what} ${key}`);
  }
}

const get = getAnalytics;

const bucketOf = (iso: string, bucket: Bucket): string =>
  isoSeconds(bucketStart(Math.floor(Date.parse(iso) / 1000), bucket));

/**
 * The analytics contract, run against ClickHouse (int) and the embedded SQLite store
 * (unit): the same events in, the same numbers out, directly and over HTTP.
 */
/** What the contract builds a store with (a series limit its workload can pass). */
export interface ContractStoreOptions {
  readonly maxSeriesPoints: number;
}

/** Above the fixture's largest series (3 hours × 4 operations), below the test's 45. */
const CONTRACT_MAX_SERIES_POINTS = 40;

export function describeAnalyticsContract(
  name: string,
  open: (options: ContractStoreOptions) => Promise<AnalyticsStoreUnderTest>,
): void {
  describe(`usage analytics on ${name}`, () => {
    const workload = buildWorkload();
    let store: AnalyticsStoreUnderTest;
    let app: ServedApp;
    let base: string;

    before(async () => {
      store = await open({ maxSeriesPoints: CONTRACT_MAX_SERIES_POINTS });
      // Batches of 7, written at once: many inserts, as a busy sink makes them.
      const consumer = new UsageSinkConsumer(store.writer(), { maxItems: 7, maxWaitMs: 0 });
      for (let i = 0; i < workload.events.length; i += 7) {
        await consumer.handle(workload.events.slice(i, i + 7));
      }
      ({ app, base } = await serveAnalytics(store.analytics));
    });
    after(async () => {
      await app?.close();
      await store?.close();
    });

    it('stores one row per event: none lost', async () => {
      assert.deepEqual(await store.storedCounts(), {
        usage: workload.usage.length,
        completed: workload.completed.length,
        adjustments: ADJUSTMENTS.length,
      });
    });

    it('a redelivered batch and a restarted sink store nothing twice', async () => {
      const restarted = new UsageSinkConsumer(store.writer(), { maxItems: 1000, maxWaitMs: 5 });
      // Overlapping redeliveries, one batch holding an event twice, then everything again.
      await restarted.handle(workload.events.slice(10, 40));
      await restarted.handle([...workload.events.slice(0, 20), ...workload.events.slice(0, 20)]);
      await restarted.handle(workload.events);
      assert.deepEqual(await store.storedCounts(), {
        usage: workload.usage.length,
        completed: workload.completed.length,
        adjustments: ADJUSTMENTS.length,
      });
      const report = await store.analytics.usage({
        from: new Date(RANGE.from),
        to: new Date(RANGE.to),
        bucket: 'day',
        groupBy: 'none',
        filters: {},
      });
      assertTotals(
        report.totals,
        expectedTotals(workload, () => true),
        'after redelivery',
      );
    });

    // Each grouping the API offers, keyed by the event field the store must group on.
    type Usage = Workload['usage'][number];
    const dimensions: [UsageDimension, (u: Usage) => string | undefined][] = [
      ['user', (u) => u.userId],
      ['provider', (u) => u.provider],
      ['tier', (u) => u.tier],
      // An older build's event names no operation: its group is ''.
      ['operation', (u) => u.operation ?? ''],
      // Nor a route: its group is '' too.
      ['route', (u) => u.route ?? ''],
    ];
    for (const bucket of ['hour', 'day'] as const) {
      for (const [groupBy, keyOf] of dimensions) {
        it(`tokens and cost per ${bucket} and ${groupBy} match the events`, async () => {
          const report = await store.analytics.usage({
            from: new Date(RANGE.from),
            to: new Date(RANGE.to),
            bucket,
            groupBy,
            filters: {},
          });
          const keys = new Set(
            workload.usage.map((u) => `${bucketOf(u.occurredAt, bucket)}|${keyOf(u)}`),
          );
          // Every (bucket, key) of the events once, none the store made up.
          assert.deepEqual(
            report.series.map((p) => `${p.bucket}|${p.key}`).sort(),
            [...keys].sort(),
            `${groupBy} groups`,
          );
          for (const point of report.series) {
            assertTotals(
              point,
              expectedTotals(
                workload,
                (u) => bucketOf(u.occurredAt, bucket) === point.bucket && keyOf(u) === point.key,
              ),
              `${point.bucket} ${point.key}`,
            );
          }
          assertTotals(
            report.totals,
            expectedTotals(workload, () => true),
            'totals',
          );
        });
      }
    }

    it('filters by model, provider, tier and a user name that needs escaping', async () => {
      const report = await store.analytics.usage({
        from: new Date(RANGE.from),
        to: new Date(RANGE.to),
        bucket: 'day',
        groupBy: 'model',
        filters: { user: ODD_USER, provider: 'openai', tier: 'free' },
      });
      assertTotals(
        report.totals,
        expectedTotals(
          workload,
          (u) => u.userId === ODD_USER && u.provider === 'openai' && u.tier === 'free',
        ),
        'filtered',
      );
      assert.ok(report.totals.requests > 0);
      assert.deepEqual([...new Set(report.series.map((p) => p.key))], ['gpt-4o-mini']);
    });

    it('filters usage and top spenders by operation', async () => {
      const range = { from: new Date(RANGE.from), to: new Date(RANGE.to) };
      const audio = (u: Usage) => u.operation === 'transcriptions';
      assert.ok(workload.usage.some(audio) && !workload.usage.every(audio));
      for (const bucket of ['hour', 'day'] as const) {
        const report = await store.analytics.usage({
          ...range,
          bucket,
          groupBy: 'model',
          filters: { operation: 'transcriptions', user: ODD_USER },
        });
        assertTotals(
          report.totals,
          expectedTotals(workload, (u) => audio(u) && u.userId === ODD_USER),
          `transcriptions by ${bucket}`,
        );
        assert.ok(report.totals.requests > 0);
        const models = new Set(workload.usage.filter(audio).map((u) => u.modelServed));
        assert.ok(report.series.every((p) => models.has(p.key)));
      }
      const spenders = await store.analytics.topSpenders({
        ...range,
        limit: 10,
        orderBy: 'cost',
        filters: { operation: 'embeddings' },
      });
      const embeddings = (u: Usage) => u.operation === 'embeddings';
      const users = [...new Set(workload.usage.filter(embeddings).map((u) => u.userId))];
      assert.deepEqual(spenders.map((r) => r.user).sort(), users.sort());
      for (const row of spenders) {
        assertTotals(
          row,
          expectedTotals(workload, (u) => embeddings(u) && u.userId === row.user),
          `embeddings of ${row.user}`,
        );
      }
    });

    /** Every (bucket, key) of the events `pick` keeps once, each with their totals. */
    const assertSeries = (
      report: { series: readonly (UsageTotals & { bucket: string; key: string })[] },
      bucket: Bucket,
      keyOf: (u: Usage) => string,
      pick: (u: Usage) => boolean,
      what: string,
    ): void => {
      const keys = new Set(
        workload.usage.filter(pick).map((u) => `${bucketOf(u.occurredAt, bucket)}|${keyOf(u)}`),
      );
      assert.deepEqual(
        report.series.map((p) => `${p.bucket}|${p.key}`).sort(),
        [...keys].sort(),
        `${what} groups`,
      );
      for (const point of report.series) {
        assertTotals(
          point,
          expectedTotals(
            workload,
            (u) =>
              pick(u) && bucketOf(u.occurredAt, bucket) === point.bucket && keyOf(u) === point.key,
          ),
          `${what} ${point.bucket} ${point.key}`,
        );
      }
    };

    it('filters usage by route, and by route with operation, either grouping the other', async () => {
      const range = { from: new Date(RANGE.from), to: new Date(RANGE.to) };
      const operationOf = (u: Usage) => u.operation ?? '';
      const routeOf = (u: Usage) => u.route ?? '';
      for (const bucket of ['hour', 'day'] as const) {
        const embed = await store.analytics.usage({
          ...range,
          bucket,
          groupBy: 'operation',
          filters: { route: 'embed' },
        });
        assertSeries(embed, bucket, operationOf, (u) => u.route === 'embed', `embed ${bucket}`);
        assert.ok(
          embed.series.some((p) => p.key === ''),
          'a routed event naming no operation',
        );
        // The '' route (usage naming none) beside the named ones, within one operation.
        const chat = await store.analytics.usage({
          ...range,
          bucket,
          groupBy: 'route',
          filters: { operation: 'chat' },
        });
        assertSeries(chat, bucket, routeOf, (u) => u.operation === 'chat', `chat ${bucket}`);
        assert.deepEqual(
          [...new Set(chat.series.map((p) => p.key))].sort(),
          ['', 'embed', 'main'],
          `chat routes ${bucket}`,
        );
      }
      const both = await store.analytics.usage({
        ...range,
        bucket: 'day',
        groupBy: 'model',
        filters: { route: 'main', operation: 'embeddings', tier: 'free' },
      });
      const mainEmbeddings = (u: Usage) =>
        u.route === 'main' && u.operation === 'embeddings' && u.tier === 'free';
      assert.ok(workload.usage.some(mainEmbeddings));
      assertSeries(both, 'day', (u) => u.modelServed, mainEmbeddings, 'main embeddings');
      const none = await store.analytics.usage({
        ...range,
        bucket: 'day',
        groupBy: 'none',
        filters: { route: 'no-such-route' },
      });
      assert.deepEqual(none.series, []);
    });

    it('filters top spenders, rates and latency by route, and groups latency by it', async () => {
      const range = { from: new Date(RANGE.from), to: new Date(RANGE.to) };
      const main = (u: { route?: string }) => u.route === 'main';
      const spenders = await store.analytics.topSpenders({
        ...range,
        limit: 10,
        orderBy: 'tokens',
        filters: { route: 'main' },
      });
      const users = [...new Set(workload.usage.filter(main).map((u) => u.userId))];
      assert.deepEqual(spenders.map((r) => r.user).sort(), users.sort());
      for (const row of spenders) {
        assertTotals(
          row,
          expectedTotals(workload, (u) => main(u) && u.userId === row.user),
          `main spend of ${row.user}`,
        );
      }

      const rates = await store.analytics.rates({ ...range, filters: { route: 'embed' } });
      const embed = workload.completed.filter((c) => c.route === 'embed');
      assert.ok(embed.length > 0 && embed.length < workload.completed.length);
      assert.equal(rates.requests, embed.length);
      assert.equal(rates.fallbackRequests, embed.filter((r) => r.attempts > 1).length);
      assert.equal(rates.cachedRequests, embed.filter((r) => r.cached).length);
      assert.equal(
        rates.failedRequests,
        embed.filter((r) => r.status !== CompletionStatus.Success).length,
      );
      // Rejections are refused before any route is chosen: the route filter does not apply.
      assert.equal(rates.rejections, 4);

      const byRoute = await store.analytics.latency({ ...range, groupBy: 'route', filters: {} });
      assert.deepEqual(
        byRoute.map((r) => r.key),
        ['', 'embed', 'main'],
      );
      for (const row of byRoute) {
        const sorted = workload.completed
          .filter((c) => (c.route ?? '') === row.key)
          .map((c) => c.latencyMs)
          .sort((a, b) => a - b);
        assert.equal(row.requests, sorted.length, `latency requests of '${row.key}'`);
        const [p50, , p95] = LATENCY_LEVELS.map((l) => interpolatedQuantile(sorted, l));
        approx(row.p50Ms, p50, `p50 of '${row.key}'`);
        approx(row.p95Ms, p95, `p95 of '${row.key}'`);
      }
      const mainByModel = await store.analytics.latency({
        ...range,
        groupBy: 'model',
        filters: { route: 'main', user: 'bob' },
      });
      const bobMain = workload.completed.filter((c) => main(c) && c.userId === 'bob');
      assert.ok(bobMain.length > 0);
      assert.deepEqual(
        mainByModel.map((r) => [r.key, r.requests]),
        [...new Set(bobMain.map((c) => c.modelServed))]
          .sort()
          .map((m) => [m, bobMain.filter((c) => c.modelServed === m).length]),
      );
    });

    it('the range is [from, to) over bucket starts', async () => {
      const report = await store.analytics.usage({
        from: new Date('2026-03-01T10:30:00Z'),
        to: new Date('2026-03-02T00:00:00Z'),
        bucket: 'hour',
        groupBy: 'none',
        filters: {},
      });
      assert.deepEqual(
        report.series.map((p) => p.bucket),
        ['2026-03-01T11:00:00Z'],
      );
    });

    it('ranks top spenders by cost and by tokens', async () => {
      const range = { from: new Date(RANGE.from), to: new Date(RANGE.to) };
      const byCost = await store.analytics.topSpenders({
        ...range,
        limit: 2,
        orderBy: 'cost',
        filters: {},
      });
      const users = [...new Set(workload.usage.map((u) => u.userId))];
      const cost = (user: string) => expectedTotals(workload, (u) => u.userId === user).costDollars;
      const expected = users.sort((a, b) => cost(b) - cost(a)).slice(0, 2);
      assert.deepEqual(
        byCost.map((r) => r.user),
        expected,
      );
      approx(byCost[0].costDollars, cost(expected[0]), 'top cost');
      const byTokens = await store.analytics.topSpenders({
        ...range,
        limit: 10,
        orderBy: 'tokens',
        filters: {},
      });
      const tokens = byTokens.map((r) => r.inputTokens + r.outputTokens);
      assert.deepEqual(
        tokens,
        [...tokens].sort((a, b) => b - a),
      );
      assert.equal(byTokens.length, 3);
    });

    it('fallback, cache-hit and error rates count completed requests', async () => {
      const rates = await store.analytics.rates({
        from: new Date(RANGE.from),
        to: new Date(RANGE.to),
        filters: {},
      });
      const c = workload.completed;
      assert.equal(rates.requests, c.length);
      assert.equal(rates.fallbackRequests, c.filter((r) => r.attempts > 1).length);
      assert.equal(rates.cachedRequests, c.filter((r) => r.cached).length);
      assert.equal(
        rates.failedRequests,
        c.filter((r) => r.status !== CompletionStatus.Success).length,
      );
      approx(rates.fallbackRate, rates.fallbackRequests / c.length, 'fallback rate');
      approx(rates.cacheHitRate, rates.cachedRequests / c.length, 'cache-hit rate');
      assert.equal(rates.rejections, 4);
      const alice = await store.analytics.rates({
        from: new Date(RANGE.from),
        to: new Date(RANGE.to),
        filters: { user: 'alice' },
      });
      assert.equal(alice.requests, c.filter((r) => r.userId === 'alice').length);
      assert.equal(alice.rejections, 2);
    });

    it('latency percentiles per model match the interpolated quantiles of the events', async () => {
      const rows = await store.analytics.latency({
        from: new Date(RANGE.from),
        to: new Date(RANGE.to),
        groupBy: 'model',
        filters: {},
      });
      assert.deepEqual(
        rows.map((r) => r.key),
        ['claude-3-haiku', 'gpt-4o-mini'],
      );
      for (const row of rows) {
        const sorted = workload.completed
          .filter((c) => c.modelServed === row.key)
          .map((c) => c.latencyMs)
          .sort((a, b) => a - b);
        assert.equal(row.requests, sorted.length);
        const [p50, p90, p95, p99] = LATENCY_LEVELS.map((l) => interpolatedQuantile(sorted, l));
        approx(row.p50Ms, p50, 'p50');
        approx(row.p90Ms, p90, 'p90');
        approx(row.p95Ms, p95, 'p95');
        approx(row.p99Ms, p99, 'p99');
        approx(row.meanMs, sorted.reduce((a, b) => a + b, 0) / sorted.length, 'mean');
      }
    });

    it('fallbacks by route and reason', async () => {
      const rows = await store.analytics.fallbacks({
        from: new Date(RANGE.from),
        to: new Date(RANGE.to),
        filters: {},
      });
      const total = rows.reduce((a, r) => a + r.count, 0);
      assert.equal(total, workload.completed.filter((r) => r.attempts > 1).length);
      assert.ok(rows.every((r) => r.fromProvider === 'azure'));
    });

    it('the latest states of budget limits, as many as asked', async () => {
      const rows = await store.analytics.budgets({ limit: 1 });
      assert.deepEqual(
        rows.map((r) => [r.budgetKey, r.limitKind, r.state]),
        [['alice', 'tokenBudget.perUser', 'recovered']],
      );
    });

    it('the latest state of each budget limit', async () => {
      const rows = await store.analytics.budgets({ limit: 1000 });
      assert.deepEqual(
        rows.map((r) => r.limitKind),
        ['tokenBudget.perUser', 'tokenRateLimit.perUser.requestsPerMinute'],
      );
      assert.equal(rows[0].state, 'recovered');
      assert.equal(rows[0].remaining, 500);
      assert.equal(rows[0].resetAt, '2026-04-01T00:00:00Z');
      // A request-count limit is reported in its own unit.
      assert.equal(rows[1].state, 'exhausted');
      assert.equal(rows[1].limit, 3);
      assert.equal(rows[1].unit, 'requests');
    });

    it('lists budget adjustments per user and time range, newest first', async () => {
      const list = (filters: { user?: string }, from = RANGE.from, to = RANGE.to, limit = 100) =>
        store.analytics.budgetAdjustments({
          from: new Date(from),
          to: new Date(to),
          limit,
          filters,
        });
      type Named = Omit<ExpectedAdjustment, 'action'> & { readonly action: string };
      const named = (rows: readonly Named[]) =>
        rows.map(({ at, user, action, limitKind, amount, reason, operator }) => ({
          at,
          user,
          action,
          limitKind,
          amount,
          reason,
          operator,
        }));
      const all = await list({});
      assert.deepEqual(named(all), [...ADJUSTMENTS].reverse());
      assert.equal(new Set(all.map((r) => r.eventId)).size, ADJUSTMENTS.length);
      assert.deepEqual(named(await list({ user: 'alice' })), [ADJUSTMENTS[2], ADJUSTMENTS[1]]);
      assert.deepEqual(named(await list({ user: ODD_USER })), [ADJUSTMENTS[0]]);
      // [from, to) to the millisecond: the reset at .100 is out, the credit at .900 in.
      assert.deepEqual(
        named(await list({}, '2026-03-01T11:00:00.500Z', '2026-03-02T00:00:00.000Z')),
        [ADJUSTMENTS[2]],
      );
      assert.deepEqual(named(await list({}, RANGE.from, RANGE.to, 1)), [ADJUSTMENTS[3]]);
      assert.deepEqual(await list({ user: 'nobody' }), []);
    });

    it('lists an adjustment retried with one event id once, at its first time', async () => {
      // A retry of POST /admin/budgets/.../credit with an Idempotency-Key publishes the same
      // event id again, later: the budget service applied it once; so does the list.
      const first = createBudgetAdjusted(
        {
          partitionKey: 'retried',
          userKey: 'retried',
          action: BudgetAdjustmentAction.Credit,
          amount: 5,
        },
        { occurredAt: '2026-03-01T12:00:00.000Z' },
      );
      const retry = createBudgetAdjusted(
        { ...first },
        { eventId: first.eventId, occurredAt: '2026-03-01T12:00:03.000Z' },
      );
      const writer = store.writer();
      await writer.write([first]);
      await writer.write([retry]); // its own batch, as it comes seconds later
      const rows = await store.analytics.budgetAdjustments({
        from: new Date(RANGE.from),
        to: new Date(RANGE.to),
        limit: 100,
        filters: { user: 'retried' },
      });
      assert.deepEqual(
        rows.map((r) => [r.eventId, r.at, r.amount]),
        [[first.eventId, '2026-03-01T12:00:00.000Z', 5]],
      );
    });

    it('stores logged payloads once and answers them by request id and by user', async () => {
      const [failed, streamed, other] = payloadEvents();
      const writer = store.writer();
      // A redelivery, and one event twice in a batch: still one row each.
      await writer.write([failed, streamed, other]);
      await writer.write([streamed, streamed]);
      const found = await store.analytics.payload('req-payload-2');
      assert.deepEqual(found, {
        requestId: 'req-payload-2',
        startedAt: '2026-03-01T10:00:00.250Z',
        finishedAt: '2026-03-01T10:00:01.500Z',
        user: ODD_USER,
        endpoint: 'chat.completions',
        modelRequested: 'gpt-4o',
        modelServed: 'gpt-4o-2024-08-06',
        provider: 'openai',
        backend: 'openai-main',
        stream: true,
        status: 200,
        errorCode: null,
        latencyMs: 1250,
        request: { body: streamed.requestBody, truncated: true, bytes: 70_000 },
        response: { body: streamed.responseBody, truncated: false, bytes: 44 },
      });
      const bad = await store.analytics.payload('req-payload-1');
      assert.equal(bad?.status, 502);
      assert.equal(bad?.errorCode, 'UPSTREAM_ERROR');
      assert.equal(bad?.modelServed, null);
      assert.equal(bad?.response.body, '');
      assert.equal(await store.analytics.payload('req-none'), undefined);
      const listed = await store.analytics.payloads({ user: ODD_USER, limit: 10 });
      assert.deepEqual(
        listed.map((r) => r.requestId),
        ['req-payload-2', 'req-payload-1'],
      );
      assert.equal('request' in listed[0], false, 'a list carries no bodies');
      assert.deepEqual(
        (await store.analytics.payloads({ user: ODD_USER, limit: 1 })).map((r) => r.requestId),
        ['req-payload-2'],
      );

      const http = await get(`${base}/v1/analytics/requests/req-payload-2/payload`);
      assert.equal(http.status, 200);
      const body = (await http.json()) as { request: { body: string }; user: string };
      assert.equal(body.request.body, streamed.requestBody);
      assert.equal(body.user, ODD_USER);
      const missing = await get(`${base}/v1/analytics/requests/req-none/payload`);
      assert.equal(missing.status, 404);
      assert.match(
        ((await missing.json()) as { error: { message: string } }).error.message,
        /req-none/,
      );
      const bogus = await get(`${base}/v1/analytics/requests/a%20b/payload`);
      assert.equal(bogus.status, 400);
      const list = await get(
        `${base}/v1/analytics/payloads?${new URLSearchParams({ user: ODD_USER }).toString()}`,
      );
      assert.equal(list.status, 200);
      assert.equal(((await list.json()) as { rows: unknown[] }).rows.length, 2);
      assert.equal((await get(`${base}/v1/analytics/payloads`)).status, 400);
      const anonymous = await fetch(`${base}/v1/analytics/requests/req-payload-2/payload`);
      assert.equal(anonymous.status, 401);
      assert.doesNotMatch(await anonymous.text(), /req-payload-2|messages/);
    });

    it('serves the same numbers over HTTP', async () => {
      const query = new URLSearchParams({
        ...RANGE,
        bucket: 'day',
        groupBy: 'user',
        user: ODD_USER,
      });
      const response = await get(`${base}/v1/analytics/usage?${query.toString()}`);
      assert.equal(response.status, 200);
      const body = (await response.json()) as { totals: UsageTotals; series: { key: string }[] };
      assertTotals(
        body.totals,
        expectedTotals(workload, (u) => u.userId === ODD_USER),
        'http',
      );
      assert.ok(body.series.every((p) => p.key === ODD_USER));

      const byOperation = await get(
        `${base}/v1/analytics/usage?${new URLSearchParams({ ...RANGE, bucket: 'day', groupBy: 'operation', operation: 'embeddings' }).toString()}`,
      );
      assert.equal(byOperation.status, 200);
      const operations = (await byOperation.json()) as {
        totals: UsageTotals;
        series: { key: string }[];
      };
      assertTotals(
        operations.totals,
        expectedTotals(workload, (u) => u.operation === 'embeddings'),
        'http by operation',
      );
      assert.deepEqual([...new Set(operations.series.map((p) => p.key))], ['embeddings']);

      const byRoute = await get(
        `${base}/v1/analytics/usage?${new URLSearchParams({ ...RANGE, bucket: 'day', groupBy: 'route', route: 'embed' }).toString()}`,
      );
      assert.equal(byRoute.status, 200);
      const routes = (await byRoute.json()) as {
        query: { groupBy: string };
        totals: UsageTotals;
        series: { key: string }[];
      };
      assert.equal(routes.query.groupBy, 'route');
      assertTotals(
        routes.totals,
        expectedTotals(workload, (u) => u.route === 'embed'),
        'http by route',
      );
      assert.deepEqual([...new Set(routes.series.map((p) => p.key))], ['embed']);
      const routeLatency = await get(
        `${base}/v1/analytics/latency?${new URLSearchParams({ ...RANGE, groupBy: 'route', route: 'main' }).toString()}`,
      );
      assert.equal(routeLatency.status, 200);
      assert.deepEqual(
        ((await routeLatency.json()) as { rows: { key: string; requests: number }[] }).rows.map(
          (r) => [r.key, r.requests],
        ),
        [['main', workload.completed.filter((c) => c.route === 'main').length]],
      );

      const rates = await get(
        `${base}/v1/analytics/rates?${new URLSearchParams(RANGE).toString()}`,
      );
      assert.equal(
        ((await rates.json()) as { requests: number }).requests,
        workload.completed.length,
      );
      for (const path of ['top-spenders', 'latency', 'fallbacks']) {
        const r = await get(
          `${base}/v1/analytics/${path}?${new URLSearchParams(RANGE).toString()}`,
        );
        assert.equal(r.status, 200, path);
        assert.ok(Array.isArray(((await r.json()) as { rows: unknown[] }).rows), path);
      }
      const adjustments = await get(
        `${base}/v1/analytics/budget-adjustments?${new URLSearchParams({ ...RANGE, user: 'alice' }).toString()}`,
      );
      assert.equal(adjustments.status, 200);
      const { rows: adjusted } = (await adjustments.json()) as {
        rows: {
          action: string;
          amount: number | null;
          reason: string | null;
          operator: string | null;
        }[];
      };
      assert.deepEqual(
        adjusted.map((r) => [r.action, r.amount, r.reason, r.operator]),
        [
          ['credit', 2.5, 'support ticket 42', 'sre-oncall'],
          ['reset', null, null, null],
        ],
      );
      const budgets = await get(`${base}/v1/analytics/budgets`);
      assert.equal(((await budgets.json()) as { rows: unknown[] }).rows.length, 2);
      // At most `limit` rows, in budget key then limit order.
      const first = await get(`${base}/v1/analytics/budgets?limit=1`);
      assert.deepEqual(
        ((await first.json()) as { rows: { limitKind: string }[] }).rows.map((r) => r.limitKind),
        ['tokenBudget.perUser'],
      );
    });

    it('refuses bad parameters with a 400 naming them', async () => {
      const cases: [string, RegExp][] = [
        ['usage?bucket=week', /bucket must be one of/],
        ['usage?groupBy=secret', /groupBy must be one of/],
        ['usage?from=yesterday', /from must be an ISO 8601 time/],
        // ISO 8601 forms the validator passes but a Date cannot read (week, ordinal, basic).
        ['usage?from=2026-W10-1', /from must be an ISO 8601 time/],
        ['rates?to=2026-060', /to must be an ISO 8601 time/],
        ['budget-adjustments?from=20260301T000000Z', /from must be an ISO 8601 time/],
        // Outside ClickHouse's DateTime (1970 to 2106), which both stores answer alike.
        [
          'usage?from=1969-12-31T00:00:00Z&to=1970-01-01T12:00:00Z',
          /from must be between 1970-01-01 and 2106-01-01/,
        ],
        ['usage?to=1970-01-01T12:00:00Z', /from must be between 1970-01-01 and 2106-01-01/],
        [
          'budget-adjustments?from=1969-12-01T00:00:00Z&to=1970-01-02T00:00:00Z',
          /from must be between 1970-01-01 and 2106-01-01/,
        ],
        [
          'latency?from=2106-03-01T00:00:00Z&to=2106-03-02T00:00:00Z',
          /from must be between 1970-01-01 and 2106-01-01/,
        ],
        [`usage?from=${RANGE.to}&to=${RANGE.from}`, /from must be earlier than to/],
        [
          'usage?from=2025-01-01T00:00:00Z&to=2026-01-01T00:00:00Z&bucket=hour',
          /must not exceed 31 days/,
        ],
        ['usage?bucket=hour&bucket=day', /bucket must be/],
        ['usage?format=csv', /property format should not exist/],
        ['usage?user=', /user must be 1 to 256 printable characters/],
        [`usage?user=${'x'.repeat(300)}`, /user must be 1 to 256 printable characters/],
        ['usage?user=a%0Ab', /user must be 1 to 256 printable characters/],
        ['top-spenders?limit=0', /limit must be a whole number from 1 to 100/],
        ['top-spenders?limit=1e2', /limit must be a whole number from 1 to 100/],
        ['top-spenders?orderBy=name', /orderBy must be one of/],
        ['fallbacks?tier=pro', /property tier should not exist/],
        ['latency?groupBy=operation', /groupBy must be one of/],
        ['rates?operation=chat', /property operation should not exist/],
        ['usage?operation=', /operation must be 1 to 256 printable characters/],
        ['usage?route=', /route must be 1 to 256 printable characters/],
        ['latency?route=a%0Ab', /route must be 1 to 256 printable characters/],
        [`rates?route=${'r'.repeat(257)}`, /route must be 1 to 256 printable characters/],
        ['top-spenders?route=a&route=b', /route must be a string/],
        ['latency?groupBy=routes', /groupBy must be one of/],
        ['fallbacks?route=main', /property route should not exist/],
        ['budget-adjustments?route=main', /property route should not exist/],
        ['budgets?x=1', /property x should not exist/],
        ['budgets?limit=0', /limit must be a whole number from 1 to 10000/],
        ['budgets?limit=10001', /limit must be a whole number from 1 to 10000/],
        ['budget-adjustments?limit=0', /limit must be a whole number from 1 to 1000/],
        ['budget-adjustments?model=m', /property model should not exist/],
        ['budget-adjustments?user=a%0Ab', /user must be 1 to 256 printable characters/],
      ];
      for (const [path, message] of cases) {
        const response = await get(`${base}/v1/analytics/${path}`);
        assert.equal(response.status, 400, path);
        const body = (await response.json()) as { error: { message: string } };
        assert.match(body.error.message, message, path);
      }
      // An injection attempt is a user name like any other: no match, store intact.
      const injected = await get(
        `${base}/v1/analytics/usage?${new URLSearchParams({ ...RANGE, user: "x' OR '1'='1" }).toString()}`,
      );
      assert.equal(injected.status, 200);
      assert.equal(((await injected.json()) as { totals: UsageTotals }).totals.requests, 0);
      assert.equal((await store.storedCounts()).usage, workload.usage.length);
    });

    it('refuses a URL with a malformed %-escape with a 400 in its shape, not quoting it', async () => {
      const response = await get(`${base}/v1/analytics/usage%ZZsk-pasted-0123456789`);
      const text = await response.text();
      assert.equal(response.status, 400, text);
      assert.ok(!text.includes('sk-pasted'), text);
      assert.equal((JSON.parse(text) as { error: { type: string } }).error.type, 'invalid_url');
    });

    // Writes usage outside RANGE, last, so the counts the tests above assert are untouched.
    it('refuses a usage series past its point limit with a 400 naming a narrower query', async () => {
      // 5 users, each with an operation of its own, once an hour for 9 hours.
      const users = ['s1', 's2', 's3', 's4', 's5'];
      const events = users.flatMap((user) =>
        Array.from({ length: 9 }, (_, hour) =>
          usageEventAt(new Date(Date.UTC(2026, 3, 1, hour, 10)), `${user}-${hour}`, {
            user,
            operation: `op-${user}`,
          }),
        ),
      );
      await store.writer().write(events);
      const day = { from: '2026-04-01T00:00:00Z', to: '2026-04-02T00:00:00Z' };
      const usage = (bucket: Bucket, groupBy: UsageDimension, to = day.to) =>
        store.analytics.usage({
          from: new Date(day.from),
          to: new Date(to),
          bucket,
          groupBy,
          filters: {},
        });
      const refused = (error: unknown) =>
        error instanceof AnalyticsQueryError && /more than 40 points/.test(error.message);
      for (const groupBy of ['user', 'operation'] as const) {
        // 5 × 8 hours: exactly the limit, answered whole.
        const eight = await usage('hour', groupBy, '2026-04-01T08:00:00Z');
        assert.equal(eight.series.length, CONTRACT_MAX_SERIES_POINTS, groupBy);
        assert.equal(eight.totals.requests, 40, groupBy);
        // 5 × 9 = 45 points: refused, not cut short.
        await assert.rejects(usage('hour', groupBy), refused, groupBy);
        // The same events by day are 5 points.
        assert.equal((await usage('day', groupBy)).series.length, 5, groupBy);
      }

      const query = (bucket: Bucket) =>
        get(
          `${base}/v1/analytics/usage?${new URLSearchParams({ ...day, bucket, groupBy: 'user' }).toString()}`,
        );
      const http = await query('hour');
      assert.equal(http.status, 400);
      const body = (await http.json()) as { error: { type: string; message: string } };
      assert.equal(body.error.type, 'invalid_query');
      assert.match(
        body.error.message,
        /more than 40 points .*narrow the range from\.\.to, use bucket=day/,
      );
      assert.equal((await query('day')).status, 200);
    });

    it('serves the usage page and its chart library from this process', async () => {
      const page = await get(`${base}/usage`);
      assert.equal(page.status, 200);
      assert.match(page.headers.get('content-type') ?? '', /text\/html/);
      assert.match(await page.text(), /\/usage\/assets\/uPlot\.iife\.min\.js/);
      const lib = await get(`${base}/usage/assets/uPlot.iife.min.js`);
      assert.equal(lib.status, 200);
      assert.match(lib.headers.get('content-type') ?? '', /javascript/);
      assert.equal((await get(`${base}/usage/assets/..%2Fpackage.json`)).status, 404);
    });
  });
}
