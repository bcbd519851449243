import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { FastifyRequest } from 'fastify';
import { DataPlaneError, DataPlaneErrorCode, type JsonObject } from '@aigw/contracts/data-plane';
import type { HeldObjectCalls } from './files-and-batches';
import { gatewayId } from './gateway-ids';
import type { HeldRecord } from './held-objects';
import { backendReply, batchApis, HELD_TTL_MS as TTL } from './testing/batch-apis';
import { heldOnBatchRoute } from './testing/held-record';
const fileId = (providerId: string) =>
  gatewayId('file', { route: 'batches', backend: 'openai-batch', providerId });

/** Batch b1 completed with output out1 and errors err1; file objects answered unless told. */
class Backend implements HeldObjectCalls {
  describes = true;
  fileGets = 0;

  async send(_backend: unknown, _method: string, path: string) {
    if (path === '/batches/b1') {
      return backendReply({
        id: 'b1',
        object: 'batch',
        status: 'in_progress',
        output_file_id: 'out1',
        error_file_id: 'err1',
      });
    }
    const file = /^\/files\/(out1|err1)$/.exec(path);
    if (file) {
      this.fileGets++;
      if (!this.describes) throw new DataPlaneError(DataPlaneErrorCode.UpstreamError, 'away');
      return backendReply({
        id: file[1],
        object: 'file',
        bytes: file[1] === 'out1' ? 1234 : 56,
        created_at: 1_700_000_123,
        filename: `batch_b1_${file[1]}.jsonl`,
        purpose: 'batch_output',
        status: 'processed',
      });
    }
    throw new DataPlaneError(DataPlaneErrorCode.NotFound, 'No such object at the provider.');
  }
}

function gateway() {
  const backend = new Backend();
  const { store, billing, files } = batchApis(backend, { now: () => 1_700_000_500_000 });
  const list = async () =>
    (
      await files.listFiles(
        { query: {}, headers: {} } as unknown as FastifyRequest,
        async () => ['alice'],
        async () => 'alice',
      )
    ).data as JsonObject[];
  return { backend, store, billing, list };
}

const REQUIRED = ['id', 'object', 'bytes', 'created_at', 'filename', 'purpose', 'status'];

describe("a batch's output and error files in the owner's file list", () => {
  it('carry the file object the backend described when the batch first showed them', async () => {
    const gw = gateway();
    const batch = heldOnBatchRoute('batch', 'b1', Date.now());
    await gw.store.put(batch, TTL);
    await gw.billing.checkBatch(batch);
    const listed = await gw.list();
    assert.deepEqual(
      listed.map((file) => [file.id, file.bytes, file.filename, file.created_at, file.status]),
      [
        [fileId('err1'), 56, 'batch_b1_err1.jsonl', 1_700_000_123, 'processed'],
        [fileId('out1'), 1234, 'batch_b1_out1.jsonl', 1_700_000_123, 'processed'],
      ],
    );
    // Asked once each: later looks and lists use what was kept.
    const gets = gw.backend.fileGets;
    await gw.billing.checkBatch((await gw.store.get(batch.id))!);
    await gw.list();
    assert.equal(gw.backend.fileGets, gets);
  });

  it('never lack a required field: filled while the backend is away, described once it answers', async () => {
    const gw = gateway();
    gw.backend.describes = false;
    const batch = heldOnBatchRoute('batch', 'b1', Date.now());
    await gw.store.put(batch, TTL);
    await gw.billing.checkBatch(batch);
    for (const file of await gw.list()) {
      for (const field of REQUIRED) assert.notEqual(file[field], undefined, `${field} missing`);
      assert.equal(file.object, 'file');
      assert.equal(file.purpose, 'batch_output');
      assert.equal(file.created_at, 1_700_000_500);
      assert.equal(file.bytes, 0);
    }
    gw.backend.describes = true;
    const listed = await gw.list();
    assert.deepEqual(listed.map((file) => file.bytes).sort(), [1234, 56]);
    const kept = (await gw.store.get(fileId('out1'))) as HeldRecord;
    assert.equal(kept.object.filename, 'batch_b1_out1.jsonl');
  });

  it('of a record kept before files were described are described on the next list', async () => {
    const gw = gateway();
    const batch = heldOnBatchRoute('batch', 'b1', Date.now());
    // As the gateway recorded an output before: id, object and purpose only.
    await gw.store.put(
      {
        ...heldOnBatchRoute('file', 'out1', Date.now()),
        batchId: batch.id,
        object: { id: fileId('out1'), object: 'file', purpose: 'batch_output' },
      },
      TTL,
    );
    const [file] = await gw.list();
    assert.equal(file?.bytes, 1234);
    assert.equal(file?.status, 'processed');
  });
});
