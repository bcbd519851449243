import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import Fastify from 'fastify';
import { parseGatewayConfig, type GatewayConfig } from '@aigw/config';
import type { TokenUsageRecorded } from '@aigw/contracts';
import { DataPlaneError, DataPlaneErrorCode } from '@aigw/contracts/data-plane';
import { until } from '@aigw/testing';
import {
  BATCH_WINDOW_MS,
  BatchSweeper,
  type SweepOutcome,
  type SweeperTimers,
} from './batch-sweeper';
import { FilesAndBatches, type BillingTrigger, type HeldObjectCalls } from './files-and-batches';
import { gatewayId } from './gateway-ids';
import { MemoryHeldObjectStore } from './held-objects';
import { heldOnBatchRoute } from './testing/held-record';
import { alicePipeline } from './testing/alice-pipeline';

const TTL = 30 * 24 * 3600_000;
const USAGE = { prompt_tokens: 100, completion_tokens: 20, total_tokens: 120 };

function config(): GatewayConfig {
  const result = parseGatewayConfig(
    `kind: AIGatewayRoute
metadata: {name: batches}
spec:
  backends:
  - {name: openai-batch, provider: openai, baseUrl: "http://127.0.0.1:9/v1", model: up, modelNameOverride: gpt-batch}
  costControl:
    modelPricing:
      up: {inputPer1k: 0.002, outputPer1k: 0.008}
`,
    { env: {} },
  );
  assert.ok(result.ok, JSON.stringify(result));
  return result.config;
}

/** A backend whose batches are as the test sets them; `failing` ids throw a 503-like error. */
class Backend implements HeldObjectCalls {
  readonly batches = new Map<string, { status: string; output_file_id?: string }>();
  readonly failing = new Set<string>();
  readonly calls: string[] = [];
  async send(_backend: unknown, method: string, path: string) {
    this.calls.push(`${method} ${path}`);
    const batch = /^\/batches\/([^/]+)$/.exec(path);
    if (batch) {
      if (this.failing.has(batch[1])) throw new Error('connect ECONNREFUSED');
      const held = this.batches.get(batch[1]);
      if (!held) throw new DataPlaneError(DataPlaneErrorCode.NotFound, 'No such object');
      const body = { id: batch[1], object: 'batch', model: 'up', ...held };
      return {
        status: 200,
        contentType: 'application/json',
        body: Buffer.from(JSON.stringify(body)),
      };
    }
    if (/^\/files\/[^/]+\/content$/.test(path)) {
      const line = JSON.stringify({ custom_id: 'a', response: { body: { usage: USAGE } } });
      return { status: 200, contentType: 'application/jsonl', body: Buffer.from(`${line}\n`) };
    }
    throw new DataPlaneError(DataPlaneErrorCode.NotFound, 'No such object');
  }
}

function setup() {
  let now = 1_000_000;
  const clock = () => now;
  const store = new MemoryHeldObjectStore(
    { maxEntries: 100, maxBytes: 1_000_000 },
    undefined,
    clock,
  );
  const backend = new Backend();
  const events: TokenUsageRecorded[] = [];
  const triggers: BillingTrigger[] = [];
  const cfg = config();
  const batches = new FilesAndBatches({
    config: () => cfg,
    upstream: backend,
    store,
    ttlMs: TTL,
    priceFactor: 0.5,
    publish: (event) => events.push(event),
    onSettled: (settled) => triggers.push(settled.trigger),
    now: clock,
  });
  const outcomes: SweepOutcome[] = [];
  const dropped: [string, SweepOutcome][] = [];
  const sweeper = (extra: Partial<ConstructorParameters<typeof BatchSweeper>[0]> = {}) =>
    new BatchSweeper({
      store,
      check: (record) => batches.checkBatch(record),
      intervalMs: 1_000,
      now: clock,
      onOutcome: (outcome) => outcomes.push(outcome),
      onDropped: (record, outcome) => dropped.push([record.id, outcome]),
      ...extra,
    });
  const addBatch = async (providerId: string) => {
    const record = heldOnBatchRoute('batch', providerId, now);
    const { id } = record;
    await store.put(record, TTL);
    await store.addPending(id, TTL);
    return id;
  };
  return {
    store,
    backend,
    events,
    triggers,
    batches,
    outcomes,
    dropped,
    sweeper,
    addBatch,
    advance: (ms: number) => (now += ms),
  };
}

