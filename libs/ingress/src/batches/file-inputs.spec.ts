import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { GatewayConfig } from '@aigw/config';
import { type DataPlaneError, type JsonObject } from '@aigw/contracts/data-plane';
import { FileInputs, MAX_INLINE_FILE_BYTES } from './file-inputs';
import type { HeldObjectCalls } from './held-api';
import { MemoryHeldObjectStore } from './held-objects';
import { HeldRecords } from './held-records';
import { backendReply, HELD_TTL_MS } from './testing/batch-apis';
import { heldOnBatchRoute } from './testing/held-record';
import { BATCH_ROUTE_YAML, parsedConfig } from './testing/one-batch-route';

/** oneBatchRoute's backend (holding the files), plus models served elsewhere or after it. */
function config(retry = ''): GatewayConfig {
  return parsedConfig(`${BATCH_ROUTE_YAML}  - {name: cheap, provider: vllm, baseUrl: "http://127.0.0.1:9/v1", model: small, modelNameOverride: gpt-cheap}
${retry}`);
}

const CHEAPER = `  retry: {fallbackStrategy: cheaperModel, fallbackOrder: [gpt-batch, gpt-cheap]}
`;

const CONTENT = Buffer.from('%PDF-1.4 numbers');

/** The holding backend: each file's content, counting reads. */
class Backend implements HeldObjectCalls {
  reads = 0;
  async send(_backend: unknown, _method: string, path: string) {
    assert.equal(path, '/files/up1/content');
    this.reads++;
    return backendReply(CONTENT.toString('latin1'), 'application/octet-stream');
  }
}

async function setup(retry = '', object: JsonObject = {}, counted: { pdfPages?: number } = {}) {
  const store = new MemoryHeldObjectStore({ maxEntries: 10, maxBytes: 1_000_000 });
  const backend = new Backend();
  const current = config(retry);
  const records = new HeldRecords(
    {
      config: () => current,
      upstream: backend,
      store,
      ttlMs: HELD_TTL_MS,
    },
    Date.now,
  );
  const record = {
    ...heldOnBatchRoute('file', 'up1', 1, {
      object: { purpose: 'user_data', filename: 'q3.pdf', bytes: CONTENT.length, ...object },
    }),
    ...counted,
  };
  await store.put(record, HELD_TTL_MS);
  const inputs = new FileInputs(() => current, records);
  const resolve = (model = 'gpt-batch') =>
    inputs.resolve(record.id, 'input[0].content[0].file_id', model, {}, () => 'alice');
  return { backend, resolve };
}

describe('FileInputs', () => {
  it("is the holder's own id when only the holder may serve the model", async () => {
    const { backend, resolve } = await setup();
    // Its record counted no pages: held at its size, a token a byte.
    assert.deepEqual(await resolve(), {
      kind: 'id',
      file: { file_id: 'up1' },
      heldTokens: CONTENT.length,
    });
    assert.equal(backend.reads, 0);
  });

  it('holds a PDF named by id at the pages counted at its upload, 4,600 tokens each', async () => {
    const { resolve } = await setup('', {}, { pdfPages: 12 });
    const resolved = (await resolve()) as { heldTokens: number; heldPages?: number };
    assert.equal(resolved.heldTokens, 12 * 4_600);
    assert.equal(resolved.heldPages, 12);
  });

  it("is the file's content, typed by its name, when a cheaper model's backend may serve", async () => {
    const { backend, resolve } = await setup(CHEAPER);
    assert.deepEqual(await resolve(), {
      kind: 'content',
      file: {
        file_data: `data:application/pdf;base64,${CONTENT.toString('base64')}`,
        filename: 'q3.pdf',
      },
    });
    assert.equal(backend.reads, 1);
  });

  it('holds a file sent as content that is no PDF at its size, as by id', async () => {
    const { resolve } = await setup(CHEAPER, { filename: 'notes.txt' });
    const resolved = await resolve();
    assert.equal(resolved.kind, 'content');
    assert.match(String(resolved.file.file_data), /^data:text\/plain;base64,/);
    assert.equal(resolved.heldTokens, CONTENT.length);
  });

  it('refuses, naming the part, a file too large to send as content, without reading it', async () => {
    const { backend, resolve } = await setup(CHEAPER, { bytes: MAX_INLINE_FILE_BYTES + 1 });
    await assert.rejects(
      resolve(),
      (error: DataPlaneError) =>
        error.httpStatus === 400 &&
        error.param === 'input[0].content[0].file_id' &&
        /larger than the 32 MB/.test(error.message),
    );
    assert.equal(backend.reads, 0);
  });

  it('refuses a model whose backends take no files (vllm only here), naming the part', async () => {
    const { resolve } = await setup();
    await assert.rejects(
      resolve('gpt-cheap'),
      (error: DataPlaneError) =>
        error.httpStatus === 400 &&
        error.param === 'input[0].content[0].file_id' &&
        /"gpt-cheap" has no OpenAI or Azure OpenAI backend/.test(error.message),
    );
  });

  it('refuses a batch file: not a purpose a model reads as input', async () => {
    const { resolve } = await setup('', { purpose: 'batch' });
    await assert.rejects(
      resolve(),
      (error: DataPlaneError) =>
        error.httpStatus === 400 && /has purpose 'batch'/.test(error.message),
    );
  });
});
