import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import Fastify from 'fastify';
import {
  bindLimit,
  ExhaustionView,
  LocalBudgetStore,
  userLimits,
  type BoundLimit,
} from '@aigw/budget-core';
import { parseGatewayConfig, routeForModel } from '@aigw/config';
import type { TokenUsageRecorded } from '@aigw/contracts';
import {
  DataPlaneError,
  DataPlaneErrorCode,
  type GatewayRequest,
} from '@aigw/contracts/data-plane';
import { BudgetAdmission } from '../admission/budget-admission';
import { buildGatewayRequest } from '../domain/request-builder';
import { BatchEstimator } from './batch-estimate';
import { BATCH_HOLD_MS, BatchHolds } from './batch-holds';
import { FilesAndBatches, type HeldObjectCalls } from './files-and-batches';
import type { UnkeptBatch } from './files-and-batches-options';
import { MemoryHeldObjectStore } from './held-objects';
import { heldOnBatchRoute } from './testing/held-record';
import { alicePipeline } from './testing/alice-pipeline';

const TTL = 30 * 24 * 3600_000;
/** $0.002 in and $0.008 out per 1k tokens; $0.01 a day for each user; batches at half. */
const parsed = parseGatewayConfig(
  `kind: AIGatewayRoute
metadata: {name: batches}
spec:
  backends:
  - {name: openai-batch, provider: openai, baseUrl: "http://127.0.0.1:9/v1", model: up, modelNameOverride: gpt-batch}
  userIdentification: {header: x-user-id}
  costControl:
    maxDailyCostPerUser: 0.01
    modelPricing:
      up: {inputPer1k: 0.002, outputPer1k: 0.008}
`,
  { env: {} },
);
if (!parsed.ok) throw new Error('bad config');
const config = parsed.config;

/** A backend whose batches finish (or fail) when the test says. */
class Backend implements HeldObjectCalls {
  readonly created: string[] = [];
  readonly cancelled: string[] = [];
  readonly status = new Map<string, string>();
  refuseCreate = false;
  refuseCancel = false;

  async send(_backend: unknown, method: string, path: string) {
    const json = (body: unknown, type = 'application/json') => ({
      status: 200,
      contentType: type,
      body: Buffer.from(typeof body === 'string' ? body : JSON.stringify(body)),
    });
    if (method === 'POST' && path === '/batches') {
      if (this.refuseCreate) throw new DataPlaneError(DataPlaneErrorCode.UpstreamError, 'down');
      const id = `b${this.created.length + 1}`;
      this.created.push(id);
      this.status.set(id, 'in_progress');
      return json({ id, object: 'batch', status: 'in_progress' });
    }
    const cancelled = /^\/batches\/(b\d+)\/cancel$/.exec(path)?.[1];
    if (method === 'POST' && cancelled && this.status.has(cancelled)) {
      if (this.refuseCancel) throw new DataPlaneError(DataPlaneErrorCode.UpstreamError, 'down');
      this.cancelled.push(cancelled);
      this.status.set(cancelled, 'cancelling');
      return json({ id: cancelled, object: 'batch', status: 'cancelling' });
    }
    const batch = /^\/batches\/(b\d+)$/.exec(path)?.[1];
    if (batch) {
      const status = this.status.get(batch)!;
      const output = status === 'completed' ? { output_file_id: `out-${batch}` } : {};
      return json({ id: batch, object: 'batch', status, ...output });
    }
    if (path.startsWith('/files/out-')) {
      // $0.006 at the full price, $0.003 billed.
      const usage = { prompt_tokens: 1000, completion_tokens: 500 };
      return json(`${JSON.stringify({ response: { body: { usage } } })}\n`, 'application/jsonl');
    }
    throw new DataPlaneError(DataPlaneErrorCode.NotFound, 'No such object');
  }
}

