// A batch input file streamed through the split deployment (ingress, router and
// provider-adapter as three processes): the ingress checks and renames its lines as they
// arrive and each internal hop passes the form's bytes on raw as they come
// (/wire/held-object/upload), so no service holds the file. A file of several MB reaches
// the fake OpenAI backend byte for byte but for its model names; a bad line near its end
// is the client's 400 and leaves no file at the backend (the cut reaches it through both
// hops); a file over AI_GATEWAY_MAX_FILE_BYTES is a 413. AI_GATEWAY_MAX_BODY_BYTES is far
// smaller (below the file, and below what each hop's wire body limit is made of): it bounds a
// file sent before its purpose (held whole by the ingress) and every other body.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { metricSum } from '@aigw/testing';
import { FAKE_BATCH_MODEL as UPSTREAM, FakeBatchBackend } from '@aigw/testing/fake-provider';
import { startApp, type AppProcess } from '@aigw/testing/processes';

const VIRTUAL = 'gpt-batch';
const MiB = 1024 * 1024;
const MAX_BODY_BYTES = 1 * MiB;
const MAX_FILE_BYTES = 8 * MiB;

const requestLine = (id: number, model = VIRTUAL) =>
  JSON.stringify({
    custom_id: `r${id}`,
    method: 'POST',
    url: '/v1/chat/completions',
    body: { model, messages: [{ role: 'user', content: `question ${id} ${'é'.repeat(id % 90)}` }] },
  });

/** `count` lines (a blank one among them, kept as it is), each ending with \n. */
function batchFile(count: number, bad?: number): string {
  const lines: string[] = [];
  for (let id = 0; id < count; id++) {
    lines.push(id === bad ? requestLine(id, 'gpt-other') : requestLine(id));
    if (id === 7) lines.push('');
  }
  return lines.join('\n') + '\n';
}

