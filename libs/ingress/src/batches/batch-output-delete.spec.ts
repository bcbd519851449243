import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { FastifyRequest } from 'fastify';
import type { TokenUsageRecorded } from '@aigw/contracts';
import { DataPlaneError, DataPlaneErrorCode } from '@aigw/contracts/data-plane';
import { BatchSweeper } from './batch-sweeper';
import type { HeldObjectCalls } from './files-and-batches';
import { gatewayId } from './gateway-ids';
import { backendReply as json, batchApis, HELD_TTL_MS as TTL } from './testing/batch-apis';
import { heldOnBatchRoute } from './testing/held-record';
const OUTPUT_ID = gatewayId('file', {
  route: 'batches',
  backend: 'openai-batch',
  providerId: 'out1',
});

/** Batch b1, completed with output out1 (until deleted); content reads may be made to fail. */
class Backend implements HeldObjectCalls {
  outputKept = true;
  failContentReads = 0;
  contentReads = 0;
  deletes: string[] = [];

  async send(_backend: unknown, method: string, path: string) {
    if (path === '/batches/b1') {
      return json({ id: 'b1', object: 'batch', status: 'completed', output_file_id: 'out1' });
    }
    if (path === '/files/out1/content' && this.outputKept) {
      this.contentReads++;
      if (this.failContentReads > 0) {
        this.failContentReads--;
        throw new DataPlaneError(DataPlaneErrorCode.UpstreamError, 'try again');
      }
      const usage = { prompt_tokens: 100, completion_tokens: 20 };
      return json(`${JSON.stringify({ response: { body: { usage } } })}\n`, 'application/jsonl');
    }
    if (path === '/files/out1' && this.outputKept) {
      if (method === 'DELETE') {
        this.deletes.push('out1');
        this.outputKept = false;
        return json({ id: 'out1', object: 'file', deleted: true });
      }
      return json({ id: 'out1', object: 'file', purpose: 'batch_output' });
    }
    throw new DataPlaneError(DataPlaneErrorCode.NotFound, 'No such object at the provider.');
  }
}

function gateway() {
  const backend = new Backend();
  const events: TokenUsageRecorded[] = [];
  const actions: string[] = [];
  const errors: string[] = [];
  const { store, billing, files } = batchApis(backend, {
    publish: (event) => events.push(event),
    onAction: (kind, action, outcome) => actions.push(`${kind} ${action} ${outcome}`),
    onError: (what) => errors.push(what),
  });
  const deleteOutput = () =>
    files.deleteFile(
      { params: { id: OUTPUT_ID }, headers: {} } as unknown as FastifyRequest,
      async () => 'alice',
    );
  return { backend, store, events, actions, errors, billing, deleteOutput };
}

/** Batch b1 indexed unbilled; a first look finds it finished and fails to read its output. */
async function finishedWithFailedBilling(gw: ReturnType<typeof gateway>) {
  const batch = heldOnBatchRoute('batch', 'b1', Date.now());
  await gw.store.put(batch, TTL);
  await gw.store.addPending(batch.id, TTL);
  gw.backend.failContentReads = 1;
  assert.equal(await gw.billing.checkBatch(batch), 'failed');
  assert.ok(await gw.store.get(OUTPUT_ID), 'the output file is the owner’s');
  return batch;
}

describe('deleting a batch output file its batch has not been billed from', () => {
  it('bills the batch from it first, then deletes it', async () => {
    const gw = gateway();
    const batch = await finishedWithFailedBilling(gw);
    assert.deepEqual(await gw.deleteOutput(), { id: OUTPUT_ID, object: 'file', deleted: true });
    assert.equal(gw.events.length, 1, 'billed before the file went');
    assert.equal(gw.events[0].inputTokens, 100);
    assert.deepEqual(gw.backend.deletes, ['out1']);
    assert.equal((await gw.store.get(batch.id))?.billed, true);
    assert.deepEqual(await gw.store.pending(10), []);
    // Later looks find it billed: nothing read again, nothing billed twice.
    const reads = gw.backend.contentReads;
    assert.equal(await gw.billing.checkBatch((await gw.store.get(batch.id))!), 'finished');
    assert.equal(gw.backend.contentReads, reads);
    assert.equal(gw.events.length, 1);
  });

  it('refuses the delete with a 503 while the output cannot be read, keeping the file', async () => {
    const gw = gateway();
    await finishedWithFailedBilling(gw);
    gw.backend.failContentReads = 1;
    await assert.rejects(gw.deleteOutput(), (error: unknown) => {
      assert.ok(error instanceof DataPlaneError);
      assert.equal(error.httpStatus, 503);
      assert.equal(error.toOpenAiBody().error.code, 'batch_output_unbilled');
      assert.equal(error.toOpenAiBody().error.type, 'service_unavailable');
      assert.match(error.message, new RegExp(`${OUTPUT_ID}.*not billed`));
      assert.equal(error.retryAfterMs, 30_000);
      return true;
    });
    assert.deepEqual(gw.backend.deletes, [], 'never sent on');
    assert.equal(gw.events.length, 0);
    assert.ok(await gw.store.get(OUTPUT_ID), 'still the owner’s');
    // Retried once the backend reads again: billed, then deleted.
    await gw.deleteOutput();
    assert.equal(gw.events.length, 1);
    assert.deepEqual(gw.backend.deletes, ['out1']);
  });

  it('deletes an output whose batch was billed without reading it again', async () => {
    const gw = gateway();
    const batch = heldOnBatchRoute('batch', 'b1', Date.now());
    await gw.store.put(batch, TTL);
    assert.equal(await gw.billing.checkBatch(batch), 'billed');
    const reads = gw.backend.contentReads;
    await gw.deleteOutput();
    assert.equal(gw.backend.contentReads, reads);
    assert.equal(gw.events.length, 1);
    assert.deepEqual(gw.backend.deletes, ['out1']);
  });
});

describe('a finished batch whose output file the backend no longer has', () => {
  it('stops being retried: counted output_gone, logged, unindexed, never read again', async () => {
    const gw = gateway();
    const batch = await finishedWithFailedBilling(gw);
    // Gone at the backend by another way than the gateway (deleted there, expired).
    gw.backend.outputKept = false;
    const outcomes: string[] = [];
    const sweeper = new BatchSweeper({
      store: gw.store,
      check: (record) => gw.billing.checkBatch(record),
      intervalMs: 0,
      onOutcome: (outcome) => outcomes.push(outcome),
    });
    await sweeper.sweep();
    assert.deepEqual(outcomes, ['output_gone']);
    assert.ok(gw.actions.includes('batch settle output_gone'));
    assert.ok(gw.errors.some((what) => what.includes('output file is gone')));
    assert.deepEqual(await gw.store.pending(10), [], 'no longer swept');
    assert.equal((await gw.store.get(batch.id))?.outputGone, true);
    // A client's look (the claim lapsed or not) does not try again.
    await gw.store.release(`settled:${batch.id}`);
    assert.equal(await gw.billing.checkBatch((await gw.store.get(batch.id))!), 'finished');
    await sweeper.sweep();
    assert.deepEqual(outcomes, ['output_gone']);
    assert.equal(gw.events.length, 0);
    // Its record deleted with nothing left to bill from: the delete goes on.
    await assert.rejects(gw.deleteOutput(), (error: unknown) => {
      assert.ok(error instanceof DataPlaneError);
      assert.equal(error.httpStatus, 404, 'the backend’s answer, not a refusal');
      return true;
    });
  });
});