const line = (max_tokens: number) => ({
  model: 'gpt-batch',
  messages: [{ role: 'user', content: 'q' }],
  max_tokens,
});

function chat(maxTokens: number): GatewayRequest {
  return buildGatewayRequest('chat', line(maxTokens), {
    requestId: `chat-${maxTokens}`,
    caller: { userKey: 'alice' },
    allowedModels: [],
    forwardHeaders: {},
  });
}

function setup(start = Date.UTC(2026, 11, 4, 1)) {
  let now = start;
  const clock = () => now;
  const lapses: string[] = [];
  const budgets = new LocalBudgetStore(':memory:', clock, (kind, count) =>
    lapses.push(`${kind} ${count}`),
  );
  const admission = new BudgetAdmission(() => config, budgets, new ExhaustionView(), {
    defaultMaxOutputTokens: 100,
    holdMs: 60_000,
    now: clock,
  });
  const store = new MemoryHeldObjectStore(
    { maxEntries: 100, maxBytes: 1_000_000 },
    undefined,
    clock,
  );
  const backend = new Backend();
  const events: TokenUsageRecorded[] = [];
  const actions: string[] = [];
  const errors: string[] = [];
  const unkept: UnkeptBatch[] = [];
  const batches = new FilesAndBatches({
    config: () => config,
    upstream: backend,
    store,
    admission,
    holds: new BatchHolds({ config: () => config, store: budgets, priceFactor: 0.5, now: clock }),
    ttlMs: TTL,
    priceFactor: 0.5,
    publish: (event) => events.push(event),
    onAction: (kind, action, outcome) => actions.push(`${kind} ${action} ${outcome}`),
    onError: (what) => errors.push(what),
    onUnkeptBatch: (batch) => unkept.push(batch),
    now: clock,
  });
  const app = Fastify();
  const pipeline = alicePipeline();
  batches.register(app, '/v1', pipeline);
  const route = routeForModel(config, 'gpt-batch')!;
  const dollars = (): BoundLimit =>
    bindLimit(
      userLimits({ route, userKey: 'alice' }).find((limit) => limit.unit === 'dollars')!,
      now,
    );
  /** Used and held of alice's daily dollars. */
  const balance = async () => {
    const limit = dollars();
    const [found] = await budgets.balances([{ key: limit.key, limit: limit.limit }], now);
    return { used: found.used, reserved: found.reserved };
  };
  /**
   * A batch input file of alice's, its lines asking for these max_tokens; `as` makes one
   * of another purpose, or one uploaded before uploads were estimated (no estimate kept).
   */
  const file = async (
    name: string,
    maxTokens: number[],
    as: { purpose?: string; estimated?: boolean; url?: string } = {},
  ) => {
    const estimator = new BatchEstimator(100);
    for (const tokens of maxTokens) estimator.add(as.url ?? '/v1/chat/completions', line(tokens));
    const purpose = as.purpose ?? 'batch';
    const estimated = purpose === 'batch' && as.estimated !== false;
    const record = heldOnBatchRoute('file', name, now, {
      object: { object: 'file', purpose },
      ...(estimated && { estimate: estimator.estimate }),
    });
    await store.put(record, TTL);
    return record.id;
  };
  const create = (fileId: string) =>
    app.inject({
      method: 'POST',
      url: '/v1/batches',
      payload: {
        input_file_id: fileId,
        endpoint: '/v1/chat/completions',
        completion_window: '24h',
      },
    });
  /** What the budget settler does with a usage event: spend recorded, its hold dropped. */
  const settle = async (event: TokenUsageRecorded) => {
    const limit = dollars();
    budgets.settle(
      event.eventId,
      event.reservationId,
      [
        {
          key: limit.key,
          amount: event.costDollars,
          limit: limit.limit,
          windowEndsAt: limit.windowRef.endsAt,
        },
      ],
      now,
    );
  };
  return {
    app,
    admission,
    budgets,
    backend,
    batches,
    store,
    events,
    actions,
    errors,
    unkept,
    balance,
    file,
    create,
    settle,
    lapses,
    advance: (ms: number) => (now += ms),
  };
}

