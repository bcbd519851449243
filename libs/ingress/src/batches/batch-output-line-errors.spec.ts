import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import Fastify from 'fastify';
import { DataPlaneError, DataPlaneErrorCode } from '@aigw/contracts/data-plane';
import { FilesAndBatches, type HeldObjectCalls } from './files-and-batches';
import { gatewayId } from './gateway-ids';
import { MemoryHeldObjectStore } from './held-objects';
import { heldOnBatchRoute } from './testing/held-record';
import { oneBatchRoute } from './testing/one-batch-route';
import { alicePipeline } from './testing/alice-pipeline';

const TTL = 30 * 24 * 3600_000;

/** oneBatchRoute()'s backend host, which its errors may quote. */
const BACKEND_HOST = '127.0.0.1:9';

/**
 * A batch's error file as OpenAI writes it: a request the backend refused (its answer's
 * error naming the model it runs, the account's organization and project, and its host),
 * and one that never ran (the line's own `error`).
 */
const ERROR_FILE = [
  {
    id: 'batch_req_1',
    custom_id: 'r1',
    response: {
      status_code: 429,
      request_id: 'req_1',
      body: {
        error: {
          message: `Rate limit reached for up-2024-07-18 in organization org-AbCdEf123456 on tokens per min (TPM). Project proj_Zy9876543210, see https://${BACKEND_HOST}/v1/limits.`,
          type: 'tokens',
          code: 'rate_limit_exceeded',
        },
      },
    },
    error: null,
  },
  {
    id: 'batch_req_2',
    custom_id: 'r2',
    response: null,
    error: {
      code: 'batch_expired',
      message: 'The model up is not available to organization org-AbCdEf123456.',
    },
  },
]
  .map((line) => JSON.stringify(line))
  .join('\n');

/** An error file's line as the specs read it. */
interface DownloadedLine {
  readonly custom_id: string;
  readonly response: {
    readonly status_code: number;
    readonly body: { readonly error: { message: string; code: string } };
  };
  readonly error: unknown;
}

/** A backend holding the error file `err1`. */
const backend: HeldObjectCalls = {
  async send() {
    throw new DataPlaneError(DataPlaneErrorCode.NotFound, 'No such object');
  },
  async open(_target: unknown, path: string) {
    if (path !== '/files/err1/content') {
      throw new DataPlaneError(DataPlaneErrorCode.NotFound, 'No such object');
    }
    return {
      status: 200,
      contentType: 'application/octet-stream',
      body: Readable.from([Buffer.from(ERROR_FILE)]),
    };
  },
};

describe("a batch's error file downloaded through the gateway", () => {
  it("shows each line's errors without the backend's model, account ids or host", async () => {
    const config = oneBatchRoute();
    const store = new MemoryHeldObjectStore({ maxEntries: 100, maxBytes: 1_000_000 });
    const batches = new FilesAndBatches({
      config: () => config,
      upstream: backend,
      store,
      ttlMs: TTL,
      priceFactor: 0.5,
      publish: () => undefined,
    });
    const batch = heldOnBatchRoute('batch', 'b1', Date.now(), { object: { status: 'failed' } });
    const errorsId = gatewayId('file', {
      route: 'batches',
      backend: 'openai-batch',
      providerId: 'err1',
    });
    await store.put(
      {
        ...batch,
        id: errorsId,
        kind: 'file',
        providerId: 'err1',
        batchId: batch.id,
        object: { id: errorsId, object: 'file', purpose: 'batch_output' },
      },
      TTL,
    );
    const app = Fastify();
    batches.register(app, '/v1', alicePipeline());
    await app.listen({ port: 0, host: '127.0.0.1' });
    try {
      const port = (app.server.address() as AddressInfo).port;
      const reply = await fetch(`http://127.0.0.1:${port}/v1/files/${errorsId}/content`);
      assert.equal(reply.status, 200);
      const lines = (await reply.text())
        .split('\n')
        .map((line) => JSON.parse(line) as DownloadedLine);
      assert.equal(lines.length, 2);
      const refused = lines[0].response.body.error;
      assert.equal(
        refused.message,
        'Rate limit reached for gpt-batch in organization [REDACTED] on tokens per min (TPM). Project [REDACTED], see https://[REDACTED]/v1/limits.',
      );
      // What is not the backend's identity stays as the backend wrote it.
      assert.equal(refused.code, 'rate_limit_exceeded');
      assert.equal(lines[0].custom_id, 'r1');
      assert.equal(lines[0].response.status_code, 429);
      assert.deepEqual(lines[1].error, {
        code: 'batch_expired',
        message: 'The model gpt-batch is not available to organization [REDACTED].',
      });
    } finally {
      await app.close();
    }
  });
});
