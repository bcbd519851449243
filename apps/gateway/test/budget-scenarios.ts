import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { DatabaseSync } from 'node:sqlite';
import { Topic, type EventTopic } from '@aigw/contracts';
import { estimatePromptTokensUpperBound } from '@aigw/contracts/data-plane';
import { HELD_FULL_RETRY_AFTER_MS } from '@aigw/budget-core';
import { metricSum } from '@aigw/testing';
import { FakeOpenAiUpstream } from '@aigw/testing/fake-provider';
import { startApp, type AppProcess } from '@aigw/testing/processes';

// The budget scenarios, run on the embedded store (e2e) and on real Redis (int): the
// all-in-one gateway must keep the same semantics on both.

const PROMPT = [{ role: 'user', content: 'hi' }];
const MAX_TOKENS = 20;
/** The prompt's input tokens as a reservation counts them (an upper bound). */
const INPUT_ESTIMATE = estimatePromptTokensUpperBound({ messages: PROMPT });
/** What one request reserves: its prompt estimate plus max_tokens. */
export const PER_REQUEST = INPUT_ESTIMATE + MAX_TOKENS;

/** One event as the gateway recorded it (its JSON body). */
export type RecordedEvent = Readonly<Record<string, unknown>>;

/** Every event the gateway recorded on `topic` so far. */
export type EventReader = (dataDir: string, topic: EventTopic) => Promise<RecordedEvent[]>;

/** Without Kafka the gateway logs its events to SQLite in its data directory (SqliteEventLog). */
export const embeddedEventLog: EventReader = async (dataDir, topic) => {
  const db = new DatabaseSync(join(dataDir, 'events.db'), { readOnly: true });
  try {
    const rows = db
      .prepare('SELECT value FROM events WHERE topic = ? ORDER BY seq')
      .all(topic) as unknown as { value: string }[];
    return rows.map((row) => JSON.parse(row.value) as RecordedEvent);
  } finally {
    db.close();
  }
};

interface Gateway {
  process: AppProcess;
  events(topic: EventTopic): Promise<RecordedEvent[]>;
  chat(
    user: string,
    options?: {
      stream?: boolean;
      model?: string;
      headers?: Record<string, string>;
      signal?: AbortSignal;
    },
  ): Promise<Response>;
  metrics(): Promise<string>;
}

async function startGateway(
  yaml: string,
  env: Record<string, string>,
  readEvents: EventReader,
): Promise<Gateway> {
  const dir = mkdtempSync(join(tmpdir(), 'aigw-budget-'));
  writeFileSync(join(dir, 'config.yaml'), yaml);
  const process = await startApp('gateway', {
    ...env,
    AI_GATEWAY_CONFIG: join(dir, 'config.yaml'),
    AI_GATEWAY_DATA_DIR: join(dir, 'data'),
  });
  return {
    process,
    events: (topic) => readEvents(join(dir, 'data'), topic),
    chat: (user, options = {}) =>
      fetch(`${process.baseUrl}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-user-id': user, ...options.headers },
        body: JSON.stringify({
          model: options.model ?? 'gpt-4o-mini',
          messages: PROMPT,
          max_tokens: MAX_TOKENS,
          stream: options.stream ?? false,
        }),
        signal: options.signal,
      }),
    metrics: async () => (await fetch(`http://127.0.0.1:${process.adminPort}/metrics`)).text(),
  };
}

const settle = () => new Promise((resolve) => setTimeout(resolve, 600));

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * The events on `topic` that `match`, once at least `count` of them are there: the
 * gateway publishes off the request path, so this polls up to a deadline.
 */
async function recordedEvents(
  gateway: Gateway,
  topic: EventTopic,
  match: (event: RecordedEvent) => boolean,
  count: number,
): Promise<RecordedEvent[]> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const found = (await gateway.events(topic)).filter(match);
    if (found.length >= count || Date.now() > deadline) return found;
    await pause(250);
  }
}

/**
 * Exactly one `request.rejected` event per refusal (by request id), and none for another
 * request of `user`: each names the user, the budget reason and the 429.
 */