const close = (value: number, expected: number) =>
  assert.ok(Math.abs(value - expected) < 1e-9, `${value} is not ${expected}`);

describe('a batch holds its estimated cost against its owner budgets', () => {
  const apps: { close(): Promise<unknown> }[] = [];
  after(() => Promise.all(apps.map((app) => app.close())));

  it('refuses a batch larger than the remaining budget before the backend hears of it', async () => {
    const t = setup();
    apps.push(t.app);
    // Two lines of 1000 output tokens: about $0.008 at the batch price, of $0.01.
    const first = await t.create(await t.file('f1', [1000, 1000]));
    assert.equal(first.statusCode, 200, first.body);
    const held = (await t.balance()).reserved;
    assert.ok(held > 0.008 && held < 0.0085, `held ${held}`);
    // One more line's $0.004 does not fit the $0.002 left: the 429 a chat call gets.
    const second = await t.create(await t.file('f2', [1000]));
    assert.equal(second.statusCode, 429, second.body);
    const error = JSON.parse(second.body).error;
    assert.equal(error.code, 'budget_exceeded');
    assert.ok(second.headers['retry-after']);
    assert.deepEqual(t.backend.created, ['b1']);
    // Larger than a whole day's budget: refused whenever retried, a 400.
    const huge = await t.create(await t.file('f3', [2000, 2000, 2000]));
    assert.equal(huge.statusCode, 400, huge.body);
    assert.equal(JSON.parse(huge.body).error.param, 'input_file_id');
    assert.deepEqual(t.backend.created, ['b1']);
    // Counted apart: the 429 refused, the 400 invalid.
    assert.deepEqual(
      t.actions.filter((action) => action.startsWith('batch hold')),
      ['batch hold ok', 'batch hold refused', 'batch hold invalid'],
    );
    close((await t.balance()).reserved, held);
  });

  it('counts a batch refused for an unreachable budget store as failed, not as the upstream', async () => {
    const t = setup();
    apps.push(t.app);
    t.budgets.reserve = () => {
      throw new Error('store down');
    };
    const refused = await t.create(await t.file('f1', [10]));
    assert.equal(refused.statusCode, 503, refused.body);
    assert.equal(JSON.parse(refused.body).error.code, 'budget_store_unavailable');
    assert.deepEqual(t.backend.created, []);
    assert.deepEqual(t.actions, ['batch create failed']);
  });

  it('leaves a chat call only the budget the batch does not hold, until it is billed', async () => {
    const t = setup();
    apps.push(t.app);
    const created = await t.create(await t.file('f1', [1000, 1000]));
    assert.equal(created.statusCode, 200, created.body);
    const batchId = JSON.parse(created.body).id as string;
    // $0.0032 of output fits $0.01 but not what the batch leaves: refused.
    await assert.rejects(t.admission.admit(chat(400)), (error: DataPlaneError) => {
      assert.equal(error.code, DataPlaneErrorCode.BudgetExceeded);
      return true;
    });
    // $0.0008 fits what is left.
    await t.admission.release(await t.admission.admit(chat(100)));

    // Billed: the usage event names the hold, and settling it leaves the spend alone.
    t.backend.status.set('b1', 'completed');
    assert.equal(await t.batches.checkBatch((await t.store.get(batchId))!), 'billed');
    assert.equal(t.events.length, 1);
    const [event] = t.events;
    assert.equal(event.reservationId, (await t.store.get(batchId))!.reservationId);
    const output = (await t.store.list('alice', 'file', 10)).find((f) => f.batchId === batchId);
    assert.ok(output, 'the output file is adopted');
    assert.equal(output.reservationId, undefined, 'an output file carries no hold');
    close(event.costDollars, 0.003);
    await t.settle(event);
    const after = await t.balance();
    close(after.used, 0.003);
    close(after.reserved, 0);
    // The hold is gone: $0.0056 fits what is left now.
    await t.admission.release(await t.admission.admit(chat(650)));
  });

  it('gives the hold back when the batch fails, or is not created', async () => {
    const t = setup();
    apps.push(t.app);
    const created = await t.create(await t.file('f1', [1000]));
    const batchId = JSON.parse(created.body).id as string;
    assert.ok((await t.balance()).reserved > 0);
    t.backend.status.set('b1', 'failed');
    assert.equal(await t.batches.checkBatch((await t.store.get(batchId))!), 'finished');
    close((await t.balance()).reserved, 0);
    assert.equal((await t.store.get(batchId))!.reservationId, undefined);

    t.backend.refuseCreate = true;
    const refused = await t.create(await t.file('f2', [1000]));
    assert.equal(refused.statusCode, 502, refused.body);
    close((await t.balance()).reserved, 0);
    assert.equal(t.actions.filter((action) => action === 'batch release ok').length, 2);
  });

  it('holds a batch created late in the day on the next day too, where its bill may land', async () => {
    // 23:00: the batch is billed in the next 24 hours, most likely tomorrow.
    const t = setup(Date.UTC(2026, 11, 4, 23));
    apps.push(t.app);
    const created = await t.create(await t.file('f1', [1000, 1000]));
    assert.equal(created.statusCode, 200, created.body);
    const batchId = JSON.parse(created.body).id as string;
    t.advance(2 * 3600_000); // 01:00 the next day, the batch still running
    const held = (await t.balance()).reserved;
    assert.ok(held > 0.008 && held < 0.0085, `held ${held} on the day it is billed`);
    // A chat call cannot spend today what the batch's bill will take.
    await assert.rejects(t.admission.admit(chat(400)), (error: DataPlaneError) => {
      assert.equal(error.code, DataPlaneErrorCode.BudgetExceeded);
      return true;
    });
    // Billed today: the spend replaces both days' holds.
    t.backend.status.set('b1', 'completed');
    assert.equal(await t.batches.checkBatch((await t.store.get(batchId))!), 'billed');
    await t.settle(t.events[0]);
    const after = await t.balance();
    close(after.used, 0.003);
    close(after.reserved, 0);
    await t.admission.release(await t.admission.admit(chat(650)));
  });

  it('counts a hold nothing ended as a lapsed batch hold, and a chat call hold as a call', async () => {
    const t = setup();
    apps.push(t.app);
    const created = await t.create(await t.file('f1', [1000]));
    assert.equal(created.statusCode, 200, created.body);
    await t.admission.admit(chat(100)); // a call whose usage never comes
    t.advance(60_000);
    await t.admission.release(await t.admission.admit(chat(100)));
    assert.deepEqual(t.lapses, ['call 1']);
    // Never billed nor given back: its hold lapses with the sweeper's last look.
    t.advance(BATCH_HOLD_MS);
    await t.admission.release(await t.admission.admit(chat(100)));
    assert.deepEqual(t.lapses, ['call 1', 'batch 1']);
  });

  // It was kept held (lapsing after 36 h) and answered a bare 500: no look would ever bill
  // it, its owner could neither see nor cancel it, and the SDK's retry made a second one.
  it('cancels a batch it could not remember at its backend, gives its hold back and answers a 503 to retry', async () => {
    const t = setup();
    apps.push(t.app);
    const fileId = await t.file('f1', [1000]);
    const put = t.store.put.bind(t.store);
    t.store.put = async (record, ttl) => {
      if (record.kind === 'batch') throw new Error('store away');
      return put(record, ttl);
    };
    const created = await t.create(fileId);
    assert.equal(created.statusCode, 503, created.body);
    assert.equal(created.headers['retry-after'], '1');
    const error = JSON.parse(created.body).error;
    assert.equal(error.type, 'service_unavailable');
    assert.equal(error.code, 'batch_store_unavailable');
    assert.deepEqual(t.backend.created, ['b1']);
    assert.deepEqual(t.backend.cancelled, ['b1']);
    close((await t.balance()).reserved, 0);
    assert.deepEqual(t.actions, [
      'batch hold ok',
      'batch unkept_cancel ok',
      'batch release ok',
      'batch create store_unavailable',
    ]);
    assert.deepEqual(
      t.unkept.map(({ backendBatchId, cancelled, route, backend }) => ({
        backendBatchId,
        cancelled,
        route,
        backend,
      })),
      [{ backendBatchId: 'b1', cancelled: true, route: 'batches', backend: 'openai-batch' }],
    );
    // The retry, with the store back: the one batch running is the one remembered.
    t.store.put = put;
    const retried = await t.create(fileId);
    assert.equal(retried.statusCode, 200, retried.body);
    assert.deepEqual(t.backend.created, ['b1', 'b2']);
    assert.deepEqual(await t.store.pending(10), [JSON.parse(retried.body).id]);
  });

  it('still answers the 503 when the cancel fails, reporting the running batch by its backend id', async () => {
    const t = setup();
    apps.push(t.app);
    const fileId = await t.file('f1', [1000]);
    const put = t.store.put.bind(t.store);
    t.store.put = async (record, ttl) => {
      if (record.kind === 'batch') throw new Error('store away');
      return put(record, ttl);
    };
    t.backend.refuseCancel = true;
    const created = await t.create(fileId);
    assert.equal(created.statusCode, 503, created.body);
    assert.equal(JSON.parse(created.body).error.code, 'batch_store_unavailable');
    assert.deepEqual(t.backend.cancelled, []);
    assert.equal(t.unkept.length, 1);
    assert.equal(t.unkept[0].backendBatchId, 'b1');
    assert.equal(t.unkept[0].cancelled, false);
    assert.ok(t.unkept[0].cancelError instanceof DataPlaneError);
    // Billed to no one, so held for no one: the client has no batch.
    close((await t.balance()).reserved, 0);
    assert.deepEqual(t.actions, [
      'batch hold ok',
      'batch unkept_cancel upstream_error',
      'batch release ok',
      'batch create store_unavailable',
    ]);
  });

  it('answers a batch it remembered though its first look could not be recorded: a retry would make a second', async () => {
    const t = setup();
    apps.push(t.app);
    const fileId = await t.file('f1', [1000]);
    const put = t.store.put.bind(t.store);
    let batchPuts = 0;
    t.store.put = async (record, ttl) => {
      // Remembered, then the store away for the look that records it as first seen.
      if (record.kind === 'batch' && ++batchPuts > 1) throw new Error('store away');
      return put(record, ttl);
    };
    const created = await t.create(fileId);
    assert.equal(created.statusCode, 200, created.body);
    const shown = JSON.parse(created.body);
    assert.match(shown.id, /^batch_aigw_/);
    assert.equal(shown.status, 'in_progress');
    assert.deepEqual(t.backend.created, ['b1']);
    assert.deepEqual(t.backend.cancelled, []);
    assert.ok((await t.store.get(shown.id))!.reservationId, 'remembered with its hold');
    assert.deepEqual(await t.store.pending(10), [shown.id], 'indexed for the sweeper');
    assert.deepEqual(t.errors, ['recording a created batch as first seen']);
    // The next look, the store back, bills it against its hold.
    t.store.put = put;
    t.backend.status.set('b1', 'completed');
    assert.equal(await t.batches.checkBatch((await t.store.get(shown.id))!), 'billed');
  });

  it('keeps a hold it could not give back on the record, indexed, for the next look to retry', async () => {
    const t = setup();
    apps.push(t.app);
    const created = await t.create(await t.file('f1', [1000]));
    const batchId = JSON.parse(created.body).id as string;
    assert.deepEqual(await t.store.pending(10), [batchId]);
    t.backend.status.set('b1', 'failed');
    // The budget store away for a moment: the release fails.
    const release = t.budgets.release.bind(t.budgets);
    t.budgets.release = async () => {
      throw new Error('connection lost');
    };
    assert.equal(await t.batches.checkBatch((await t.store.get(batchId))!), 'finished');
    assert.ok((await t.balance()).reserved > 0);
    assert.ok((await t.store.get(batchId))!.reservationId, "the hold is still the batch's");
    assert.deepEqual(await t.store.pending(10), [batchId], 'still indexed for the sweeper');
    // Back: the next look gives the hold back and the batch leaves the index.
    t.budgets.release = release;
    assert.equal(await t.batches.checkBatch((await t.store.get(batchId))!), 'finished');
    close((await t.balance()).reserved, 0);
    assert.equal((await t.store.get(batchId))!.reservationId, undefined);
    assert.deepEqual(await t.store.pending(10), []);
    assert.deepEqual(
      t.actions.filter((action) => action.startsWith('batch release')),
      ['batch release failed', 'batch release ok'],
    );
  });

  it('refuses a batch whose input file was not estimated: no batch runs unheld', async () => {
    const t = setup();
    apps.push(t.app);
    // Uploaded under another purpose: its lines were neither screened nor estimated.
    const other = await t.create(await t.file('f1', [1000], { purpose: 'user_data' }));
    assert.equal(other.statusCode, 400, other.body);
    const otherError = JSON.parse(other.body).error;
    assert.equal(otherError.type, 'invalid_request_error');
    assert.equal(otherError.param, 'input_file_id');
    assert.match(otherError.message, /purpose 'batch'/);
    // Uploaded before uploads were estimated: nothing to hold, so upload it again.
    const unestimated = await t.create(await t.file('f2', [1000], { estimated: false }));
    assert.equal(unestimated.statusCode, 400, unestimated.body);
    const error = JSON.parse(unestimated.body).error;
    assert.equal(error.param, 'input_file_id');
    assert.match(error.message, /upload it again/);
    // Lines estimated as embeddings (no output), run as chat completions: refused too.
    const mismatched = await t.create(await t.file('f3', [1000], { url: '/v1/embeddings' }));
    assert.equal(mismatched.statusCode, 400, mismatched.body);
    assert.equal(JSON.parse(mismatched.body).error.param, 'endpoint');
    assert.match(JSON.parse(mismatched.body).error.message, /'\/v1\/embeddings'/);
    assert.deepEqual(t.backend.created, []);
    close((await t.balance()).reserved, 0);
  });

  it("prices a long-prompt tier by the largest line's prompt, not the file's summed input", async () => {
    const tieredConfig = parseGatewayConfig(
      `kind: AIGatewayRoute
metadata: {name: long}
spec:
  backends:
  - {name: openai-long, provider: openai, baseUrl: "http://127.0.0.1:9/v1", model: long}
  userIdentification: {header: x-user-id}
  costControl:
    maxDailyCostPerUser: 100
    modelPricing:
      long:
        inputPer1k: 0.002
        outputPer1k: 0.008
        tiers: [{aboveInputTokens: 272000, inputPer1k: 0.004, outputPer1k: 0.012}]
`,
      { env: {} },
    );
    if (!tieredConfig.ok) throw new Error('bad config');
    const now = Date.UTC(2026, 11, 4, 1);
    const budgets = new LocalBudgetStore(':memory:', () => now);
    const holds = new BatchHolds({
      config: () => tieredConfig.config,
      store: budgets,
      priceFactor: 0.5,
      now: () => now,
    });
    const owner = { owner: 'alice', model: 'long', upstreamModel: 'long', provider: 'openai' };
    // Three lines of at most 200k prompt tokens: each under the tier, together past it.
    const estimate = {
      inputTokens: 600_000,
      outputTokens: 3_000,
      requests: 3,
      largestPromptTokens: 200_000,
    };
    assert.ok(await holds.hold(owner, estimate));
    const route = routeForModel(tieredConfig.config, 'long')!;
    const limit = bindLimit(userLimits({ route, userKey: 'alice' })[0], now);
    const [balance] = await budgets.balances([{ key: limit.key, limit: limit.limit }], now);
    close(balance.reserved, (600 * 0.002 + 3 * 0.008) * 0.5);
    // A line past the threshold puts the file's lines at the tier's price.
    await budgets.release('x');
    const later = await holds.hold(owner, { ...estimate, largestPromptTokens: 300_000 });
    const [after] = await budgets.balances([{ key: limit.key, limit: limit.limit }], now);
    close(after.reserved - balance.reserved, (600 * 0.004 + 3 * 0.012) * 0.5);
    assert.ok(later);
  });

  it('holds an hourly budget in its own hour only, not the hour a day later', async () => {
    const hourly = parseGatewayConfig(
      `kind: AIGatewayRoute
metadata: {name: hourly}
spec:
  backends:
  - {name: openai-h, provider: openai, baseUrl: "http://127.0.0.1:9/v1", model: h}
  userIdentification: {header: x-user-id}
  tokenBudget:
    perUser: {limit: 100000, period: 1h}
`,
      { env: {} },
    );
    if (!hourly.ok) throw new Error('bad config');
    const now = Date.UTC(2026, 11, 4, 10, 30);
    const budgets = new LocalBudgetStore(':memory:', () => now);
    const holds = new BatchHolds({
      config: () => hourly.config,
      store: budgets,
      priceFactor: 0.5,
      now: () => now,
    });
    const owner = { owner: 'alice', model: 'h', upstreamModel: 'h', provider: 'openai' };
    assert.ok(await holds.hold(owner, { inputTokens: 100, outputTokens: 900, requests: 1 }));
    const route = routeForModel(hourly.config, 'h')!;
    const [limit] = userLimits({ route, userKey: 'alice' });
    const heldAt = async (at: number) => {
      const bound = bindLimit(limit, at);
      return (await budgets.balances([{ key: bound.key, limit: bound.limit }], now))[0].reserved;
    };
    assert.equal(await heldAt(now), 1000);
    assert.equal(await heldAt(now + 24 * 3600_000), 0);
  });

  it("is reserved to lapse after the batch's window and the sweeper's margin", async () => {
    const now = Date.UTC(2026, 11, 4, 1);
    const budgets = new LocalBudgetStore(':memory:', () => now);
    const asked: number[] = [];
    const reserve = budgets.reserve.bind(budgets);
    budgets.reserve = (id, changes, holdMs, at) => {
      asked.push(holdMs);
      return reserve(id, changes, holdMs, at);
    };
    const holds = new BatchHolds({
      config: () => config,
      store: budgets,
      priceFactor: 0.5,
      now: () => now,
    });
    const owner = { owner: 'alice', model: 'gpt-batch', upstreamModel: 'up' };
    const id = await holds.hold(owner, { inputTokens: 10, outputTokens: 100, requests: 1 });
    assert.ok(id);
    assert.deepEqual(asked, [BATCH_HOLD_MS]);
    assert.equal(BATCH_HOLD_MS, 36 * 3600_000);
    // Lapsed, the whole day's budget can be held again.
    const later = now + BATCH_HOLD_MS + 1;
    const route = routeForModel(config, 'gpt-batch')!;
    const limit = bindLimit(userLimits({ route, userKey: 'alice' })[0], now);
    assert.equal(
      budgets.reserve(
        'all',
        [{ key: limit.key, amount: 0.01, limit: 0.01, windowEndsAt: later + 1 }],
        1,
        later,
      ).ok,
      true,
    );
  });
});
