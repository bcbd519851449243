import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryHeldObjectStore } from './held-objects';
import { HeldRecords } from './held-records';
import { HELD_TTL_MS } from './testing/batch-apis';
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
