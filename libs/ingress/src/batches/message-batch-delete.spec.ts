import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { FastifyRequest } from 'fastify';
import type { TokenUsageRecorded } from '@aigw/contracts';
import { DataPlaneError, DataPlaneErrorCode } from '@aigw/contracts/data-plane';
import { BatchBilling } from './batch-billing';
import type { BatchHolds } from './batch-holds';
import type { FilesAndBatchesOptions, HeldObjectCalls } from './files-and-batches';
import { MemoryHeldObjectStore } from './held-objects';
import { HeldRecords } from './held-records';
import { MessageBatchesApi } from './message-batches-api';
import { heldMessageBatch, messageBatchRoute } from './testing/message-batch-route';

const TTL = 30 * 24 * 3600_000;

/** An Anthropic backend with one ended batch, two requests succeeded; its results may fail. */
class Backend implements HeldObjectCalls {
  readonly calls: string[] = [];
  resultsFail = false;
  /** Its retrieve answers 529 overloaded (its DELETE still goes through). */
  retrieveFails = false;
  /** It no longer has the batch (deleted there, or past its retention): every call a 404. */
  gone = false;
  async send(_backend: unknown, method: string, path: string) {
    this.calls.push(`${method} ${path}`);
    if (this.gone) {
      throw new DataPlaneError(DataPlaneErrorCode.NotFound, 'No such object at the provider.', {
        upstreamStatus: 404,
      });
    }
    if (method === 'GET' && path === '/messages/batches/mb1' && this.retrieveFails) {
      throw new DataPlaneError(DataPlaneErrorCode.UpstreamError, 'Overloaded', {
        upstreamStatus: 529,
      });
    }
    const json = (body: unknown) => ({
      status: 200,
      contentType: 'application/json',
      body: Buffer.from(JSON.stringify(body)),
    });
    if (method === 'GET' && path === '/messages/batches/mb1') {
      return json({
        id: 'mb1',
        type: 'message_batch',
        processing_status: 'ended',
        request_counts: { succeeded: 2, errored: 0, canceled: 0, expired: 0 },
        results_url: 'https://api.anthropic.com/v1/messages/batches/mb1/results',
      });
    }
    if (method === 'GET' && path === '/messages/batches/mb1/results') {
      if (this.resultsFail) throw new Error('connect ECONNREFUSED');
      const usage = { input_tokens: 10, output_tokens: 5 };
      const line = JSON.stringify({
        custom_id: 'a',
        result: { type: 'succeeded', message: { model: 'up', usage } },
      });
      return { status: 200, contentType: 'application/binary', body: Buffer.from(`${line}\n`) };
    }
    if (method === 'DELETE' && path === '/messages/batches/mb1') {
      return json({ id: 'mb1', type: 'message_batch_deleted' });
    }
    throw new DataPlaneError(DataPlaneErrorCode.NotFound, 'No such object');
  }
}

async function setup() {
  const store = new MemoryHeldObjectStore({ maxEntries: 100, maxBytes: 1_000_000 });
  const backend = new Backend();
  const events: TokenUsageRecorded[] = [];
  const released: string[] = [];
  const holds = {
    release: (id: string) => {
      released.push(id);
      return Promise.resolve();
    },
  } as unknown as BatchHolds;
  const cfg = messageBatchRoute();
  const options: FilesAndBatchesOptions = {
    config: () => cfg,
    upstream: backend,
    store,
    holds,
    ttlMs: TTL,
    priceFactor: 0.5,
    publish: (event) => events.push(event),
  };
  const records = new HeldRecords(options, Date.now);
  const api = new MessageBatchesApi(options, records, new BatchBilling(options, records, Date.now));
  const record = heldMessageBatch(
    'mb1',
    { processing_status: 'in_progress' },
    { reservationId: 'hold-1' },
  );
  const { id } = record;
  await store.put(record, TTL);
  await store.addPending(id, TTL);
  const request = { params: { id }, headers: {} } as unknown as FastifyRequest;
  const alice = () => 'alice';
  return { store, backend, events, released, api, record, request, alice };
}

describe('deleting a message batch', () => {
  it('bills an ended batch that still owes its bill before it is deleted at its backend', async () => {
    const t = await setup();
    const answer = await t.api.delete(t.request, t.alice);
    assert.deepEqual(answer, { id: t.record.id, type: 'message_batch_deleted' });
    assert.equal(t.events.length, 1);
    assert.equal(t.events[0].inputTokens, 10);
    assert.deepEqual(t.backend.calls, [
      'GET /messages/batches/mb1',
      'GET /messages/batches/mb1/results',
      'DELETE /messages/batches/mb1',
    ]);
    assert.equal(await t.store.get(t.record.id), undefined);
    assert.deepEqual(await t.store.pending(10), []);
  });

  it('is refused with a 503 to retry, nothing deleted, when its results cannot be read to bill it', async () => {
    const t = await setup();
    t.backend.resultsFail = true;
    await assert.rejects(
      t.api.delete(t.request, t.alice),
      (error: unknown) =>
        error instanceof DataPlaneError &&
        error.httpStatus === 503 &&
        error.retryAfterMs === 30_000 &&
        /has not been billed yet/.test(error.message),
    );
    assert.ok(!t.backend.calls.includes('DELETE /messages/batches/mb1'));
    assert.ok(await t.store.get(t.record.id));
    assert.equal(t.events.length, 0);
  });

  it('is refused with a 503 to retry, nothing deleted, when its backend cannot say whether it ended', async () => {
    // Last seen running; it has ended since, and its DELETE would take the results unbilled.
    const t = await setup();
    t.backend.retrieveFails = true;
    await assert.rejects(
      t.api.delete(t.request, t.alice),
      (error: unknown) =>
        error instanceof DataPlaneError &&
        error.httpStatus === 503 &&
        error.retryAfterMs === 30_000,
    );
    assert.deepEqual(t.backend.calls, ['GET /messages/batches/mb1']);
    assert.ok(await t.store.get(t.record.id));
    assert.deepEqual(await t.store.pending(10), [t.record.id]);
  });

  it('answers the 404 of a batch its backend no longer has, and forgets it and its hold', async () => {
    // Deleted there, or past Anthropic's retention: else it stays listed, never deletable.
    const t = await setup();
    t.backend.gone = true;
    await assert.rejects(
      t.api.delete(t.request, t.alice),
      (error: unknown) => error instanceof DataPlaneError && error.httpStatus === 404,
    );
    assert.deepEqual(t.backend.calls, [
      'GET /messages/batches/mb1',
      'DELETE /messages/batches/mb1',
    ]);
    assert.equal(await t.store.get(t.record.id), undefined);
    assert.deepEqual(await t.store.pending(10), []);
    // Never billed now: its hold goes, as the sweeper's drop of it would give it back.
    assert.deepEqual(t.released, ['hold-1']);
    assert.equal(t.events.length, 0);
  });

  it("is another caller's 404, nothing read or deleted", async () => {
    const t = await setup();
    await assert.rejects(
      t.api.delete(t.request, () => 'bob'),
      (error: unknown) => error instanceof DataPlaneError && error.httpStatus === 404,
    );
    assert.deepEqual(t.backend.calls, []);
  });
});
