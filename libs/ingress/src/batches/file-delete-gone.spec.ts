import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { FastifyRequest } from 'fastify';
import { DataPlaneError, DataPlaneErrorCode, type JsonObject } from '@aigw/contracts/data-plane';
import type { HeldObjectCalls } from './held-api';
import { batchApis, HELD_TTL_MS } from './testing/batch-apis';
import { heldOnBatchRoute } from './testing/held-record';

/** A backend that no longer has file f1 (it expired there, or was deleted there directly). */
class BackendWithoutTheFile implements HeldObjectCalls {
  deletes = 0;

  async send(_backend: unknown, method: string): Promise<never> {
    if (method === 'DELETE') this.deletes++;
    throw new DataPlaneError(DataPlaneErrorCode.NotFound, 'No such File object: f1', {
      upstreamStatus: 404,
    });
  }
}

describe('deleting a file its backend no longer has', () => {
  it('forgets it, so it leaves the list and a second delete is the gateway’s own 404', async () => {
    const backend = new BackendWithoutTheFile();
    const { store, files } = batchApis(backend);
    const file = heldOnBatchRoute('file', 'f1', Date.now(), {
      object: { object: 'file', purpose: 'user_data' },
    });
    await store.put(file, HELD_TTL_MS);
    const who = async () => 'alice';
    const request = (params: JsonObject = {}) =>
      ({ params, query: {}, headers: {} }) as unknown as FastifyRequest;

    // The backend's answer stays the answer: the file is not there.
    await assert.rejects(files.deleteFile(request({ id: file.id }), who), { httpStatus: 404 });
    assert.equal(backend.deletes, 1);
    // Yet the gateway no longer lists, nor holds, what its backend does not have.
    const listed = await files.listFiles(request(), async () => ['alice'], who);
    assert.deepEqual(listed.data, []);
    assert.equal(await store.get(file.id), undefined);
    await assert.rejects(files.deleteFile(request({ id: file.id }), who), { httpStatus: 404 });
    assert.equal(backend.deletes, 1, 'not sent to the backend again');
  });
});