async function assertRejectedEvents(
  gateway: Gateway,
  user: string,
  refusals: readonly { headers: Headers }[],
  kind: string,
): Promise<RecordedEvent[]> {
  const ids = refusals.map((refusal) => refusal.headers.get('x-request-id') ?? '(none)');
  const events = await recordedEvents(
    gateway,
    Topic.RequestRejected,
    (event) => event.userId === user,
    ids.length,
  );
  assert.deepEqual(events.map((event) => event.requestId).sort(), [...ids].sort());
  for (const event of events) {
    assert.equal(event.type, 'request.rejected');
    assert.equal(event.reason, 'budgetExhausted');
    assert.equal(event.httpStatus, 429);
    assert.equal(event.modelRequested, 'gpt-4o-mini');
    assert.ok(String(event.message).includes(kind), String(event.message));
  }
  return events;
}

/** What a limit counts (weighted `tokens` weigh input and output 1 each here). */
type Unit = 'tokens' | 'inputTokens' | 'outputTokens' | 'totalTokens';

interface LimitKindCase {
  readonly kind: string;
  readonly yaml: string;
  readonly unit: Unit;
  readonly limit: number;
  readonly windowMs: number;
  readonly headers?: Record<string, string>;
}

const MINUTE_MS = 60_000;
const DAY_MS = 86_400_000;

/** Each limit kind, sized to hold exactly 3 requests' reservations. */
const LIMIT_KINDS: readonly LimitKindCase[] = [
  {
    kind: 'tokenBudget.perMinute',
    yaml: `  tokenBudget:\n    perMinute: {limit: ${3 * PER_REQUEST}}\n`,
    unit: 'tokens',
    limit: 3 * PER_REQUEST,
    windowMs: MINUTE_MS,
  },
  {
    kind: 'tokenRateLimit.perUser.inputTokensPerMinute',
    yaml: `  tokenRateLimit:\n    perUser: {inputTokensPerMinute: ${3 * INPUT_ESTIMATE}}\n`,
    unit: 'inputTokens',
    limit: 3 * INPUT_ESTIMATE,
    windowMs: MINUTE_MS,
  },
  {
    kind: 'tokenRateLimit.perUser.outputTokensPerMinute',
    yaml: `  tokenRateLimit:\n    perUser: {outputTokensPerMinute: ${3 * MAX_TOKENS}}\n`,
    unit: 'outputTokens',
    limit: 3 * MAX_TOKENS,
    windowMs: MINUTE_MS,
  },
  {
    kind: 'tokenRateLimit.perUser.totalTokensPerDay',
    yaml: `  tokenRateLimit:\n    perUser: {totalTokensPerDay: ${3 * PER_REQUEST}}\n`,
    unit: 'totalTokens',
    limit: 3 * PER_REQUEST,
    windowMs: DAY_MS,
  },
  {
    kind: 'userTiers.tokenBudget.daily',
    yaml: `  userTiers:\n  - name: free\n    selector: {header: x-plan, value: free}\n    tokenBudget: {daily: ${3 * PER_REQUEST}}\n`,
    unit: 'tokens',
    limit: 3 * PER_REQUEST,
    windowMs: DAY_MS,
    headers: { 'x-plan': 'free' },
  },
];

/** What one request holds against a limit counted in `unit`: its worst case. */
function holdIn(unit: Unit): number {
  if (unit === 'inputTokens') return INPUT_ESTIMATE;
  if (unit === 'outputTokens') return MAX_TOKENS;
  return PER_REQUEST;
}

/** What the gateway metered for `user`, counted in `unit`. */
function billedIn(metrics: string, user: string, unit: Unit): number {
  const input = metricSum(metrics, 'ai_gateway_tokens_total', { user, type: 'input' });
  const output = metricSum(metrics, 'ai_gateway_tokens_total', { user, type: 'output' });
  if (unit === 'inputTokens') return input;
  if (unit === 'outputTokens') return output;
  return input + output;
}

/** The first sample of `name` carrying all of `labels`; undefined when there is none. */
function sample(metrics: string, name: string, labels: Record<string, string>): number | undefined {
  for (const line of metrics.split('\n')) {
    if (!line.startsWith(`${name}{`)) continue;
    if (Object.entries(labels).every(([key, value]) => line.includes(`${key}="${value}"`))) {
      return Number(line.slice(line.lastIndexOf(' ') + 1));
    }
  }
  return undefined;
}

