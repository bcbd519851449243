import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import Fastify from 'fastify';
import type { TokenUsageRecorded } from '@aigw/contracts';
import { DataPlaneError, DataPlaneErrorCode } from '@aigw/contracts/data-plane';
import { clientSendTimeouts } from '@aigw/infra/http';
import { until } from '@aigw/testing';
import { sumBatchUsage } from './batch-jsonl';
import { FilesAndBatches, type BillingTrigger, type HeldObjectCalls } from './files-and-batches';
import type { FileBytesOutcome, FileBytesUse } from './files-and-batches-options';
import { gatewayId } from './gateway-ids';
import { MemoryHeldObjectStore } from './held-objects';
import { heldOnBatchRoute } from './testing/held-record';
import { oneBatchRoute } from './testing/one-batch-route';
import { alicePipeline } from './testing/alice-pipeline';

const TTL = 30 * 24 * 3600_000;
const USAGE = { prompt_tokens: 100, completion_tokens: 20, total_tokens: 120 };
const LINES = 500;

/** The backend's output: many answers naming its model, some text multi-byte. */
const OUTPUT = Array.from({ length: LINES }, (_, i) =>
  JSON.stringify({
    id: `batch_req_${i}`,
    custom_id: `r${i}`,
    response: {
      status_code: 200,
      body: {
        model: 'up-2025-01-01',
        choices: [{ message: { content: `ok ${i} ✓` } }],
        usage: USAGE,
      },
    },
  }),
).join('\n');

/** A backend that streams `OUTPUT` in 1000-byte chunks, cutting lines and characters. */
class StreamingBackend implements HeldObjectCalls {
  readonly calls: string[] = [];
  status = 'completed';
  /** Bytes the backend handed over; and whether its body was let go of early. */
  streamed = 0;
  destroyed = false;
  /** Each read waits this long: a download long enough to hang up in. */
  delayMs = 0;
  failFirst = false;
  /** How many times the output is sent over: a download larger than a socket's buffers. */
  copies = 1;
  chunkBytes = 1000;

  async send(_backend: unknown, method: string, path: string) {
    this.calls.push(`send ${method} ${path}`);
    if (path === '/batches/b1') {
      const body = {
        id: 'b1',
        object: 'batch',
        model: 'up',
        status: this.status,
        output_file_id: 'out1',
      };
      return {
        status: 200,
        contentType: 'application/json',
        body: Buffer.from(JSON.stringify(body)),
      };
    }
    throw new DataPlaneError(DataPlaneErrorCode.NotFound, 'No such object');
  }

  async open(_backend: unknown, path: string) {
    this.calls.push(`open GET ${path}`);
    if (path !== '/files/out1/content') {
      throw new DataPlaneError(DataPlaneErrorCode.NotFound, 'No such object');
    }
    const bytes = Buffer.from(Array.from({ length: this.copies }, () => OUTPUT).join('\n'));
    const chunks = async function* (this: StreamingBackend) {
      if (this.failFirst) throw new Error('connection reset');
      for (let at = 0; at < bytes.length; at += this.chunkBytes) {
        if (this.delayMs) await new Promise((resolve) => setTimeout(resolve, this.delayMs));
        const chunk = bytes.subarray(at, at + this.chunkBytes);
        this.streamed += chunk.length;
        yield chunk;
      }
    };
    const body = Readable.from(chunks.call(this), { objectMode: false });
    body.once('close', () => (this.destroyed = !body.readableEnded));
    return { status: 200, contentType: 'application/octet-stream', body };
  }
}

