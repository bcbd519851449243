import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { metricSum } from '../metrics-text';
import { FAKE_BATCH_MODEL as UPSTREAM, FakeBatchBackend } from './fake-batch-upstream';
import {
  FAKE_BATCH_ROUTE_MODEL as VIRTUAL,
  startOnFakeBatchBackend,
  type DeploymentShape,
  type FakeBatchDeployment,
} from './fake-batch-upstream-deployment';

const MiB = 1024 * 1024;
/** Far below the files streamed: it bounds a file sent before its purpose, and other bodies. */
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

/**
 * The streamed batch-upload cases, run on the deployment `shape` against a fake OpenAI
 * backend, with AI_GATEWAY_MAX_BODY_BYTES 1 MiB and AI_GATEWAY_MAX_FILE_BYTES 8 MiB on every
 * process: a file of several MB sent purpose first reaches the backend byte for byte but
 * for its model names; a bad line near its end is the client's 400 and leaves no file at
 * the backend (its upload is cut before the form closes); a file over the file limit is a
 * 413, with or without a Content-Length; a file sent before its purpose waits on disk at
 * the edge (its data directory's upload-spool), however large, is then read as one sent
 * after it, and its spool file is deleted however the upload ends; a chat body and the
 * other forms keep the body limit.
 */
export function describeStreamedBatchUploads(title: string, shape: DeploymentShape): void {
  describe(title, () => {
    const backend = new FakeBatchBackend();
    let deployment: FakeBatchDeployment;

    before(async () => {
      await backend.start();
      deployment = await startOnFakeBatchBackend(backend, shape, {
        AI_GATEWAY_MAX_BODY_BYTES: String(MAX_BODY_BYTES),
        AI_GATEWAY_MAX_FILE_BYTES: String(MAX_FILE_BYTES),
      });
    });

    after(async () => {
      await deployment?.stop();
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
      fetch(`${deployment.edge.baseUrl}/v1/files`, { method: 'POST', headers, body });
    const uploadedBytes = async (outcome: string) =>
      metricSum(
        await (await fetch(`http://127.0.0.1:${deployment.edge.adminPort}/metrics`)).text(),
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

    it('sends a file of several MB (over the body limit) on byte for byte but for its model names', async () => {
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
        for (let at = 0; at < bytes.length; at += 64 * 1024) {
          yield bytes.subarray(at, at + 64 * 1024);
        }
      }
      const streamed = await fetch(`${deployment.edge.baseUrl}/v1/files`, {
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

    /** The edge's spool files: where a file sent before its purpose waits for it. */
    const spoolFiles = () => {
      try {
        return readdirSync(join(deployment.dataDirOf(deployment.apps[0]), 'upload-spool'));
      } catch {
        return [];
      }
    };
    /** Waits (up to 5 s) until `ready` holds. */
    const until = async (ready: () => boolean) => {
      const deadline = Date.now() + 5000;
      while (!ready() && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      return ready();
    };

    it('takes a small file sent before its purpose, as before, and deletes its spool file', async () => {
      const files = backend.files.size;
      const text = batchFile(2_000);
      assert.ok(Buffer.byteLength(text) < MAX_BODY_BYTES, `${Buffer.byteLength(text)} bytes`);
      const response = await upload(formOf(text, true));
      assert.equal(response.status, 200, await response.clone().text());
      assert.equal(backend.files.size, files + 1);
      const held = [...backend.files.values()].at(-1)!;
      assert.equal(held.purpose, 'batch');
      assert.ok(held.content === text.replaceAll(`"model":"${VIRTUAL}"`, `"model":"${UPSTREAM}"`));
      assert.deepEqual(spoolFiles(), []);
    });

    it('takes a file sent before its purpose past the body limit, from disk, checked as one sent after it', async () => {
      const files = backend.files.size;
      const text = batchFile(20_000);
      const size = Buffer.byteLength(text);
      assert.ok(size > 2.5 * MAX_BODY_BYTES && size < MAX_FILE_BYTES, `${size} bytes`);
      const completeBefore = await uploadedBytes('complete');
      const response = await upload(formOf(text, true));
      assert.equal(response.status, 200, await response.clone().text());
      assert.equal(backend.files.size, files + 1);
      const held = [...backend.files.values()].at(-1)!;
      assert.equal(held.purpose, 'batch');
      assert.ok(held.content === text.replaceAll(`"model":"${VIRTUAL}"`, `"model":"${UPSTREAM}"`));
      assert.equal((await uploadedBytes('complete')) - completeBefore, size);
      assert.deepEqual(spoolFiles(), [], 'its spool file deleted');
      // A bad line in it is the same 400, and no file is left at the backend or on disk.
      const refused = await upload(formOf(batchFile(20_000, 19_990), true));
      assert.equal(refused.status, 400, await refused.clone().text());
      assert.match(
        ((await refused.json()) as { error: { message: string } }).error.message,
        /'gpt-other'/,
      );
      assert.equal(backend.files.size, files + 1, 'no file was made of it');
      assert.deepEqual(spoolFiles(), []);
      // Only the edge spools: no hop after it holds the file anywhere.
      for (const app of deployment.apps.slice(1)) {
        assert.equal(existsSync(join(deployment.dataDirOf(app), 'upload-spool')), false, app);
      }
    });

    it('deletes the spool file of a client that hangs up mid-upload, file before purpose', async () => {
      const files = backend.files.size;
      const form = new Request('http://x', {
        method: 'POST',
        body: formOf(batchFile(20_000), true),
      });
      const type = form.headers.get('content-type')!;
      const bytes = Buffer.from(await form.arrayBuffer());
      const controller = new AbortController();
      // Half the file, then nothing more: the client stalls and hangs up.
      async function* halfThenStall() {
        for (let at = 0; at < bytes.length / 2; at += 64 * 1024) {
          yield bytes.subarray(at, Math.min(at + 64 * 1024, bytes.length / 2));
        }
        await new Promise((resolve) => setTimeout(resolve, 60_000));
      }
      const sent = fetch(`${deployment.edge.baseUrl}/v1/files`, {
        method: 'POST',
        headers: { ...headers, 'content-type': type },
        body: halfThenStall(),
        duplex: 'half',
        signal: controller.signal,
      }).catch((error: unknown) => error);
      assert.ok(await until(() => spoolFiles().length === 1), 'the file is spooled as it comes');
      controller.abort();
      assert.ok((await sent) instanceof Error, 'the client hung up');
      assert.ok(await until(() => spoolFiles().length === 0), `left: ${spoolFiles().join(', ')}`);
      assert.equal(backend.files.size, files, 'no file was made');
    });

    it('still refuses a chat JSON body over the body limit with a 413', async () => {
      const response = await fetch(`${deployment.edge.baseUrl}/v1/chat/completions`, {
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

    it('keeps the body limit for other forms: an audio or image edit form over it is a 413', async () => {
      for (const path of ['/v1/audio/transcriptions', '/v1/images/edits']) {
        const form = new FormData();
        form.append('model', VIRTUAL);
        form.append('file', new Blob([Buffer.alloc(2 * MAX_BODY_BYTES, 'x')]), 'big.bin');
        const response = await fetch(`${deployment.edge.baseUrl}${path}`, {
          method: 'POST',
          headers,
          body: form,
        });
        assert.equal(response.status, 413, path);
        assert.equal(
          ((await response.json()) as { error: { type: string } }).error.type,
          'invalid_request_error',
        );
      }
    });
  });
}
