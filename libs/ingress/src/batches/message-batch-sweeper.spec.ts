import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { GatewayConfig } from '@aigw/config';
import type { TokenUsageRecorded } from '@aigw/contracts';
import { DataPlaneError, DataPlaneErrorCode } from '@aigw/contracts/data-plane';
import { BatchSweeper, type SweepOutcome } from './batch-sweeper';
import { FilesAndBatches, type HeldObjectCalls } from './files-and-batches';
import { MemoryHeldObjectStore } from './held-objects';
import { MESSAGE_BATCH_ROUTE_YAML, heldMessageBatch } from './testing/message-batch-route';
import { parsedConfig } from './testing/one-batch-route';

const TTL = 30 * 24 * 3600_000;

/** The route priced: `up` at $0.002 in and $0.008 out per 1k tokens. */
function config(): GatewayConfig {
  return parsedConfig(`${MESSAGE_BATCH_ROUTE_YAML}  costControl:
    modelPricing:
      up: {inputPer1k: 0.002, outputPer1k: 0.008}
`);
}

/** An Anthropic backend whose one batch ended with two requests succeeded. */
class Backend implements HeldObjectCalls {
  readonly calls: string[] = [];
  constructor(private readonly succeeded: number) {}
  async send(_backend: unknown, method: string, path: string) {
    this.calls.push(`${method} ${path}`);
    if (path === '/messages/batches/mb1') {
      const body = {
        id: 'mb1',
        type: 'message_batch',
        processing_status: 'ended',
        request_counts: { succeeded: this.succeeded, errored: 0, canceled: 0, expired: 0 },
        results_url: 'https://api.anthropic.com/v1/messages/batches/mb1/results',
      };
      return {
        status: 200,
        contentType: 'application/json',
        body: Buffer.from(JSON.stringify(body)),
      };
    }
    if (path === '/messages/batches/mb1/results') {
      const line = (id: string) =>
        JSON.stringify({
          custom_id: id,
          result: {
            type: 'succeeded',
            message: {
              model: 'up',
              usage: {
                input_tokens: 10,
                output_tokens: 5,
                cache_read_input_tokens: 80,
                cache_creation_input_tokens: 10,
              },
            },
          },
        });
      return {
        status: 200,
        contentType: 'application/binary',
        body: Buffer.from(`${line('a')}\n${line('b')}\n`),
      };
    }
    throw new DataPlaneError(DataPlaneErrorCode.NotFound, 'No such object');
  }
}

function setup(succeeded = 2) {
  const store = new MemoryHeldObjectStore({ maxEntries: 100, maxBytes: 1_000_000 });
  const backend = new Backend(succeeded);
  const events: TokenUsageRecorded[] = [];
  const released: string[] = [];
  const cfg = config();
  const batches = new FilesAndBatches({
    config: () => cfg,
    upstream: backend,
    store,
    ttlMs: TTL,
    priceFactor: 0.5,
    publish: (event) => events.push(event),
    holds: {
      release: async (id: string) => void released.push(id),
    } as unknown as ConstructorParameters<typeof FilesAndBatches>[0]['holds'],
  });
  const outcomes: SweepOutcome[] = [];
  const sweeper = new BatchSweeper({
    store,
    check: (record) => batches.checkBatch(record),
    intervalMs: 1_000,
    onOutcome: (outcome) => outcomes.push(outcome),
  });
  const record = heldMessageBatch('mb1', {}, { reservationId: 'hold-1' });
  return { store, backend, events, released, sweeper, outcomes, record };
}

describe('the batch sweeper on Anthropic message batches', () => {
  it('bills an ended message batch no client looked at, once, from its results', async () => {
    const t = setup();
    await t.store.put(t.record, TTL);
    await t.store.addPending(t.record.id, TTL);
    await t.sweeper.sweep();
    await t.sweeper.sweep();
    assert.deepEqual(t.outcomes, ['billed']);
    assert.equal(t.events.length, 1);
    const [event] = t.events;
    assert.equal(event.operation, 'batch');
    assert.equal(event.modelRequested, 'claude-batch');
    // The whole prompt (uncached, written, read), of which the reads were cached.
    assert.equal(event.inputTokens, 2 * 100);
    assert.equal(event.cachedInputTokens, 2 * 80);
    assert.equal(event.outputTokens, 2 * 5);
    assert.equal(event.reservationId, 'hold-1');
    assert.deepEqual(t.backend.calls, [
      'GET /messages/batches/mb1',
      'GET /messages/batches/mb1/results',
    ]);
    assert.deepEqual(await t.store.pending(10), []);
    assert.equal((await t.store.get(t.record.id))?.billed, true);
  });

  it('gives the hold back of a message batch that ended with no request succeeded', async () => {
    const t = setup(0);
    await t.store.put(t.record, TTL);
    await t.store.addPending(t.record.id, TTL);
    await t.sweeper.sweep();
    assert.deepEqual(t.outcomes, ['finished']);
    assert.equal(t.events.length, 0);
    assert.deepEqual(t.released, ['hold-1']);
    assert.deepEqual(await t.store.pending(10), []);
    assert.deepEqual(t.backend.calls, ['GET /messages/batches/mb1']);
  });

  it('takes a billed batch it finds still indexed out of its index (its unindex failed), read no more', async () => {
    const t = setup();
    const removePending = t.store.removePending.bind(t.store);
    // The store away at the moment the look that billed it unindexed it.
    t.store.removePending = () => Promise.reject(new Error('store away'));
    await t.store.put(t.record, TTL);
    await t.store.addPending(t.record.id, TTL);
    await t.sweeper.sweep();
    assert.deepEqual(await t.store.pending(10), [t.record.id]);
    t.store.removePending = removePending;
    await t.sweeper.sweep();
    await t.sweeper.sweep();
    assert.equal(t.events.length, 1);
    assert.deepEqual(await t.store.pending(10), []);
    // Billed once; the second round's look found it billed and unindexed it; no third look.
    assert.deepEqual(t.backend.calls, [
      'GET /messages/batches/mb1',
      'GET /messages/batches/mb1/results',
      'GET /messages/batches/mb1',
    ]);
  });
});
