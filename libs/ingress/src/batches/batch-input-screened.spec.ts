import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { FastifyRequest } from 'fastify';
import { DataPlaneError, type JsonObject } from '@aigw/contracts/data-plane';
import type { HeldObjectCalls } from './files-and-batches';
import type { HeldRecord } from './held-objects';
import { backendReply, batchApis, HELD_TTL_MS as TTL } from './testing/batch-apis';
import { heldOnBatchRoute } from './testing/held-record';
const ESTIMATE = {
  inputTokens: 10,
  outputTokens: 10,
  requests: 1,
  urls: ['/v1/chat/completions'],
};

/** Takes batches (b1, b2, ...) and records what was created. */
class Backend implements HeldObjectCalls {
  created: string[] = [];

  async send(_backend: unknown, method: string, path: string) {
    assert.equal(`${method} ${path}`, 'POST /batches');
    const id = `b${this.created.length + 1}`;
    this.created.push(id);
    return backendReply({ id, object: 'batch', status: 'validating' });
  }
}

/** The Batch API without budgets or holds (nothing else refuses an unscreened file). */
function batchesApi() {
  const backend = new Backend();
  const { store, batches } = batchApis(backend);
  const create = (file: HeldRecord): Promise<JsonObject> =>
    batches.createBatch(
      {
        body: {
          input_file_id: file.id,
          endpoint: '/v1/chat/completions',
          completion_window: '24h',
        },
        headers: {},
      } as unknown as FastifyRequest,
      async () => 'alice',
      async () => undefined,
      async () => undefined,
    );
  return { backend, store, create };
}

describe('a batch created from a file', () => {
  it('is refused (400 naming the file) when the gateway did not read it as a batch upload', async () => {
    const t = batchesApi();
    // The backend reports purpose 'batch', but the gateway neither screened nor estimated
    // its lines (uploaded under a purpose it did not take as exactly 'batch').
    const file = heldOnBatchRoute('file', 'f1', Date.now(), { object: { purpose: 'batch' } });
    await t.store.put(file, TTL);
    await assert.rejects(t.create(file), (error: unknown) => {
      assert.ok(error instanceof DataPlaneError);
      assert.equal(error.httpStatus, 400);
      assert.equal(error.param, 'input_file_id');
      assert.ok(error.message.includes(file.id), error.message);
      assert.match(error.message, /not uploaded through this gateway as a batch input file/);
      return true;
    });
    assert.deepEqual(t.backend.created, [], 'no batch ran');
  });

  it("is refused for a batch's output file, whatever purpose it shows", async () => {
    const t = batchesApi();
    const output: HeldRecord = {
      ...heldOnBatchRoute('file', 'out1', Date.now(), {
        object: { purpose: 'batch' },
        estimate: ESTIMATE,
      }),
      batchId: 'batch_aigw_x',
    };
    await t.store.put(output, TTL);
    await assert.rejects(t.create(output), /not uploaded through this gateway/);
    assert.deepEqual(t.backend.created, []);
  });

  it('runs for a batch upload the gateway screened and estimated', async () => {
    const t = batchesApi();
    const file = heldOnBatchRoute('file', 'f1', Date.now(), {
      object: { purpose: 'batch' },
      estimate: ESTIMATE,
    });
    await t.store.put(file, TTL);
    const batch = await t.create(file);
    assert.match(String(batch.id), /^batch_aigw_/);
    assert.deepEqual(t.backend.created, ['b1']);
  });
});