/** OpenAI's duration format (`1h2m3s`, `45s`, `120ms`) in milliseconds. */
function durationMs(text: string): number {
  const millis = /^(\d+)ms$/.exec(text);
  if (millis) return Number(millis[1]);
  const parts = /^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$/.exec(text);
  assert.ok(text !== '' && parts, `not a duration: "${text}"`);
  const [, hours = '0', minutes = '0', seconds = '0'] = parts;
  return ((Number(hours) * 60 + Number(minutes)) * 60 + Number(seconds)) * 1000;
}

interface LimitHeaders {
  readonly limit: number;
  readonly remaining: number;
  readonly resetMs: number;
}

/**
 * OpenAI's x-ratelimit-*-tokens headers, each present and consistent: whole numbers, the
 * remaining at most the limit, and a reset ahead of now and within the limit's window.
 */
function limitHeaders(headers: Headers, windowMs: number): LimitHeaders {
  const whole = (name: string) => {
    const value = headers.get(name);
    assert.match(value ?? '(absent)', /^\d+$/, `${name}: ${value}`);
    return Number(value);
  };
  const limit = whole('x-ratelimit-limit-tokens');
  const remaining = whole('x-ratelimit-remaining-tokens');
  assert.ok(limit > 0 && remaining <= limit, `remaining ${remaining} of ${limit}`);
  const resetMs = durationMs(headers.get('x-ratelimit-reset-tokens') ?? '(absent)');
  assert.ok(resetMs > 0 && resetMs <= windowMs, `resets in ${resetMs} ms, window ${windowMs} ms`);
  return { limit, remaining, resetMs };
}

/** A refusal as OpenAI words one: 429, its rate-limit headers, Retry-After and error JSON. */
function assertRefusal(
  refusal: { status: number; headers: Headers; body: string },
  kind: string,
  windowMs: number,
): LimitHeaders {
  assert.equal(refusal.status, 429);
  const limits = limitHeaders(refusal.headers, windowMs);
  const retryAfter = refusal.headers.get('retry-after');
  assert.match(retryAfter ?? '(absent)', /^[1-9]\d*$/, `retry-after: ${retryAfter}`);
  const body = JSON.parse(refusal.body) as { error: Record<string, unknown> };
  const windowEndS = Math.ceil(limits.resetMs / 1000);
  // Spent: both name the moment the window ends. Held full by calls in flight: Retry-After
  // asks for a retry once they end (within the window), the headers still tell the window.
  const heldFull = String(body.error.message).includes('calls in progress hold the rest');
  const heldFullS = Math.ceil(HELD_FULL_RETRY_AFTER_MS / 1000);
  assert.equal(Number(retryAfter), heldFull ? Math.min(heldFullS, windowEndS) : windowEndS);
  assert.deepEqual(Object.keys(body), ['error']);
  assert.deepEqual(Object.keys(body.error).sort(), ['code', 'message', 'param', 'type']);
  assert.equal(body.error.type, 'rate_limit_error');
  assert.equal(body.error.code, 'budget_exceeded');
  assert.equal(body.error.param, null);
  assert.ok(String(body.error.message).includes(kind), String(body.error.message));
  return limits;
}

/**
 * Waits (up to a deadline) until the usage metered for `user` past `before` is settled in
 * the balance of `limit`: its remaining gauge shows the limit less all that was billed.
 * Returns the total billed, or undefined once `abandon` says the run is void.
 */
async function settledSpend(
  gateway: Gateway,
  user: string,
  limit: Pick<LimitKindCase, 'kind' | 'unit' | 'limit'>,
  before: number,
  abandon: () => boolean = () => false,
): Promise<number | undefined> {
  const deadline = Date.now() + 60_000;
  let billed = 0;
  let left: number | undefined;
  while (Date.now() < deadline) {
    const metrics = await gateway.metrics();
    billed = billedIn(metrics, user, limit.unit);
    left = sample(metrics, 'ai_gateway_budget_remaining', { budget_key: user, limit: limit.kind });
    if (billed > before && left === Math.max(0, limit.limit - billed)) return billed;
    if (abandon()) return undefined;
    await pause(100);
  }
  assert.fail(`${user}: usage not settled in ${limit.kind}: billed ${billed}, gauge ${left}`);
}