async function setup(clientSendTimeoutMs?: number) {
  const config = oneBatchRoute();
  const store = new MemoryHeldObjectStore({ maxEntries: 100, maxBytes: 1_000_000 });
  const backend = new StreamingBackend();
  const events: TokenUsageRecorded[] = [];
  const triggers: BillingTrigger[] = [];
  const bytes: [FileBytesUse, FileBytesOutcome, number][] = [];
  const logged: string[] = [];
  const batches = new FilesAndBatches({
    config: () => config,
    upstream: backend,
    store,
    ttlMs: TTL,
    priceFactor: 0.5,
    publish: (event) => events.push(event),
    onSettled: (settled) => triggers.push(settled.trigger),
    onFileBytes: (use, outcome, count) => bytes.push([use, outcome, count]),
    onError: (what) => logged.push(what),
    ...(clientSendTimeoutMs !== undefined && { clientSendTimeoutMs }),
  });
  const outputId = gatewayId('file', {
    route: 'batches',
    backend: 'openai-batch',
    providerId: 'out1',
  });
  const batch = heldOnBatchRoute('batch', 'b1', Date.now(), {
    // As a look whose billing failed leaves it: finished, its output adopted, unbilled.
    object: { status: 'completed', output_file_id: outputId },
  });
  const { id } = batch;
  await store.put(batch, TTL);
  await store.addPending(id, TTL);
  await store.put(
    {
      ...batch,
      id: outputId,
      kind: 'file',
      providerId: 'out1',
      batchId: id,
      object: { id: outputId, object: 'file', purpose: 'batch_output' },
    },
    TTL,
  );
  const app = Fastify();
  const pipeline = alicePipeline();
  batches.register(app, '/v1', pipeline);
  await app.listen({ port: 0, host: '127.0.0.1' });
  const url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}/v1/files/${outputId}/content`;
  const settle = () => new Promise((resolve) => setTimeout(resolve, 30));
  return { app, backend, store, events, triggers, bytes, logged, batches, batch, url, settle };
}

describe('a batch file download', () => {
  it('streams the restored lines and bills the usage tallied on the way, once', async () => {
    const t = await setup();
    try {
      const reply = await fetch(t.url);
      assert.equal(reply.status, 200);
      assert.equal(reply.headers.get('content-type'), 'application/octet-stream');
      assert.ok(reply.headers.get('x-request-id'));
      const text = await reply.text();
      assert.equal(text, OUTPUT.replaceAll('"model":"up-2025-01-01"', '"model":"gpt-batch"'));
      await until('the download is billed', () => t.events.length > 0, { everyMs: 10 });
      await t.settle(); // room for a second billing of the same download to show
      assert.deepEqual(t.triggers, ['content']);
      assert.equal(t.events.length, 1);
      const whole = sumBatchUsage(OUTPUT);
      assert.equal(t.events[0].inputTokens, whole.inputTokens);
      assert.equal(t.events[0].outputTokens, whole.outputTokens);
      assert.equal(whole.inputTokens, LINES * USAGE.prompt_tokens);
      assert.deepEqual(t.bytes, [['download', 'complete', Buffer.byteLength(OUTPUT)]]);
      assert.deepEqual(t.backend.calls, ['open GET /files/out1/content']);
      // A second download bills nothing more.
      await (await fetch(t.url)).text();
      await t.settle();
      assert.equal(t.events.length, 1);
    } finally {
      await t.app.close();
    }
  });

  it('lets go of the backend and bills nothing when the client hangs up', async () => {
    const t = await setup();
    t.backend.delayMs = 2;
    try {
      await new Promise<void>((resolve, reject) => {
        const req = httpRequest(t.url, (response) => {
          response.once('data', () => {
            req.destroy();
            resolve();
          });
        });
        req.on('error', () => undefined);
        req.once('error', reject);
        req.end();
      });
      await until('the backend body was destroyed', () => t.backend.destroyed, { everyMs: 10 });
      assert.ok(t.backend.streamed < Buffer.byteLength(OUTPUT), `${t.backend.streamed} bytes read`);
      await until('the download is counted', () => t.bytes.length > 0, { everyMs: 10 });
      await t.settle();
      assert.equal(t.events.length, 0);
      assert.equal(t.bytes[0]?.[1], 'aborted');
      // Left for a look: the batch is still to bill.
      assert.equal(await t.batches.checkBatch((await t.store.get(t.batch.id))!), 'billed');
      assert.equal(t.events.length, 1);
    } finally {
      await t.app.close();
    }
  });

  it('drops a client that stops reading once it took nothing for the send timeout, and lets go of the backend', async () => {
    const t = await setup(300);
    t.backend.copies = 300; // some 30 MB: more than the sockets' buffers hold
    t.backend.chunkBytes = 64 * 1024;
    const before = clientSendTimeouts();
    try {
      let answer: IncomingMessage | undefined;
      let closed = false;
      const req = httpRequest(t.url, (response) => {
        answer = response;
        response.once('data', () => response.pause()); // then reads nothing more
        response.once('close', () => (closed = true));
      });
      req.on('error', () => undefined);
      req.end();
      // Bounds only a hang: the buffers fill within moments, then the timeout runs.
      await until('the backend body was let go of', () => t.backend.destroyed, {
        everyMs: 20,
        deadlineMs: 20_000, // within the unit runner's 30 s
      });
      assert.equal(clientSendTimeouts() - before, 1, 'counted as a send timeout');
      await until('the download is counted', () => t.bytes.length > 0, { everyMs: 10 });
      assert.equal(t.bytes[0]?.[1], 'aborted');
      assert.equal(t.events.length, 0, 'nothing billed: the output was not read to its end');
      answer?.resume(); // a paused answer reports no end
      await until('the client sees its connection go', () => closed, { everyMs: 10 });
    } finally {
      await t.app.close();
    }
  });

  it('answers an OpenAI upstream error when the backend fails before the first bytes, logged once', async () => {
    const t = await setup();
    t.backend.failFirst = true;
    try {
      const reply = await fetch(t.url);
      assert.equal(reply.status, 502);
      const body = (await reply.json()) as { error: { message: string; type: string } };
      assert.equal(body.error.type, 'upstream_error');
      assert.doesNotMatch(body.error.message, /connection reset/);
      assert.equal(t.events.length, 0);
      await t.settle();
      // The client was answered: one record for the backend's failure, not also a cut stream.
      assert.deepEqual(t.logged, ['reading a batch file from its backend']);
    } finally {
      await t.app.close();
    }
  });
});

describe("a look's billing", () => {
  it('streams the output file from the backend and sums it as the whole text', async () => {
    const t = await setup();
    try {
      assert.equal(await t.batches.checkBatch(t.batch), 'billed');
      // The output's file object is asked once as it is first seen (for lists), then read.
      assert.deepEqual(t.backend.calls, [
        'send GET /batches/b1',
        'send GET /files/out1',
        'open GET /files/out1/content',
      ]);
      assert.equal(t.events[0].inputTokens, sumBatchUsage(OUTPUT).inputTokens);
      assert.deepEqual(t.bytes, [['billing', 'complete', Buffer.byteLength(OUTPUT)]]);
    } finally {
      await t.app.close();
    }
  });
});