describe('split deployment: a batch upload streamed across the hops', () => {
  const backend = new FakeBatchBackend();
  const dir = mkdtempSync(join(tmpdir(), 'aigw-split-upload-stream-'));
  let services: AppProcess[] = [];
  let gateway: AppProcess;

  before(async () => {
    await backend.start();
    writeFileSync(
      join(dir, 'config.yaml'),
      `kind: AIGatewayRoute
metadata: {name: batches}
spec:
  backends:
  - {name: openai-batch, provider: openai, baseUrl: "${backend.baseUrl}", model: ${UPSTREAM}, modelNameOverride: ${VIRTUAL}, auth: {apiKeyRef: {name: openai-key}}}
  userIdentification: {header: x-user-id}
`,
    );
    const path = join(dir, 'config.yaml');
    const limit = {
      AI_GATEWAY_MAX_BODY_BYTES: String(MAX_BODY_BYTES),
      AI_GATEWAY_MAX_FILE_BYTES: String(MAX_FILE_BYTES),
    };
    const adapter = await startApp('provider-adapter', {
      ...limit,
      AI_GATEWAY_CONFIG: path,
      AI_GATEWAY_SECRET_OPENAI_KEY_APIKEY: 'sk-backend',
      AI_GATEWAY_DATA_DIR: join(dir, 'adapter'),
    });
    const router = await startApp('router', {
      ...limit,
      AI_GATEWAY_CONFIG: path,
      AI_GATEWAY_DATA_DIR: join(dir, 'router'),
      PROVIDER_ADAPTER_URL: adapter.baseUrl,
    });
    gateway = await startApp('ingress', {
      ...limit,
      AI_GATEWAY_CONFIG: path,
      AI_GATEWAY_DATA_DIR: join(dir, 'ingress'),
      ROUTER_URL: router.baseUrl,
    });
    services = [gateway, router, adapter];
  });

  after(async () => {
    await Promise.all(services.map((service) => service.stop()));
    await backend.stop();
  });

  const headers = { 'x-user-id': 'erin', 'x-ai-gateway-model': VIRTUAL };
  const formOf = (text: string | Blob, fileFirst = false) => {
    const form = new FormData();
    if (!fileFirst) form.append('purpose', 'batch');
    form.append('file', typeof text === 'string' ? new Blob([text]) : text, 'in.jsonl');
    if (fileFirst) form.append('purpose', 'batch');
    return form;
  };
  const upload = (body: FormData) =>
    fetch(`${gateway.baseUrl}/v1/files`, { method: 'POST', headers, body });
  const uploadedBytes = async (outcome: string) =>
    metricSum(
      await (await fetch(`http://127.0.0.1:${gateway.adminPort}/metrics`)).text(),
      'ai_gateway_batch_file_bytes_total',
      { use: 'upload', outcome },
    );
  /** Waits (up to 2 s) for the backend to see `count` cut requests. */
  const cutRequests = async (count: number) => {
    const deadline = Date.now() + 2000;
    while (backend.abortedRequests < count && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    return backend.abortedRequests;
  };

  it('sends a file of several MB (over every body limit) on byte for byte but for its model names', async () => {
    const text = batchFile(30_000);
    assert.ok(Buffer.byteLength(text) > 4 * MAX_BODY_BYTES, `${Buffer.byteLength(text)} bytes`);
    const completeBefore = await uploadedBytes('complete');
    const response = await upload(formOf(text));
    const file = (await response.json()) as { id: string; bytes: number };
    assert.equal(response.status, 200, JSON.stringify(file));
    assert.match(file.id, /^file-aigw_/);
    const held = [...backend.files.values()].at(-1)!;
    assert.equal(held.purpose, 'batch');
    assert.equal(held.filename, 'in.jsonl');
    const expected = text.replaceAll(`"model":"${VIRTUAL}"`, `"model":"${UPSTREAM}"`);
    assert.notEqual(expected, text);
    assert.ok(held.content === expected, 'the backend holds the file, its models renamed');
    assert.equal(
      (await uploadedBytes('complete')) - completeBefore,
      Buffer.byteLength(text),
      'the upload counted by its bytes',
    );
  });

  it('answers a bad line near the end with the 400 and leaves no file at the backend', async () => {
    const files = backend.files.size;
    const cut = backend.abortedRequests;
    const refusedBefore = await uploadedBytes('refused');
    const response = await upload(formOf(batchFile(30_000, 29_990)));
    const answer = (await response.json()) as { error: { message: string; param: string } };
    assert.equal(response.status, 400);
    // Line 29,992: the blank line after line 8 counts.
    assert.match(answer.error.message, /^Line 29992 .*'gpt-other'/);
    assert.equal(answer.error.param, 'file');
    assert.equal(await cutRequests(cut + 1), cut + 1, 'the upload began and was cut');
    assert.equal(backend.files.size, files, 'no file was made');
    assert.ok((await uploadedBytes('refused')) - refusedBefore > 4 * 1024 * 1024);
  });

  it('refuses a file over the limit with a 413, announced or found on the way', async () => {
    const files = backend.files.size;
    const big = batchFile(50_000);
    assert.ok(Buffer.byteLength(big) > MAX_FILE_BYTES);
    // Announced by its Content-Length: refused before it is read.
    const announced = await upload(formOf(big));
    assert.equal(announced.status, 413);
    assert.equal(
      ((await announced.json()) as { error: { type: string } }).error.type,
      'invalid_request_error',
    );
    // Sent chunked, without a length: refused once the limit is passed on the way.
    const form = new Request('http://x', { method: 'POST', body: formOf(big) });
    const type = form.headers.get('content-type')!;
    const bytes = Buffer.from(await form.arrayBuffer());
    async function* pieces() {
      for (let at = 0; at < bytes.length; at += 64 * 1024) yield bytes.subarray(at, at + 64 * 1024);
    }
    const streamed = await fetch(`${gateway.baseUrl}/v1/files`, {
      method: 'POST',
      headers: { ...headers, 'content-type': type },
      body: pieces(),
      duplex: 'half',
    });
    assert.equal(streamed.status, 413);
    assert.equal(
      ((await streamed.json()) as { error: { type: string } }).error.type,
      'invalid_request_error',
    );
    assert.equal(backend.files.size, files, 'no file was made');
  });

  it('refuses a file sent before its purpose past the body limit: a 413 saying to send purpose first', async () => {
    const files = backend.files.size;
    const text = batchFile(20_000);
    const size = Buffer.byteLength(text);
    assert.ok(size > 2.5 * MAX_BODY_BYTES && size < MAX_FILE_BYTES, `${size} bytes`);
    const response = await upload(formOf(text, true));
    const answer = (await response.json()) as {
      error: { message: string; type: string; param: string };
    };
    assert.equal(response.status, 413);
    assert.equal(answer.error.type, 'invalid_request_error');
    assert.equal(answer.error.param, 'file');
    assert.match(answer.error.message, new RegExp(`held in memory, up to ${MAX_BODY_BYTES} bytes`));
    assert.match(answer.error.message, /send 'purpose' \(and 'model'.* before 'file'/);
    assert.equal(backend.files.size, files, 'no file was made');
    // A small one file first is held and sent, as before.
    const small = await upload(formOf(batchFile(2_000), true));
    assert.equal(small.status, 200, await small.clone().text());
    assert.equal(backend.files.size, files + 1);
  });

  it('still refuses a chat JSON body over the body limit with a 413', async () => {
    const response = await fetch(`${gateway.baseUrl}/v1/chat/completions`, {
      method: 'POST',
      headers: { ...headers, 'content-type': 'application/json' },
      body: JSON.stringify({
        model: VIRTUAL,
        messages: [{ role: 'user', content: 'x'.repeat(MAX_BODY_BYTES + 1024) }],
      }),
    });
    assert.equal(response.status, 413);
    assert.equal(
      ((await response.json()) as { error: { type: string } }).error.type,
      'invalid_request_error',
    );
  });
});
