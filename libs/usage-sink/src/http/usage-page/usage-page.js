// The usage page: reads the analytics API of the process that served it and draws
// the numbers with uPlot. No framework, no build step. A token for the API, when the
// operator set one, is taken from the URL fragment (#token=...), which is never sent to
// the server in a request line.
(function () {
  'use strict';

  const RANGES = {
    '24h': [86400e3, 'hour'],
    '7d': [7 * 86400e3, 'hour'],
    '30d': [30 * 86400e3, 'day'],
  };
  // Budget limits asked for at once: more follow, a page at a time, with "Show more".
  const BUDGETS_PAGE = 100;
  const MORE_BUDGETS = 'Show more limits';
  // How many of the latest budget adjustments the page lists.
  const ADJUSTMENTS_SHOWN = 20;
  // Usage stored before events named their operation groups under ''.
  const UNNAMED_OPERATION = '(not recorded)';
  // The per-user series past the API's cap on points: the per-user table falls back to the
  // top spenders, which cost one row per user whatever the range.
  const SPENDERS_SHOWN = 100;
  const TOO_MANY_USERS =
    'Too many users in this range for per-user charts: narrow the range or use a daily bucket (bucket=day).';
  const COLORS = ['#3366cc', '#dc3912', '#ff9900', '#109618', '#990099', '#0099c6', '#dd4477'];

  const fmt = {
    cost: (n) => '$' + n.toFixed(6),
    int: (n) => String(Math.round(n)),
    pct: (r) => (r * 100).toFixed(1) + '%',
    ms: (n) => n.toFixed(1) + ' ms',
    // An adjustment's absent amount (a reset), operator or reason.
    maybe: (v) => (v === null || v === undefined ? '–' : String(v)),
  };
  window.usageFormat = fmt;

  function token() {
    const match = /(?:^|&)token=([^&]+)/.exec(location.hash.slice(1));
    return match ? decodeURIComponent(match[1]) : '';
  }

  /**
   * The range links name only a query (?range=7d), and following one drops the URL
   * fragment: they carry the page's own, so the token goes with them.
   */
  function keepFragmentOnRangeLinks() {
    if (!location.hash) return;
    for (const link of document.querySelectorAll('nav a')) link.hash = location.hash;
  }

  async function api(path, params) {
    const headers = {};
    const t = token();
    if (t) headers.authorization = 'Bearer ' + t;
    const response = await fetch('/v1/analytics/' + path + '?' + new URLSearchParams(params), {
      headers,
    });
    // A proxy in front of the API (a timeout, a login page) may answer with no JSON.
    const body = await response.json().catch(() => undefined);
    if (!response.ok || body === undefined) {
      const status = [response.status, response.statusText].filter(Boolean).join(' ');
      const said = body && body.error && body.error.message;
      const error = new Error(said || '/v1/analytics/' + path + ' answered ' + status);
      error.status = response.status;
      throw error;
    }
    return body;
  }

  /**
   * A time of the URL as the API reads it: a date-time without an offset is UTC (the
   * browser's Date would read it in the browser's zone).
   */
  function utcTime(value) {
    return Date.parse(/[Tt][^Zz+-]*$/.test(value) ? value + 'Z' : value);
  }

  const BUCKET_MS = { hour: 3600e3, day: 86400e3 };

  /**
   * A time moved up to the next bucket start. The usage series counts whole buckets that
   * start in [from, to); rates, latency and top spenders count whole hours, adjustments
   * exact times. Bounds on bucket starts make every panel cover the same span. A time or
   * bucket the page cannot read goes as given, for the API to refuse by name.
   */
  function bucketStart(value, bucket) {
    const time = utcTime(value);
    const size = BUCKET_MS[bucket];
    return size && Number.isFinite(time)
      ? new Date(Math.ceil(time / size) * size).toISOString()
      : value;
  }

  /** from/to/bucket: given in the page's URL, or a preset range ending now. */
  function rangeParams() {
    const search = new URLSearchParams(location.search);
    const preset = RANGES[search.get('range') || '24h'] || RANGES['24h'];
    const bucket = search.get('bucket') || preset[1];
    const to = search.get('to') || new Date().toISOString();
    const from = search.get('from') || new Date(utcTime(to) - preset[0]).toISOString();
    return { from: bucketStart(from, bucket), to: bucketStart(to, bucket), bucket };
  }

  function text(id, value) {
    document.getElementById(id).textContent = value;
  }

  function cell(value, numeric) {
    const td = document.createElement('td');
    td.textContent = value;
    if (numeric) td.className = 'num';
    return td;
  }

  /** Totals per group key from a grouped usage series. */
  function byKey(series) {
    const totals = new Map();
    for (const p of series) {
      const t = totals.get(p.key) || {
        requests: 0,
        inputTokens: 0,
        outputTokens: 0,
        webSearchRequests: 0,
        costDollars: 0,
      };
      t.requests += p.requests;
      t.inputTokens += p.inputTokens;
      t.outputTokens += p.outputTokens;
      t.webSearchRequests += p.webSearchRequests;
      t.costDollars += p.costDollars;
      totals.set(p.key, t);
    }
    return [...totals.entries()].sort(
      (a, b) => b[1].costDollars - a[1].costDollars || (a[0] < b[0] ? -1 : 1),
    );
  }

  function fillTable(id, rows, label) {
    const body = document.querySelector('#' + id + ' tbody');
    body.replaceChildren();
    for (const [key, t] of rows) {
      const tr = document.createElement('tr');
      tr.dataset.key = key;
      tr.append(
        cell(label ? label(key) : key),
        cell(fmt.int(t.requests), true),
        cell(fmt.int(t.inputTokens), true),
        cell(fmt.int(t.outputTokens), true),
        cell(fmt.int(t.webSearchRequests), true),
        cell(fmt.cost(t.costDollars), true),
      );
      body.append(tr);
    }
  }

  /** uPlot data: one x axis of bucket starts, one series per key. */
  function columns(series, value, cumulative) {
    const xs = [...new Set(series.map((p) => Date.parse(p.bucket) / 1000))].sort((a, b) => a - b);
    const keys = [...new Set(series.map((p) => p.key))].sort();
    const index = new Map(xs.map((x, i) => [x, i]));
    const ys = keys.map(() => xs.map(() => 0));
    for (const p of series)
      ys[keys.indexOf(p.key)][index.get(Date.parse(p.bucket) / 1000)] += value(p);
    if (cumulative) for (const y of ys) for (let i = 1; i < y.length; i++) y[i] += y[i - 1];
    return { keys, data: [xs, ...ys] };
  }

  function chart(id, series, value, options) {
    const el = document.getElementById(id);
    el.replaceChildren();
    const { keys, data } = columns(series, value, options.cumulative);
    const label = options.label || ((key) => key);
    el.dataset.series = String(keys.length);
    if (data[0].length === 0) {
      el.textContent = 'No data in this range.';
      return;
    }
    new uPlot(
      {
        width: Math.max(320, el.clientWidth || 800),
        height: 240,
        scales: { x: { time: true } },
        // The API's buckets are UTC hours and days: label them so, not in the browser's zone.
        tzDate: (seconds) => uPlot.tzDate(new Date(seconds * 1000), 'Etc/UTC'),
        series: [
          {},
          ...keys.map((key, i) => ({
            label: label(key),
            stroke: COLORS[i % COLORS.length],
            width: 2,
            value: (u, v) => (v == null ? '' : options.format(v)),
          })),
        ],
        axes: [{}, { values: (u, vals) => vals.map(options.format), size: 80 }],
      },
      data,
      el,
    );
  }

  /**
   * Usage per user: the series, or, when the API refuses it for its size (a 400), the top
   * spenders' totals without a series.
   */
  async function perUser(range, span) {
    try {
      return { series: (await api('usage', { ...range, groupBy: 'user' })).series };
    } catch (error) {
      if (error.status !== 400) throw error;
      const spenders = await api('top-spenders', {
        ...span,
        limit: String(SPENDERS_SHOWN),
        orderBy: 'cost',
      });
      return { spenders: spenders.rows };
    }
  }

  /** In place of a per-user chart: why there is none. */
  function noChart(id, note) {
    const el = document.getElementById(id);
    el.replaceChildren();
    el.dataset.series = '0';
    const p = document.createElement('p');
    p.className = 'chart-note';
    p.textContent = note;
    el.append(p);
  }

  async function load() {
    const range = rangeParams();
    const span = { from: range.from, to: range.to };
    const [byModel, byUser, byOperation, rates, latency, budgets, adjustments] = await Promise.all([
      api('usage', { ...range, groupBy: 'model' }),
      perUser(range, span),
      api('usage', { ...range, groupBy: 'operation' }),
      api('rates', span),
      api('latency', { ...span, groupBy: 'none' }),
      api('budgets', { limit: String(BUDGETS_PAGE) }),
      api('budget-adjustments', { ...span, limit: String(ADJUSTMENTS_SHOWN) }),
    ]);
    const operation = (key) => key || UNNAMED_OPERATION;
    text('range', `${byModel.query.from} – ${byModel.query.to}, per ${byModel.query.bucket} (UTC)`);
    const totals = byModel.totals;
    text('total-cost', fmt.cost(totals.costDollars));
    text('total-tokens', fmt.int(totals.inputTokens + totals.outputTokens));
    text('total-requests', fmt.int(totals.requests));
    text('cache-hit-rate', fmt.pct(rates.cacheHitRate));
    text('fallback-rate', fmt.pct(rates.fallbackRate));
    const overall = latency.rows[0];
    text('latency', overall ? `${fmt.ms(overall.p50Ms)} / ${fmt.ms(overall.p95Ms)}` : '–');

    fillTable(
      'by-user',
      byUser.series ? byKey(byUser.series) : byUser.spenders.map((row) => [row.user, row]),
    );
    fillTable('by-model', byKey(byModel.series));
    fillTable('by-operation', byKey(byOperation.series), operation);
    chart('chart-cost', byModel.series, (p) => p.costDollars, {
      format: (v) => '$' + v.toFixed(4),
    });
    chart('chart-operations', byOperation.series, (p) => p.costDollars, {
      format: (v) => '$' + v.toFixed(4),
      label: operation,
    });
    if (byUser.series) {
      chart('chart-tokens', byUser.series, (p) => p.inputTokens + p.outputTokens, {
        format: fmt.int,
      });
      chart('chart-burn', byUser.series, (p) => p.weightedTokens, {
        format: fmt.int,
        cumulative: true,
      });
    } else {
      noChart('chart-tokens', TOO_MANY_USERS);
      noChart('chart-burn', TOO_MANY_USERS);
    }

    document.querySelector('#budgets tbody').replaceChildren();
    showBudgets(budgets);
    fillAdjustments(adjustments.rows);
  }

  /**
   * A page of budget limits added to the table, and "Show more" offered while the API has
   * more (its nextCursor: the limits after the last one shown, however many were added
   * since).
   */
  function showBudgets(page) {
    fillBudgets(page.rows);
    const more = document.getElementById('budgets-more');
    more.hidden = !page.nextCursor;
    // A page that came clears the word of one that failed before it.
    more.textContent = MORE_BUDGETS;
    more.onclick = async () => {
      more.disabled = true;
      try {
        showBudgets(await api('budgets', { limit: String(BUDGETS_PAGE), cursor: page.nextCursor }));
      } catch (error) {
        more.textContent = MORE_BUDGETS + ' (failed: ' + error.message + ')';
      } finally {
        more.disabled = false;
      }
    };
  }

  /**
   * Each limit's newest announced state. The API keeps it however old: a row whose window
   * has ended (its resetAt passed) says nothing of the limit now, so it shows as ended, not
   * as exhausted with nothing remaining.
   */
  function fillBudgets(rows) {
    const body = document.querySelector('#budgets tbody');
    const now = Date.now();
    for (const b of rows) {
      const ended = Date.parse(b.resetAt) <= now;
      const tr = document.createElement('tr');
      tr.dataset.key = b.budgetKey + '|' + b.limitKind;
      tr.append(
        cell(b.budgetKey),
        cell(b.limitKind),
        cell(ended ? 'window ended (was ' + b.state + ')' : b.state),
        cell(ended ? '–' : String(b.remaining) + ' ' + b.unit, true),
        cell(String(b.limit), true),
        cell(b.resetAt),
      );
      body.append(tr);
    }
  }

  /** Operators' resets and credits, newest first: who gave whom budget back, and why. */
  function fillAdjustments(rows) {
    const body = document.querySelector('#adjustments tbody');
    body.replaceChildren();
    document.getElementById('adjustments-empty').hidden = rows.length > 0;
    for (const a of rows) {
      const tr = document.createElement('tr');
      tr.dataset.key = a.eventId;
      tr.append(
        cell(a.at),
        cell(a.user),
        cell(a.action),
        cell(a.limitKind),
        cell(fmt.maybe(a.amount), true),
        cell(fmt.maybe(a.operator)),
        cell(fmt.maybe(a.reason)),
      );
      body.append(tr);
    }
  }

  keepFragmentOnRangeLinks();
  load().then(
    () => (document.body.dataset.state = 'ready'),
    (error) => {
      const el = document.getElementById('error');
      el.hidden = false;
      el.textContent = 'Could not load usage: ' + error.message;
      document.body.dataset.state = 'error';
    },
  );
})();