interface Step {
  /** What was spent (settled) in the limit's unit when this request was sent. */
  readonly spentBefore: number;
  readonly status: number;
  readonly headers: Headers;
  readonly body: string;
}

interface KindRun {
  readonly user: string;
  readonly steps: readonly Step[];
  readonly spent: number;
}

/**
 * One fresh user asks, one request at a time and each settled before the next, until the
 * limit refuses; then asks once more. Undefined when the run crossed into a new window of
 * the limit (the balance started over), so its counts say nothing.
 */
async function spendUntilRefused(
  gateway: Gateway,
  limit: LimitKindCase,
): Promise<KindRun | undefined> {
  const user = `kind-${randomUUID()}`;
  const windowOf = (at: number) => Math.floor(at / limit.windowMs);
  const window = windowOf(Date.now());
  const crossed = () => windowOf(Date.now()) !== window;
  const steps: Step[] = [];
  let spent = 0;
  const ask = async () => {
    const response = await gateway.chat(user, { headers: limit.headers });
    const body = await response.text();
    steps.push({ spentBefore: spent, status: response.status, headers: response.headers, body });
    return response.status;
  };
  for (let i = 0; i < 40 && (await ask()) === 200; i++) {
    const settled = await settledSpend(gateway, user, limit, spent, crossed);
    if (settled === undefined) return undefined;
    spent = settled;
  }
  await ask();
  return crossed() ? undefined : { user, steps, spent };
}

function route(limits: string): string {
  return `kind: AIGatewayRoute
metadata: {name: budgets}
spec:
  backends:
  - {name: local, provider: local, model: gpt-4o-mini}
  userIdentification: {header: x-user-id}
${limits}`;
}

/** One backend on an OpenAI-compatible fake in this process, so a test can make it fail. */
function upstreamRoute(upstream: FakeOpenAiUpstream, limits: string): string {
  return `kind: AIGatewayRoute
metadata: {name: budgets}
spec:
  backends:
  - {name: upstream, provider: vllm, baseUrl: '${upstream.baseUrl}', model: gpt-4o-mini}
  userIdentification: {header: x-user-id}
${limits}`;
}

/**
 * Fires `count` concurrent requests for one user; returns how many were admitted and
 * the first refusal's body.
 */
async function burst(gateway: Gateway, user: string, count: number, stream = false) {
  const responses = await Promise.all(
    Array.from({ length: count }, async () => {
      const response = await gateway.chat(user, { stream });
      return { status: response.status, headers: response.headers, body: await response.text() };
    }),
  );
  return {
    admitted: responses.filter((r) => r.status === 200),
    refused: responses.filter((r) => r.status === 429),
    other: responses.filter((r) => r.status !== 200 && r.status !== 429),
  };
}

/** Reads `reader` until its text so far includes `text`; failing if the stream ends first. */
async function readUntil(reader: ReadableStreamDefaultReader<Uint8Array>, text: string) {
  const decoder = new TextDecoder();
  let seen = '';
  while (!seen.includes(text)) {
    const { value, done } = await reader.read();
    assert.ok(!done, `the stream ended early: ${seen}`);
    seen += decoder.decode(value, { stream: true });
  }
}