describe('batch sweeper', () => {
  it('bills a finished batch no client looked at, once across rounds, replicas and client looks', async () => {
    const t = setup();
    const id = await t.addBatch('b1');
    t.backend.batches.set('b1', { status: 'completed', output_file_id: 'out1' });
    // Two replicas' sweepers at once over one shared store: one bill.
    await Promise.all([t.sweeper().sweep(), t.sweeper().sweep()]);
    assert.equal(t.events.length, 1);
    assert.equal(t.events[0].userId, 'alice');
    assert.equal(t.events[0].operation, 'batch');
    assert.equal(t.events[0].inputTokens, 100);
    assert.deepEqual(t.triggers, ['sweeper']);
    assert.ok(t.outcomes.includes('billed'));
    assert.deepEqual(await t.store.pending(10), [], 'billed batches leave the index');
    // A later client look at the same batch bills nothing more.
    assert.equal(await t.batches.checkBatch((await t.store.get(id))!), 'finished');
    await t.sweeper().sweep();
    assert.equal(t.events.length, 1);
  });

  it('keeps a batch still running and bills it in a later round', async () => {
    const t = setup();
    const id = await t.addBatch('b2');
    t.backend.batches.set('b2', { status: 'in_progress' });
    const sweeper = t.sweeper();
    await sweeper.sweep();
    assert.deepEqual(t.outcomes, ['in_progress']);
    assert.deepEqual(await t.store.pending(10), [id]);
    assert.equal(t.events.length, 0);
    t.backend.batches.set('b2', { status: 'completed', output_file_id: 'out2' });
    await sweeper.sweep();
    assert.deepEqual(t.outcomes, ['in_progress', 'billed']);
    assert.equal(t.events.length, 1);
  });

  it('drops batches the backend no longer has, past their window, forgotten or failed without output', async () => {
    const t = setup();
    const gone = await t.addBatch('missing');
    const stuck = await t.addBatch('stuck');
    const failed = await t.addBatch('failed');
    t.backend.batches.set('stuck', { status: 'in_progress' });
    t.backend.batches.set('failed', { status: 'failed' });
    const sweeper = t.sweeper({ concurrency: 1 });
    await sweeper.sweep();
    assert.deepEqual(t.dropped, [[gone, 'not_found']]);
    assert.deepEqual(await t.store.pending(10), [stuck], 'a failed batch has nothing to bill');
    assert.notEqual(failed, stuck);
    t.advance(BATCH_WINDOW_MS + 13 * 3600_000);
    await sweeper.sweep();
    assert.deepEqual(t.dropped.at(-1), [stuck, 'expired']);
    await t.store.addPending('batch_aigw_unknown', TTL);
    await sweeper.sweep();
    assert.deepEqual(t.dropped.at(-1), ['batch_aigw_unknown', 'forgotten']);
    assert.deepEqual(await t.store.pending(10), []);
    assert.equal(t.events.length, 0);
  });

  it('counts a failing backend, keeps the batch and bills it when the backend is back', async () => {
    const t = setup();
    const errors: string[] = [];
    const id = await t.addBatch('b3');
    t.backend.batches.set('b3', { status: 'completed', output_file_id: 'out3' });
    t.backend.failing.add('b3');
    const sweeper = t.sweeper({ onCheckFailed: (failedId) => errors.push(failedId) });
    await sweeper.sweep();
    assert.deepEqual(t.outcomes, ['failed']);
    assert.deepEqual(errors, [id]);
    assert.deepEqual(await t.store.pending(10), [id]);
    t.backend.failing.delete('b3');
    await sweeper.sweep();
    assert.deepEqual(t.outcomes, ['failed', 'billed']);
    assert.equal(t.events.length, 1);
  });

  it('runs on an unref-ed timer, skips a round another replica leases, and stops', async () => {
    const t = setup();
    await t.addBatch('b4');
    t.backend.batches.set('b4', { status: 'completed', output_file_id: 'out4' });
    let run: (() => void) | undefined;
    let unrefed = false;
    let cleared = false;
    const timers: SweeperTimers = {
      setInterval: (fn, ms) => {
        assert.equal(ms, 1_000);
        run = fn;
        return { unref: () => (unrefed = true) };
      },
      clearInterval: () => (cleared = true),
    };
    let leased = false;
    const sweeper = t.sweeper({ timers, lease: async () => leased });
    sweeper.start();
    assert.ok(run && unrefed);
    run();
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(t.events.length, 0, 'no lease, no round');
    leased = true;
    run();
    // Its round ends in its own time; a stop before it took the batch would skip it.
    await until('the leased round bills the batch', () => t.events.length > 0, { everyMs: 5 });
    await sweeper.stop();
    assert.equal(t.events.length, 1);
    assert.ok(cleared);
    const off = t.sweeper({ timers, intervalMs: 0 });
    run = undefined;
    off.start();
    assert.equal(run, undefined, 'an interval of 0 starts nothing');
  });

  it('counts a round whose index cannot be read, without throwing', async () => {
    const t = setup();
    const failures: unknown[] = [];
    let run: (() => void) | undefined;
    const sweeper = new BatchSweeper({
      store: {
        ...t.store,
        pending: async () => Promise.reject(new Error('redis down')),
        get: t.store.get.bind(t.store),
        touchPending: t.store.touchPending.bind(t.store),
        removePending: t.store.removePending.bind(t.store),
      },
      check: async () => 'in_progress',
      intervalMs: 10,
      timers: { setInterval: (fn) => ((run = fn), {}), clearInterval: () => undefined },
      onRoundFailed: (error) => failures.push(error),
    });
    sweeper.start();
    run!();
    await sweeper.stop();
    assert.equal(failures.length, 1);
  });
});

describe('batch billing on an output download', () => {
  it("bills a finished batch's output read before any look billed it, once", async () => {
    const t = setup();
    const id = await t.addBatch('b5');
    const outputId = gatewayId('file', {
      route: 'batches',
      backend: 'openai-batch',
      providerId: 'out5',
    });
    // As a look whose billing failed leaves it: finished, its output adopted, unbilled.
    const batch = (await t.store.get(id))!;
    await t.store.put(
      { ...batch, object: { id, status: 'completed', output_file_id: outputId } },
      TTL,
    );
    await t.store.put(
      {
        ...batch,
        id: outputId,
        kind: 'file',
        providerId: 'out5',
        batchId: id,
        object: { id: outputId, object: 'file', purpose: 'batch_output' },
      },
      TTL,
    );
    const app = Fastify();
    const pipeline = alicePipeline();
    t.batches.register(app, '/v1', pipeline);
    try {
      for (let i = 0; i < 2; i++) {
        const reply = await app.inject({ method: 'GET', url: `/v1/files/${outputId}/content` });
        assert.equal(reply.statusCode, 200);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    } finally {
      await app.close();
    }
    assert.deepEqual(t.triggers, ['content']);
    assert.equal(t.events.length, 1);
    assert.equal(t.events[0].outputTokens, 20);
    assert.deepEqual(await t.store.pending(10), []);
  });
});
