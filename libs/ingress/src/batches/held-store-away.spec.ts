import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { FastifyRequest } from 'fastify';
import { DataPlaneError } from '@aigw/contracts/data-plane';
import { MemoryHeldObjectStore, type HeldRecord, type StoredKind } from './held-objects';
import { batchApis } from './testing/batch-apis';
import { heldOnBatchRoute } from './testing/held-record';

/** A store that cannot be read (Redis away). */
class UnreadableStore extends MemoryHeldObjectStore {
  override async get(_id: string): Promise<HeldRecord | undefined> {
    throw new Error('Command timed out');
  }

  override async list(_owner: string, _kind: StoredKind, _max: number): Promise<HeldRecord[]> {
    throw new Error('Command timed out');
  }
}

function unavailable(kept: 'file' | 'batch') {
  return (error: unknown) => {
    assert.ok(error instanceof DataPlaneError);
    assert.equal(error.httpStatus, 503);
    assert.equal(error.toOpenAiBody().error.type, 'service_unavailable');
    assert.equal(error.toOpenAiBody().error.code, `${kept}_store_unavailable`);
    assert.ok(error.retryAfterMs !== undefined && error.retryAfterMs > 0);
    return true;
  };
}

describe('files and batches while their store cannot be read', () => {
  it('answer a 503 to retry, not a 500 (nor a 404 saying the object is gone)', async () => {
    const store = new UnreadableStore({ maxEntries: 10, maxBytes: 100_000 });
    const { files, batches } = batchApis({ send: () => assert.fail('no backend call') }, { store });
    const who = async () => 'alice';
    const mine = async () => ['alice'];
    const file = heldOnBatchRoute('file', 'f1', 0);
    const batch = heldOnBatchRoute('batch', 'b1', 0);
    const request = (id?: string) =>
      ({ params: { id }, query: {}, headers: {} }) as unknown as FastifyRequest;
    await assert.rejects(files.retrieveFile(request(file.id), who), unavailable('file'));
    await assert.rejects(files.deleteFile(request(file.id), who), unavailable('file'));
    await assert.rejects(files.listFiles(request(), mine, who), unavailable('file'));
    await assert.rejects(batches.retrieveBatch(request(batch.id), who), unavailable('batch'));
    await assert.rejects(batches.listBatches(request(), mine, who), unavailable('batch'));
  });
});