export function describeBudgetScenarios(
  store: string,
  env: () => Promise<Record<string, string>>,
  readEvents: EventReader = embeddedEventLog,
): void {
  const start = async (yaml: string) => startGateway(yaml, await env(), readEvents);

  describe(`budgets on the all-in-one gateway (${store})`, () => {
    it('holds a burst of 200 concurrent streams to the budget: no token billed past the limit', async () => {
      const limit = 20 * PER_REQUEST;
      const gateway = await start(
        route(`  tokenBudget:\n    perUser: {limit: ${limit}, period: 30d}\n`),
      );
      try {
        const user = `burst-${randomUUID()}`;
        const { admitted, refused, other } = await burst(gateway, user, 200, true);
        assert.deepEqual(other, []);
        // Reservations alone fit 20; settled calls that used less than they held free room.
        assert.ok(admitted.length >= 20 && admitted.length < 200, `admitted ${admitted.length}`);
        assert.ok(admitted.every((r) => r.body.includes('data: [DONE]')));
        const window = 30 * DAY_MS;
        for (const answer of admitted) {
          const headers = limitHeaders(answer.headers, window);
          assert.equal(headers.limit, limit);
          // Its own hold at least is counted.
          assert.ok(headers.remaining <= limit - PER_REQUEST, `remaining ${headers.remaining}`);
        }
        for (const refusal of refused) {
          const headers = assertRefusal(refusal, 'tokenBudget.perUser', window);
          assert.equal(headers.limit, limit);
          // Refused because its hold did not fit in what was left.
          assert.ok(headers.remaining < PER_REQUEST, `remaining ${headers.remaining}`);
        }
        await assertRejectedEvents(gateway, user, refused, 'tokenBudget.perUser');
        // Wait (boundedly) until every admitted call's usage has been settled.
        let metrics = '';
        let billed = 0;
        for (let i = 0; i < 120; i++) {
          metrics = await gateway.metrics();
          billed =
            metricSum(metrics, 'ai_gateway_tokens_total', { user, type: 'input' }) +
            metricSum(metrics, 'ai_gateway_tokens_total', { user, type: 'output' });
          const remaining = metricSum(metrics, 'ai_gateway_budget_remaining', { budget_key: user });
          if (billed > 0 && remaining === limit - billed) break;
          await settle();
        }
        assert.ok(billed > 0 && billed <= limit, `billed ${billed} of ${limit}`);
        assert.equal(metricSum(metrics, 'ai_gateway_reservation_overshoot_tokens_total', {}), 0);
        assert.equal(
          metricSum(metrics, 'ai_gateway_budget_remaining', { budget_key: user }),
          limit - billed,
        );
      } finally {
        await gateway.process.stop();
      }
    });

    for (const limit of LIMIT_KINDS) {
      it(`admits ${limit.kind} exactly while the spend plus a request's hold fits, then refuses`, async () => {
        const gateway = await start(route(limit.yaml));
        try {
          let run: KindRun | undefined;
          // A run that spans two windows sees the balance start over: run it again.
          for (let attempt = 0; attempt < 3 && !run; attempt++) {
            run = await spendUntilRefused(gateway, limit);
          }
          assert.ok(run, 'three runs in a row spanned a window boundary');
          const hold = holdIn(limit.unit);
          let lastRemaining = Infinity;
          for (const [index, step] of run.steps.entries()) {
            const fits = step.spentBefore + hold <= limit.limit;
            assert.equal(
              step.status,
              fits ? 200 : 429,
              `request ${index + 1}: spent ${step.spentBefore} + hold ${hold} against ${limit.limit}`,
            );
            const headers = fits
              ? limitHeaders(step.headers, limit.windowMs)
              : assertRefusal(step, limit.kind, limit.windowMs);
            assert.equal(headers.limit, limit.limit);
            if (fits) {
              // Counted with this request's own hold, and lower after every call.
              assert.equal(headers.remaining, limit.limit - step.spentBefore - hold);
              assert.ok(
                headers.remaining < lastRemaining,
                `${headers.remaining} after ${lastRemaining}`,
              );
              lastRemaining = headers.remaining;
            } else {
              assert.equal(headers.remaining, Math.max(0, limit.limit - step.spentBefore));
            }
          }
          const admitted = run.steps.filter((step) => step.status === 200).length;
          // Every call costs the same (the local model is deterministic): the count is known.
          const cost = run.spent / admitted;
          assert.equal(admitted, 1 + Math.floor((limit.limit - hold) / cost));
          const refusals = run.steps.filter((step) => step.status === 429);
          assert.equal(refusals.length, 2, 'the first refusal, and the same again');
          const rejected = await assertRejectedEvents(gateway, run.user, refusals, limit.kind);
          if (limit.headers) for (const event of rejected) assert.equal(event.tier, 'free');
        } finally {
          await gateway.process.stop();
        }
      });
    }

    it('enforces costControl.maxDailyCostPerUser in dollars', async () => {
      // 1k tokens cost $1 here, so a $0.20 cap fits a handful of small calls.
      const gateway = await start(
        route(
          `  costControl:\n    maxDailyCostPerUser: 0.20\n    modelPricing:\n      gpt-4o-mini: {inputPer1k: 1.0, outputPer1k: 1.0}\n`,
        ),
      );
      try {
        const user = `cost-${randomUUID()}`;
        let refusedAt = -1;
        for (let i = 0; i < 20 && refusedAt < 0; i++) {
          const response = await gateway.chat(user);
          const body = await response.text();
          if (response.status === 429) {
            refusedAt = i;
            assert.ok(body.includes('costControl.maxDailyCostPerUser'), body);
          }
          await settle();
        }
        assert.ok(refusedAt > 0, `refused at ${refusedAt}`);
        const metrics = await gateway.metrics();
        const dollars = metricSum(metrics, 'ai_gateway_cost_dollars', { user });
        assert.ok(dollars > 0 && dollars <= 0.2 + 1e-9, `spent ${dollars}`);
      } finally {
        await gateway.process.stop();
      }
    });

    it('maxDailyCostPerUser: 0 freezes spend: every call is the 429, none reaches the backend', async () => {
      const upstream = await new FakeOpenAiUpstream('frozen').start();
      const gateway = await start(
        upstreamRoute(
          upstream,
          `  costControl:\n    maxDailyCostPerUser: 0\n    modelPricing:\n      gpt-4o-mini: {inputPer1k: 1.0, outputPer1k: 1.0}\n`,
        ),
      );
      try {
        for (const stream of [false, true]) {
          const response = await gateway.chat(`frozen-${randomUUID()}`, { stream });
          const body = JSON.parse(await response.text()) as { error: Record<string, unknown> };
          assert.equal(response.status, 429);
          assert.equal(body.error.type, 'rate_limit_error');
          assert.equal(body.error.code, 'budget_exceeded');
          assert.match(String(body.error.message), /costControl\.maxDailyCostPerUser is 0/);
          // Until the day's window ends (a dollar cap has no x-ratelimit headers).
          const retryAfter = Number(response.headers.get('retry-after'));
          assert.ok(retryAfter >= 1 && retryAfter <= DAY_MS / 1000, `retry-after ${retryAfter}`);
        }
        assert.equal(upstream.calls.length, 0);
      } finally {
        await gateway.process.stop();
        await upstream.stop();
      }
    });

    it('releases the hold of a call the upstream fails (5xx, no failover)', async () => {
      const upstream = await new FakeOpenAiUpstream('failing').start();
      const limit = 10 * PER_REQUEST;
      const gateway = await start(
        upstreamRoute(upstream, `  tokenBudget:\n    perUser: {limit: ${limit}, period: 30d}\n`),
      );
      try {
        const user = `failed-${randomUUID()}`;
        upstream.next({ kind: 'status', status: 500 });
        const failed = await gateway.chat(user);
        await failed.text();
        assert.equal(failed.status, 502);
        // Nothing was billed and nothing is held: the next call finds the whole budget,
        // less its own hold, as the user's first call would have.
        const next = await gateway.chat(user);
        await next.text();
        assert.equal(next.status, 200);
        const headers = limitHeaders(next.headers, 30 * DAY_MS);
        assert.equal(headers.limit, limit);
        assert.equal(headers.remaining, limit - PER_REQUEST);
      } finally {
        await gateway.process.stop();
        await upstream.stop();
      }
    });

    it('settles the hold of a stream the client abandons midway to what it consumed', async () => {
      const upstream = await new FakeOpenAiUpstream('stalling').start();
      const limit = 10 * PER_REQUEST;
      const perUser = { kind: 'tokenBudget.perUser', unit: 'tokens' as const, limit };
      const gateway = await start(
        upstreamRoute(upstream, `  tokenBudget:\n    perUser: {limit: ${limit}, period: 30d}\n`),
      );
      try {
        const user = `abandoned-${randomUUID()}`;
        // The upstream sends two words, then stalls with the stream still open.
        upstream.next({ kind: 'stall-stream', afterChunks: 2 });
        const client = new AbortController();
        const stream = await gateway.chat(user, { stream: true, signal: client.signal });
        assert.equal(stream.status, 200);
        // While it streams, its worst case is held.
        assert.equal(limitHeaders(stream.headers, 30 * DAY_MS).remaining, limit - PER_REQUEST);
        const reader = stream.body!.getReader();
        await readUntil(reader, ' from');
        client.abort();
        await reader.read().catch(() => undefined);

        // The gateway cancels the upstream call; what went by (the prompt and two words,
        // estimated) settles the hold instead of the worst case.
        const spent = await settledSpend(gateway, user, perUser, 0);
        assert.ok(spent !== undefined && spent < PER_REQUEST, `billed ${spent}`);
        const next = await gateway.chat(user);
        await next.text();
        assert.equal(next.status, 200);
        const headers = limitHeaders(next.headers, 30 * DAY_MS);
        assert.equal(headers.limit, limit);
        // Back to the budget less what was consumed: the abandoned hold is gone.
        assert.equal(headers.remaining, limit - spent - PER_REQUEST);
      } finally {
        await gateway.process.stop();
        await upstream.stop();
      }
    });

    it('keeps the hold while a fallback streams after an attempt cut before its first event', async () => {
      const primary = await new FakeOpenAiUpstream('primary').start();
      const spare = await new FakeOpenAiUpstream('spare').start();
      // Room for one call's hold and the cut attempt's prompt, not for a second hold.
      const limit = 2 * PER_REQUEST - 1;
      const perUser = { kind: 'tokenBudget.perUser', unit: 'tokens' as const, limit };
      const gateway = await start(`kind: AIGatewayRoute
metadata: {name: budgets}
spec:
  backends:
  - {name: primary, priority: 0, provider: vllm, baseUrl: '${primary.baseUrl}', model: gpt-4o-mini}
  - {name: spare, priority: 1, provider: vllm, baseUrl: '${spare.baseUrl}', model: gpt-4o-mini}
  failover: {on: [error], retryDelay: 0s}
  userIdentification: {header: x-user-id}
  tokenBudget:
    perUser: {limit: ${limit}, period: 30d}
`);
      try {
        const user = `fallback-${randomUUID()}`;
        // The primary's stream breaks (not JSON) before its first event; the spare sends two words and
        // stays open.
        primary.next({ kind: 'garbage' });
        spare.next({ kind: 'stall-stream', afterChunks: 2 });
        const client = new AbortController();
        const stream = await gateway.chat(user, { stream: true, signal: client.signal });
        assert.equal(stream.status, 200);
        assert.equal(stream.headers.get('x-ai-gateway-backend'), 'spare');
        const reader = stream.body!.getReader();
        await readUntil(reader, ' from');
        // The cut attempt's usage is metered (it reached the budget's store by now).
        const cut = await settledSpend(gateway, user, perUser, 0);
        assert.ok(cut !== undefined && cut < PER_REQUEST, `billed ${cut}`);
        // While the spare streams, its worst case is still held: no room for a second call.
        const second = await gateway.chat(user);
        const body = await second.text();
        assert.equal(second.status, 429, body);

        client.abort();
        await reader.read().catch(() => undefined);
        // Both attempts are charged and the hold is gone: the balance is the limit less
        // all that was billed (the cut attempt's prompt, the spare's prompt and two words).
        const spent = await settledSpend(gateway, user, perUser, cut);
        assert.ok(spent !== undefined && spent > cut, `billed ${spent} after ${cut}`);
        assert.equal(primary.calls.length, 1);
        assert.equal(spare.calls.length, 1);
      } finally {
        await gateway.process.stop();
        await primary.stop();
        await spare.stop();
      }
    });

    it('keeps the hold of a call that outlives AI_GATEWAY_RESERVATION_HOLD_MS until it ends', async () => {
      const holdMs = 2_000;
      const upstream = await new FakeOpenAiUpstream('slow').start();
      // Room for one call's hold, not two.
      const limit = Math.floor(1.5 * PER_REQUEST);
      const gateway = await startGateway(
        upstreamRoute(upstream, `  tokenBudget:\n    perUser: {limit: ${limit}, period: 30d}\n`),
        { ...(await env()), AI_GATEWAY_RESERVATION_HOLD_MS: String(holdMs) },
        readEvents,
      );
      let answer: (value?: unknown) => void = () => undefined;
      try {
        const streamer = `long-stream-${randomUUID()}`;
        const waiter = `long-call-${randomUUID()}`;
        // A stream that sends two words and stays open, and a call answered only when told.
        upstream.next({ kind: 'stall-stream', afterChunks: 2 });
        const stream = await gateway.chat(streamer, { stream: true });
        assert.equal(stream.status, 200);
        upstream.next({ kind: 'held', until: new Promise((resolve) => (answer = resolve)) });
        const slow = gateway.chat(waiter);
        await pause(500); // admitted and waiting on the upstream
        await pause(2.5 * holdMs); // both past the time a hold lasts unrefreshed
        for (const user of [streamer, waiter]) {
          const next = await gateway.chat(user);
          const body = await next.text();
          // Still held: no room for a second call beside the running one.
          assert.equal(next.status, 429, `${user}: ${body}`);
        }
        let metrics = await gateway.metrics();
        assert.ok(
          metricSum(metrics, 'ai_gateway_budget_holds_refreshed_total', {}) >= 2,
          'both holds refreshed',
        );
        assert.equal(metricSum(metrics, 'ai_gateway_budget_holds_lapsed_total', {}), 0);

        // The slow call ends and settles its hold: its user has room again.
        answer();
        const done = await slow;
        await done.text();
        assert.equal(done.status, 200);
        const spent = await settledSpend(
          gateway,
          waiter,
          { kind: 'tokenBudget.perUser', unit: 'tokens', limit },
          0,
        );
        assert.ok(spent !== undefined && spent > 0, `billed ${spent}`);
        await stream.body?.cancel();
        metrics = await gateway.metrics();
        assert.equal(metricSum(metrics, 'ai_gateway_reservation_overshoot_tokens_total', {}), 0);
      } finally {
        answer();
        await gateway.process.stop();
        await upstream.stop();
      }
    });

    it('fails over to the next backend when a per-model budget is exhausted', async () => {
      // A per-model balance is keyed by the model alone, and the suites share one Redis
      // (and may run at once): a model name of this run's own keeps their spend apart.
      const run = randomUUID().slice(0, 8);
      const limited = `limited-model-${run}`;
      const gateway = await start(
        `kind: AIGatewayRoute
metadata: {name: budgets}
spec:
  backends:
  - {name: limited, priority: 0, provider: local, model: ${limited}, modelNameOverride: gpt-4o-mini}
  - {name: spare, priority: 1, provider: local, model: spare-model, modelNameOverride: gpt-4o-mini}
  failover: {on: [budgetExceeded]}
  tokenRateLimit:
    perModel:
      ${limited}: {tokensPerMinute: ${2 * PER_REQUEST}}
`,
      );
      try {
        // The exhaustion broadcast reaches the router after the usage settles: keep asking
        // (boundedly) until it has, then every request goes to the spare backend.
        const backends: string[] = [];
        const served: { user: string; requestId: string; backend: string }[] = [];
        // On Kafka this includes a consumer group settling after earlier gateways left it.
        const deadline = Date.now() + 90_000;
        for (let i = 0; Date.now() < deadline && backends.at(-1) !== 'spare'; i++) {
          const user = `model-${run}-${i}`;
          const response = await gateway.chat(user);
          assert.equal(response.status, 200);
          const backend = response.headers.get('x-ai-gateway-backend') ?? '';
          backends.push(backend);
          served.push({ user, requestId: response.headers.get('x-request-id') ?? '', backend });
          const body = (await response.json()) as { model: string };
          assert.equal(body.model, 'gpt-4o-mini', 'the client still sees the model it asked for');
          await settle();
        }
        assert.equal(backends[0], 'limited');
        assert.equal(backends.at(-1), 'spare', backends.join(','));

        // One fallback event for each request the spare served, none for the others.
        const spared = served.filter((call) => call.backend === 'spare');
        const ours = new Set(served.map((call) => call.requestId));
        const fallbacks = await recordedEvents(
          gateway,
          Topic.Fallback,
          (event) => ours.has(String(event.requestId)),
          spared.length,
        );
        assert.deepEqual(
          fallbacks.map((event) => event.requestId).sort(),
          spared.map((call) => call.requestId).sort(),
        );
        for (const event of fallbacks) {
          const call = spared.find((c) => c.requestId === event.requestId)!;
          assert.equal(event.type, 'fallback.occurred');
          assert.equal(event.userId, call.user);
          assert.equal(event.modelRequested, 'gpt-4o-mini');
          assert.equal(event.fromBackend, 'limited');
          assert.equal(event.fromModel, limited);
          assert.equal(event.toBackend, 'spare');
          assert.equal(event.toModel, 'spare-model');
          assert.equal(event.reason, 'budgetExceeded');
        }
      } finally {
        await gateway.process.stop();
      }
    });
  });
}
