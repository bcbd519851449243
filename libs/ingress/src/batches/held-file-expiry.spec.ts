import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryHeldObjectStore } from './held-objects';
import type { FastifyRequest } from 'fastify';
import { DataPlaneError, DataPlaneErrorCode } from '@aigw/contracts/data-plane';
import { gatewayId } from './gateway-ids';
import type { HeldObjectCalls } from './held-api';
import { HeldRecords } from './held-records';
import { backendReply, batchApis, HELD_TTL_MS } from './testing/batch-apis';
import { heldOnBatchRoute } from './testing/held-record';
import { oneBatchRoute } from './testing/one-batch-route';

describe('a file its backend deletes at a set time (uploaded with expires_after)', () => {
  it('is remembered until then, not for the whole TTL', async () => {
    let clock = Date.parse('2026-12-01T00:00:00Z');
    const now = () => clock;
    const config = oneBatchRoute();
    const store = new MemoryHeldObjectStore({ maxEntries: 10, maxBytes: 100_000 }, undefined, now);
    const records = new HeldRecords(
      { config: () => config, upstream: { send: () => assert.fail() }, store, ttlMs: HELD_TTL_MS },
      now,
    );
    const kept = (providerId: string, expiresAt: number | null) =>
      records.keep({
        kind: 'file',
        owner: 'alice',
        model: 'gpt-batch',
        upstreamModel: 'up',
        route: 'batches',
        backend: config.routes[0].backends[0],
        providerId,
        // OpenAI's file object: `expires_at` in Unix seconds, null when it never expires.
        object: { id: providerId, object: 'file', purpose: 'user_data', expires_at: expiresAt },
      });
    const hour = await kept('f-hour', clock / 1000 + 3600);
    const lasting = await kept('f-lasting', null);
    // A batch's expires_at ends its completion window: it is still the backend's after.
    const batch = await records.keep({
      kind: 'batch',
      owner: 'alice',
      model: 'gpt-batch',
      upstreamModel: 'up',
      route: 'batches',
      backend: config.routes[0].backends[0],
      providerId: 'b1',
      object: { id: 'b1', object: 'batch', status: 'validating', expires_at: clock / 1000 + 60 },
    });

    clock += 3600_000 + 1;
    assert.equal(await store.get(hour.id), undefined, 'gone at its backend, gone here');
    assert.deepEqual(
      (await store.list('alice', 'file', 10)).map((record) => record.providerId),
      ['f-lasting'],
    );
    assert.ok(await store.get(batch.id), 'a batch past its completion window is still held');
    clock += HELD_TTL_MS - 3600_000;
    assert.equal(await store.get(lasting.id), undefined, 'the TTL still bounds the rest');
  });
});

describe("a batch's output file its backend deletes at a set time (output_expires_after)", () => {
  const START = Date.parse('2026-12-01T00:00:00Z');
  const HOUR = 3600_000;
  const outputId = gatewayId('file', {
    route: 'batches',
    backend: 'openai-batch',
    providerId: 'out1',
  });

  /** Batch b1 completed with output out1, which its backend deletes an hour after START. */
  function gateway(describes: boolean) {
    let clock = START;
    const now = () => clock;
    const backend: HeldObjectCalls & { describes: boolean } = {
      describes,
      async send(_target, _method, path) {
        if (path === '/batches/b1') {
          return backendReply({
            id: 'b1',
            object: 'batch',
            status: 'in_progress',
            output_file_id: 'out1',
          });
        }
        if (path === '/files/out1' && this.describes) {
          return backendReply({
            id: 'out1',
            object: 'file',
            bytes: 10,
            created_at: START / 1000,
            filename: 'out1.jsonl',
            purpose: 'batch_output',
            status: 'processed',
            expires_at: (START + HOUR) / 1000,
          });
        }
        throw new DataPlaneError(DataPlaneErrorCode.UpstreamError, 'away');
      },
    };
    const store = new MemoryHeldObjectStore({ maxEntries: 10, maxBytes: 100_000 }, undefined, now);
    const apis = batchApis(backend, { store, now });
    const batch = heldOnBatchRoute('batch', 'b1', START);
    const list = () =>
      apis.files.listFiles(
        { query: {}, headers: {} } as unknown as FastifyRequest,
        async () => ['alice'],
        async () => 'alice',
      );
    return { ...apis, backend, batch, list, later: (ms: number) => (clock += ms) };
  }

  it('is remembered until then when first seen described', async () => {
    const gw = gateway(true);
    await gw.store.put(gw.batch, HELD_TTL_MS);
    await gw.billing.checkBatch(gw.batch);
    assert.ok(await gw.store.get(outputId));
    gw.later(HOUR + 1);
    assert.equal(await gw.store.get(outputId), undefined, 'gone at its backend, gone here');
  });

  it('is remembered until then when described by a later list', async () => {
    const gw = gateway(false);
    await gw.store.put(gw.batch, HELD_TTL_MS);
    await gw.billing.checkBatch(gw.batch);
    gw.backend.describes = true;
    await gw.list();
    assert.equal((await gw.store.get(outputId))?.object.expires_at, (START + HOUR) / 1000);
    gw.later(HOUR + 1);
    assert.equal(await gw.store.get(outputId), undefined, 'gone at its backend, gone here');
  });
});
