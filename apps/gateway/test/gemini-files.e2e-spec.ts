import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { ApiError, createPartFromUri, GoogleGenAI, type File as GeminiFile } from '@google/genai';
import { metricSum } from '@aigw/testing';
import { startGatewayWithConfig, type AppProcess } from '@aigw/testing/processes';
import {
  assertUncarriableContentTypesRefused,
  assertUploadedInTwoSteps,
  FakeGeminiFilesUpstream,
} from '@aigw/testing/fake-provider';

// Google's Files API on the gateway's Gemini edge, driven by Google's own SDK: a file is
// uploaded (resumable, two 8 MiB-bounded steps) to the first Gemini backend of the model
// named in x-ai-gateway-model, under the gateway's name; only its owner reads, lists,
// deletes or uses it; generateContent naming it goes to that backend and no other.

const MODEL = 'gemini-files';
const BALANCED = 'gemini-balanced';
const KEY_A = 'AIzaBackendKeyA';
const KEY_B = 'AIzaBackendKeyB';
const CLIENT_KEY = 'goog-client-key-never-forwarded';
/** Over the SDK's 8 MiB step: the upload takes two steps, each streamed through. */
const FILE_BYTES = 9 * 1024 * 1024;

describe('Gemini Files API on the all-in-one gateway', () => {
  const first = new FakeGeminiFilesUpstream('a', KEY_A);
  const second = new FakeGeminiFilesUpstream('b', KEY_B);
  // A load-balanced model's two backends (weighted round robin takes them in turn).
  const third = new FakeGeminiFilesUpstream('c', KEY_A);
  const fourth = new FakeGeminiFilesUpstream('d', KEY_A);
  let gateway: AppProcess;
  let alice: GoogleGenAI;
  let bob: GoogleGenAI;
  let uploaded: GeminiFile;
  const bytes = Buffer.alloc(FILE_BYTES, 'gemini file bytes. ');

  const clientOf = (user: string, headers: Record<string, string> = {}) =>
    new GoogleGenAI({
      apiKey: CLIENT_KEY,
      httpOptions: {
        baseUrl: gateway.baseUrl,
        headers: { 'x-user-id': user, 'x-ai-gateway-model': MODEL, ...headers },
      },
    });

  const ask = (client: GoogleGenAI, file: GeminiFile) =>
    client.models.generateContent({
      model: MODEL,
      contents: [
        {
          role: 'user',
          parts: [createPartFromUri(file.uri!, file.mimeType!), { text: 'What is in it?' }],
        },
      ],
    });

  const isStatus = (status: number) => (error: unknown) =>
    error instanceof ApiError && error.status === status;

  before(async () => {
    await Promise.all([first.start(), second.start(), third.start(), fourth.start()]);
    gateway = await startGatewayWithConfig(
      `kind: AIGatewayRoute
metadata: {name: gemini-files}
spec:
  backends:
  - {name: gemini-a, provider: google-gemini, baseUrl: "${first.baseUrl}", model: gemini-2.5-flash, modelNameOverride: ${MODEL}, auth: {apiKeyRef: {name: key-a}}}
  - {name: gemini-b, priority: 1, provider: google-gemini, baseUrl: "${second.baseUrl}", model: gemini-2.5-flash, modelNameOverride: ${MODEL}, auth: {apiKeyRef: {name: key-b}}}
  userIdentification: {header: x-user-id}
  failover: {on: [rateLimit, timeout, error], retryDelay: 0s}
---
kind: AIGatewayRoute
metadata: {name: gemini-balanced}
spec:
  loadBalancing: {strategy: weighted-round-robin}
  backends:
  - {name: gemini-c, priority: 0, provider: google-gemini, baseUrl: "${third.baseUrl}", model: gemini-2.5-flash, modelNameOverride: ${BALANCED}, auth: {apiKeyRef: {name: key-a}}}
  - {name: gemini-d, priority: 0, provider: google-gemini, baseUrl: "${fourth.baseUrl}", model: gemini-2.5-flash, modelNameOverride: ${BALANCED}, auth: {apiKeyRef: {name: key-a}}}
  userIdentification: {header: x-user-id}
  failover: {on: [rateLimit, timeout, error], retryDelay: 0s}
`,
      {
        AI_GATEWAY_SECRET_KEY_A_APIKEY: KEY_A,
        AI_GATEWAY_SECRET_KEY_B_APIKEY: KEY_B,
      },
    );
    alice = clientOf('alice');
    bob = clientOf('bob');
  });

  after(async () => {
    await gateway?.stop();
    await Promise.all([first.stop(), second.stop(), third.stop(), fourth.stop()]);
  });

  it("uploads through the SDK's resumable protocol to the model's first Gemini backend, under the gateway's name", async () => {
    uploaded = await alice.files.upload({
      file: new Blob([bytes], { type: 'text/plain' }),
      config: { mimeType: 'text/plain', displayName: 'notes' },
    });
    assert.match(uploaded.name ?? '', /^files\/aigw-[0-9a-f]{32}$/);
    assert.equal(uploaded.uri, `${gateway.baseUrl}/v1beta/${uploaded.name}`);
    assert.equal(uploaded.displayName, 'notes');
    assert.equal(uploaded.mimeType, 'text/plain');
    assert.equal(uploaded.sizeBytes, String(FILE_BYTES));
    assert.equal(uploaded.state, 'ACTIVE');
    // Nothing of the backend's own: its origin (URIs, upload URLs), its file's name.
    const shown = JSON.stringify(uploaded);
    assert.ok(!shown.includes(first.origin), shown);
    assert.ok(!shown.includes([...first.files.keys()][0]), shown);
    // The bytes reached the first backend whole, in the SDK's two steps, with its own key.
    assertUploadedInTwoSteps(first, second, { bytes, backendKey: KEY_A, clientKey: CLIENT_KEY });
  });

  it("gets the owner's file as its backend describes it, and another caller's get is Google's 404", async () => {
    const got = await alice.files.get({ name: uploaded.name! });
    assert.equal(got.name, uploaded.name);
    assert.equal(got.uri, uploaded.uri);
    assert.equal(got.sizeBytes, String(FILE_BYTES));
    const response = await fetch(`${gateway.baseUrl}/v1beta/${uploaded.name}`, {
      headers: { 'x-goog-api-key': CLIENT_KEY, 'x-user-id': 'bob' },
    });
    assert.equal(response.status, 404);
    const body = (await response.json()) as { error: { code: number; status: string } };
    assert.equal(body.error.code, 404);
    assert.equal(body.error.status, 'NOT_FOUND');
    await assert.rejects(bob.files.get({ name: uploaded.name! }), isStatus(404));
  });

  it("lists the caller's own files only", async () => {
    const mine: string[] = [];
    for await (const file of await alice.files.list()) mine.push(file.name!);
    assert.deepEqual(mine, [uploaded.name]);
    const theirs: string[] = [];
    for await (const file of await bob.files.list()) theirs.push(file.name!);
    assert.deepEqual(theirs, []);
  });

  it('sends a generateContent naming the file to the backend that holds it, as its own URI', async () => {
    const answer = await ask(alice, uploaded);
    assert.equal(answer.text, 'read by a');
    const [sent] = first.generateBodies();
    const parts = (sent.contents as { parts: Record<string, unknown>[] }[])[0].parts;
    const held = [...first.files.values()][0];
    assert.deepEqual(parts[0], { fileData: { fileUri: held.uri, mimeType: 'text/plain' } });
    assert.deepEqual(parts[1], { text: 'What is in it?' });
    assert.equal(second.generateBodies().length, 0);
  });

  it("refuses another caller's use of the file, as an unknown one, without calling a backend", async () => {
    const before = first.calls.length + second.calls.length;
    await assert.rejects(ask(bob, uploaded), isStatus(404));
    assert.equal(first.calls.length + second.calls.length, before);
  });

  it('never fails a call naming the file over to another backend, though the route fails over others', async () => {
    first.failGenerate = true;
    try {
      // A call without the file fails over to the second backend, as the route says.
      const plain = await alice.models.generateContent({ model: MODEL, contents: 'hello' });
      assert.equal(plain.text, 'read by b');
      const reached = second.generateBodies().length;
      await assert.rejects(
        ask(alice, uploaded),
        (error: unknown) =>
          error instanceof ApiError &&
          /holding the file/.test(error.message) &&
          /no other backend was tried/.test(error.message),
      );
      assert.equal(second.generateBodies().length, reached, 'the file went to another backend');
      assert.ok(!second.calls.some((call) => call.body.includes('afile')));
    } finally {
      first.failGenerate = false;
    }
  });

  it('tries the holder while it cools down, as no other backend has the file', async () => {
    first.rateLimitGenerate = true;
    try {
      // A 429 with Retry-After cools the holder; a call without the file goes to b.
      const plain = await alice.models.generateContent({ model: MODEL, contents: 'hello' });
      assert.equal(plain.text, 'read by b');
    } finally {
      first.rateLimitGenerate = false;
    }
    const reached = second.generateBodies().length;
    const answer = await ask(alice, uploaded);
    assert.equal(answer.text, 'read by a');
    assert.equal(second.generateBodies().length, reached);
  });

  it('keeps every call naming the file to its holder, whichever backend load balancing picks', async () => {
    const balanced = clientOf('alice', { 'x-ai-gateway-model': BALANCED });
    const file = await balanced.files.upload({
      file: new Blob(['balanced bytes'], { type: 'text/plain' }),
      config: { mimeType: 'text/plain' },
    });
    assert.equal(third.files.size, 1);
    const answers: string[] = [];
    for (let i = 0; i < 4; i++) {
      const answer = await balanced.models.generateContent({
        model: BALANCED,
        contents: [{ role: 'user', parts: [createPartFromUri(file.uri!, file.mimeType!)] }],
      });
      answers.push(answer.text ?? '');
    }
    assert.deepEqual(answers, ['read by c', 'read by c', 'read by c', 'read by c']);
    // Calls without a file still take turns.
    const plain: string[] = [];
    for (let i = 0; i < 2; i++) {
      plain.push(
        (await balanced.models.generateContent({ model: BALANCED, contents: `hi ${i}` })).text!,
      );
    }
    assert.deepEqual(plain.sort(), ['read by c', 'read by d']);
  });

  it("takes no backend pick from a client's own held_by on the chat edge: load balancing still turns", async () => {
    // Only the gateway writes held_by (with the holder's file URI); a client writing one
    // beside its own file_data must not choose the backend, nor skip balancing or cooldowns.
    const answers: string[] = [];
    for (let i = 0; i < 4; i++) {
      const response = await fetch(`${gateway.baseUrl}/v1/chat/completions`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'x-user-id': 'mallory',
          'x-ai-gateway-fallback': 'false',
        },
        body: JSON.stringify({
          model: BALANCED,
          messages: [
            {
              role: 'user',
              content: [
                {
                  type: 'file',
                  file: {
                    file_data: `data:application/pdf;base64,${Buffer.from('%PDF-1.4').toString('base64')}`,
                    held_by: { route: 'gemini-balanced', backend: 'gemini-d' },
                  },
                },
                { type: 'text', text: `call ${i}` },
              ],
            },
          ],
        }),
      });
      assert.equal(response.status, 200, await response.clone().text());
      const body = (await response.json()) as { choices: { message: { content: string } }[] };
      answers.push(body.choices[0].message.content);
    }
    assert.deepEqual(new Set(answers), new Set(['read by c', 'read by d']));
  });

  it("serves Google's simple multipart upload (metadata part, then media), usable as any file", async () => {
    const boundary = 'gateway-test-boundary';
    const media = Buffer.alloc(3 * 1024 * 1024, 'multipart media. ');
    const body = Buffer.concat([
      Buffer.from(
        `--${boundary}\r\nContent-Type: application/json; charset=UTF-8\r\n\r\n` +
          JSON.stringify({ file: { displayName: 'one shot' } }) +
          `\r\n--${boundary}\r\nContent-Type: text/csv\r\n\r\n`,
      ),
      media,
      Buffer.from(`\r\n--${boundary}--\r\n`),
    ]);
    const filesBefore = first.files.size;
    const response = await fetch(`${gateway.baseUrl}/upload/v1beta/files?uploadType=multipart`, {
      method: 'POST',
      headers: {
        'content-type': `multipart/related; boundary=${boundary}`,
        'x-goog-api-key': CLIENT_KEY,
        'x-user-id': 'alice',
        'x-ai-gateway-model': MODEL,
      },
      body,
    });
    assert.equal(response.status, 200, await response.clone().text());
    const { file } = (await response.json()) as { file: GeminiFile };
    assert.match(file.name ?? '', /^files\/aigw-[0-9a-f]{32}$/);
    assert.equal(file.displayName, 'one shot');
    assert.equal(file.mimeType, 'text/csv');
    assert.equal(file.sizeBytes, String(media.length));
    assert.ok(!JSON.stringify(file).includes(first.origin));
    assert.equal(first.files.size, filesBefore + 1);
    const held = [...first.files.values()].at(-1)!;
    assert.deepEqual(held.bytes, media);
    const answer = await ask(alice, file);
    assert.equal(answer.text, 'read by a');
    await alice.files.delete({ name: file.name! });
  });

  it('serves the v1beta paths too (the SDK with apiVersion v1beta, raw clients)', async () => {
    const beta = new GoogleGenAI({
      apiKey: CLIENT_KEY,
      apiVersion: 'v1beta',
      httpOptions: {
        baseUrl: gateway.baseUrl,
        headers: { 'x-user-id': 'carol', 'x-ai-gateway-model': MODEL },
      },
    });
    const small = await beta.files.upload({
      file: new Blob(['beta bytes'], { type: 'text/plain' }),
      config: { mimeType: 'text/plain' },
    });
    assert.match(small.name ?? '', /^files\/aigw-[0-9a-f]{32}$/);
    assert.ok(first.calls.some((call) => call.path === '/upload/v1beta/files'));
    const raw = await fetch(`${gateway.baseUrl}/v1beta/${small.name}`, {
      headers: { 'x-goog-api-key': CLIENT_KEY, 'x-user-id': 'carol' },
    });
    assert.equal(raw.status, 200);
    assert.equal(((await raw.json()) as { sizeBytes: string }).sizeBytes, '10');
    const listed = await fetch(`${gateway.baseUrl}/v1beta/files`, {
      headers: { 'x-goog-api-key': CLIENT_KEY, 'x-user-id': 'carol', 'x-ai-gateway-model': MODEL },
    });
    const names = ((await listed.json()) as { files: { name: string }[] }).files.map((f) => f.name);
    assert.deepEqual(names, [small.name]);
    await beta.files.delete({ name: small.name! });
  });

  it("refuses an upload that names no model, in Google's error format", async () => {
    const noModel = new GoogleGenAI({
      apiKey: CLIENT_KEY,
      httpOptions: { baseUrl: gateway.baseUrl, headers: { 'x-user-id': 'alice' } },
    });
    await assert.rejects(
      noModel.files.upload({ file: new Blob(['x'], { type: 'text/plain' }) }),
      (error: unknown) =>
        error instanceof ApiError &&
        error.status === 400 &&
        /x-ai-gateway-model/.test(error.message),
    );
  });

  it('deletes the file at its backend for its owner only', async () => {
    await assert.rejects(bob.files.delete({ name: uploaded.name! }), isStatus(404));
    assert.equal(first.files.size, 1);
    await alice.files.delete({ name: uploaded.name! });
    assert.equal(first.files.size, 0);
    await assert.rejects(alice.files.get({ name: uploaded.name! }), isStatus(404));
  });

  it('counts uploads by outcome', async () => {
    const text = await (await fetch(`http://127.0.0.1:${gateway.adminPort}/metrics`)).text();
    assert.equal(metricSum(text, 'ai_gateway_gemini_file_uploads_total', { outcome: 'ok' }), 4);
    assert.equal(
      metricSum(text, 'ai_gateway_gemini_file_uploads_total', { outcome: 'invalid' }),
      1,
    );
  });

  // After the uploads counted above.
  it('still calls a drained holder: a drain leaves a backend as the last resort, and no other has the file', async () => {
    const file = await alice.files.upload({
      file: new Blob(['drained bytes'], { type: 'text/plain' }),
      config: { mimeType: 'text/plain' },
    });
    const admin = (action: string) =>
      fetch(
        `http://127.0.0.1:${gateway.adminPort}/admin/backends/gemini-files/gemini-a/${action}`,
        {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ operator: 'e2e' }),
        },
      );
    assert.equal((await admin('drain')).status, 200);
    try {
      const before = second.generateBodies().length;
      assert.equal((await ask(alice, file)).text, 'read by a');
      assert.equal(second.generateBodies().length, before);
    } finally {
      assert.equal((await admin('reset')).status, 200);
    }
    await alice.files.delete({ name: file.name! });
  });

  it("refuses a resumable start's content type no HTTP header value carries, as the split deployment does", async () => {
    await assertUncarriableContentTypesRefused(gateway.baseUrl, {
      'x-goog-api-key': CLIENT_KEY,
      'x-user-id': 'alice',
      'x-ai-gateway-model': MODEL,
    });
  });

  it('answers a refused upload whose body never ends, reading at most 1 MiB of it, and closes the connection', async () => {
    const { status, connection, sent } = await endlessUpload(gateway.baseUrl, {
      'content-type': 'multipart/related; boundary=x',
      'x-goog-upload-protocol': 'multipart',
      'x-goog-api-key': CLIENT_KEY,
      'x-user-id': 'alice',
      // No x-ai-gateway-model: refused before any byte of the body is read.
    });
    assert.equal(status, 400);
    assert.equal(connection, 'close');
    assert.ok(sent < 64 * 1024 * 1024, `sent ${sent} bytes`);
  });
});

