import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import Fastify from 'fastify';
import { registerFormParser } from '../forms/form-parser';
import { FilesAndBatches, type HeldObjectCalls } from './files-and-batches';
import type { FileBytesOutcome, FileBytesUse } from './files-and-batches-options';
import { MemoryHeldObjectStore } from './held-objects';
import { oneBatchRoute } from './testing/one-batch-route';
import { alicePipeline } from './testing/alice-pipeline';

const line = (id: number, model = 'gpt-batch') =>
  JSON.stringify({
    custom_id: `r${id}`,
    method: 'POST',
    url: '/v1/chat/completions',
    body: { model, messages: [{ role: 'user', content: `q${id}` }] },
  });

const fileOf = (count: number, bad?: number) =>
  Array.from({ length: count }, (_, i) => line(i, i === bad ? 'gpt-other' : undefined)).join('\n') +
  '\n';

type Upload = NonNullable<HeldObjectCalls['upload']>;

/** A Files backend whose upload (absent: `send` only, as the split hop once was) is given. */
function backendWith(upload?: Upload) {
  const calls: string[] = [];
  const sentForms: string[] = [];
  const backend: HeldObjectCalls = {
    send: async (_target, method, path, body) => {
      calls.push(`${method} ${path}`);
      if (body) sentForms.push(body.data.toString('utf8'));
      const id = method === 'DELETE' ? path.slice('/files/'.length) : 'file-sent';
      return {
        status: 200,
        contentType: 'application/json',
        body: Buffer.from(JSON.stringify({ id, object: 'file', purpose: 'batch' })),
      };
    },
    ...(upload && {
      upload: (target, path, body) => {
        calls.push(`upload POST ${path}`);
        return upload(target, path, body);
      },
    }),
  };
  return { backend, calls, sentForms };
}

/** The gateway's answer: a file object, or an OpenAI-style error. */
interface Answer {
  readonly id?: string;
  readonly error?: { readonly message: string };
}

async function serve(
  upstream: HeldObjectCalls,
  limits?: { readonly bodyLimit: number; readonly maxFileBytes: number },
) {
  const config = oneBatchRoute();
  const bytes: [FileBytesUse, FileBytesOutcome, number][] = [];
  const batches = new FilesAndBatches({
    config: () => config,
    upstream,
    store: new MemoryHeldObjectStore({ maxEntries: 100, maxBytes: 1_000_000 }),
    ttlMs: 60_000,
    priceFactor: 0.5,
    publish: () => undefined,
    onFileBytes: (use, outcome, count) => bytes.push([use, outcome, count]),
    ...(limits && { maxFileBytes: limits.maxFileBytes }),
  });
  const app = Fastify(limits && { bodyLimit: limits.bodyLimit });
  registerFormParser(app);
  const pipeline = alicePipeline({
    screenPrompt: (_model: string, _operation: string, body: unknown) => body,
    checksAnswers: () => false,
  });
  batches.register(app, '/v1', pipeline);
  await app.listen({ port: 0, host: '127.0.0.1' });
  const url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}/v1/files`;
  const upload = async (text: string) => {
    const form = new FormData();
    form.append('purpose', 'batch');
    form.append('file', new Blob([text]), 'in.jsonl');
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'x-ai-gateway-model': 'gpt-batch' },
      body: form,
    });
    return { status: response.status, body: (await response.json()) as Answer };
  };
  return { app, bytes, upload };
}

describe('an upload streamed to its backend', () => {
  it('deletes a file the backend made of an upload the gateway refused, and answers the refusal', async () => {
    // A backend that swallows the cut body and makes a file anyway.
    const { backend, calls } = backendWith(async (_target, _path, body) => {
      try {
        for await (const chunk of body.data) void chunk;
      } catch {
        // made the file regardless
      }
      return {
        status: 200,
        contentType: 'application/json',
        body: Buffer.from('{"id":"file-made","object":"file"}'),
      };
    });
    const t = await serve(backend);
    try {
      const text = fileOf(2000, 1990);
      const answer = await t.upload(text);
      assert.equal(answer.status, 400);
      assert.match(answer.body.error?.message ?? '', /^Line 1991 /);
      assert.deepEqual(calls, ['upload POST /files', 'DELETE /files/file-made']);
      assert.equal(t.bytes.length, 1);
      assert.deepEqual(t.bytes[0].slice(0, 2), ['upload', 'refused']);
    } finally {
      await t.app.close();
    }
  });

  it('deletes a file the backend made before the whole form came, answering a 502', async () => {
    const { backend, calls } = backendWith(async (_target, _path, body) => {
      await body.data[Symbol.asyncIterator]().next();
      return {
        status: 200,
        contentType: 'application/json',
        body: Buffer.from('{"id":"file-early","object":"file"}'),
      };
    });
    const t = await serve(backend);
    try {
      const answer = await t.upload(fileOf(2000));
      assert.equal(answer.status, 502);
      assert.deepEqual(calls, ['upload POST /files', 'DELETE /files/file-early']);
    } finally {
      await t.app.close();
    }
  });

  it('sends the rewritten form whole through send when the backend takes no streamed upload', async () => {
    const { backend, calls, sentForms } = backendWith();
    const t = await serve(backend);
    try {
      const text = fileOf(50);
      const answer = await t.upload(text);
      assert.equal(answer.status, 200);
      assert.match(String(answer.body.id), /^file-aigw_/);
      assert.deepEqual(calls, ['POST /files']);
      assert.ok(
        sentForms[0].includes(text.replaceAll('"model":"gpt-batch"', '"model":"up"')),
        'the renamed file in the form',
      );
      assert.deepEqual(t.bytes, [['upload', 'complete', Buffer.byteLength(text)]]);
    } finally {
      await t.app.close();
    }
  });

  it('holds each line to the body limit a single call has, however large the file may be', async () => {
    const { backend } = backendWith(async (_target, _path, body) => {
      for await (const chunk of body.data) void chunk;
      return {
        status: 200,
        contentType: 'application/json',
        body: Buffer.from('{"id":"file-sent","object":"file","purpose":"batch"}'),
      };
    });
    const t = await serve(backend, { bodyLimit: 4_096, maxFileBytes: 1024 * 1024 });
    try {
      // Many lines, the file past the body limit: streamed, taken.
      const many = fileOf(200);
      assert.ok(Buffer.byteLength(many) > 4_096);
      assert.equal((await t.upload(many)).status, 200);
      // One line past it: no single call could be that large, nor parsed as one.
      const long = JSON.stringify({
        custom_id: 'long',
        method: 'POST',
        url: '/v1/chat/completions',
        body: { model: 'gpt-batch', messages: [{ role: 'user', content: 'x'.repeat(5_000) }] },
      });
      const answer = await t.upload(`${line(0)}\n${long}\n`);
      assert.equal(answer.status, 400);
      assert.match(answer.body.error?.message ?? '', /longer than 4096 bytes/);
    } finally {
      await t.app.close();
    }
  });
});