/**
 * POSTs a chunked upload whose body never ends (64 KiB pieces as fast as they are taken)
 * and resolves with the answer's status and Connection header once the gateway closes the
 * socket; rejects if no answer comes in 20 s.
 */
function endlessUpload(
  baseUrl: string,
  headers: Record<string, string>,
): Promise<{ status: number; connection: string | undefined; sent: number }> {
  return new Promise((resolve, reject) => {
    const url = new URL('/upload/v1beta/files', baseUrl);
    let sent = 0;
    let answered: { status: number; connection: string | undefined } | undefined;
    const request = http.request(url, { method: 'POST', headers });
    const piece = Buffer.alloc(64 * 1024, 'x');
    const timer = setTimeout(() => {
      request.destroy();
      reject(new Error(`no answer after ${sent} bytes sent`));
    }, 20_000);
    const write = () => {
      while (!answered && !request.destroyed) {
        sent += piece.length;
        if (!request.write(piece)) return void request.once('drain', write);
      }
    };
    request.on('response', (response) => {
      answered = { status: response.statusCode ?? 0, connection: response.headers.connection };
      response.resume();
    });
    request.on('error', () => undefined);
    request.on('close', () => {
      clearTimeout(timer);
      if (answered) resolve({ ...answered, sent });
      else reject(new Error(`the connection closed unanswered after ${sent} bytes sent`));
    });
    write();
  });
}
