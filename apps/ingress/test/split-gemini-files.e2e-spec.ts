// Google's Files API in the split deployment (ingress, router and provider-adapter as three
// processes), driven by Google's own SDK: the ingress keeps the gateway's names, owners and
// upload tokens; each backend call (an upload's start and its steps, their bytes streamed
// across both internal hops; a file's get and delete) is made by the provider-adapter,
// which alone holds the Gemini backend's key. A generateContent naming the file goes to
// the backend holding it, whichever backend load balancing would pick.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApiError, createPartFromUri, GoogleGenAI, type File as GeminiFile } from '@google/genai';
import { startSplitDataPlane, type AppProcess } from '@aigw/testing/processes';
import {
  assertUncarriableContentTypesRefused,
  assertUploadedInTwoSteps,
  FakeGeminiFilesUpstream,
} from '@aigw/testing/fake-provider';

const MODEL = 'gemini-split';
const BACKEND_KEY = 'AIzaSplitBackendKey';
const CLIENT_KEY = 'goog-client-key-never-forwarded';
/** Over the SDK's 8 MiB step: two steps, each streamed across both hops. */
const FILE_BYTES = 9 * 1024 * 1024;

describe('split deployment: the Gemini Files API across the internal wire', () => {
  const first = new FakeGeminiFilesUpstream('a', BACKEND_KEY);
  const second = new FakeGeminiFilesUpstream('b', BACKEND_KEY);
  const dir = mkdtempSync(join(tmpdir(), 'aigw-split-gemini-files-'));
  const services: AppProcess[] = [];
  let baseUrl = '';
  let routerAdmin = '';
  let alice: GoogleGenAI;
  let uploaded: GeminiFile;
  const bytes = Buffer.alloc(FILE_BYTES, 'split gemini bytes. ');

  const clientOf = (user: string) =>
    new GoogleGenAI({
      apiKey: CLIENT_KEY,
      httpOptions: { baseUrl, headers: { 'x-user-id': user, 'x-ai-gateway-model': MODEL } },
    });

  before(async () => {
    await Promise.all([first.start(), second.start()]);
    const path = join(dir, 'split.yaml');
    writeFileSync(
      path,
      `kind: AIGatewayRoute
metadata: {name: gemini}
spec:
  loadBalancing: {strategy: weighted-round-robin}
  backends:
  - {name: gemini-a, priority: 0, provider: google-gemini, baseUrl: "${first.baseUrl}", model: gemini-2.5-flash, modelNameOverride: ${MODEL}, auth: {apiKeyRef: {name: gemini-key}}}
  - {name: gemini-b, priority: 0, provider: google-gemini, baseUrl: "${second.baseUrl}", model: gemini-2.5-flash, modelNameOverride: ${MODEL}, auth: {apiKeyRef: {name: gemini-key}}}
  userIdentification: {header: x-user-id}
  failover: {on: [rateLimit, timeout, error], retryDelay: 0s}
`,
    );
    const { ingress, router } = await startSplitDataPlane(
      { AI_GATEWAY_CONFIG: path },
      dir,
      services,
      { AI_GATEWAY_SECRET_GEMINI_KEY_APIKEY: BACKEND_KEY },
    );
    baseUrl = ingress.baseUrl;
    routerAdmin = `http://127.0.0.1:${router.adminPort}`;
    alice = clientOf('alice');
  });

  after(async () => {
    await Promise.all(services.map((service) => service.stop()));
    await Promise.all([first.stop(), second.stop()]);
  });

  it("uploads through the SDK's resumable protocol, the bytes reaching the backend with its key only", async () => {
    uploaded = await alice.files.upload({
      file: new Blob([bytes], { type: 'text/plain' }),
      config: { mimeType: 'text/plain', displayName: 'split notes' },
    });
    assert.match(uploaded.name ?? '', /^files\/aigw-[0-9a-f]{32}$/);
    assert.equal(uploaded.uri, `${baseUrl}/v1beta/${uploaded.name}`);
    assert.equal(uploaded.displayName, 'split notes');
    assert.equal(uploaded.sizeBytes, String(FILE_BYTES));
    assert.ok(!JSON.stringify(uploaded).includes(first.origin));
    assertUploadedInTwoSteps(first, second, {
      bytes,
      backendKey: BACKEND_KEY,
      clientKey: CLIENT_KEY,
    });
  });

  it("gets and lists the owner's files only", async () => {
    const got = await alice.files.get({ name: uploaded.name! });
    assert.equal(got.name, uploaded.name);
    assert.equal(got.sizeBytes, String(FILE_BYTES));
    const mine: string[] = [];
    for await (const file of await alice.files.list()) mine.push(file.name!);
    assert.deepEqual(mine, [uploaded.name]);
    await assert.rejects(
      clientOf('bob').files.get({ name: uploaded.name! }),
      (error: unknown) => error instanceof ApiError && error.status === 404,
    );
  });

  it('sends every generateContent naming the file to its holder, load balancing aside', async () => {
    const answers: string[] = [];
    for (let i = 0; i < 4; i++) {
      const answer = await alice.models.generateContent({
        model: MODEL,
        contents: [
          {
            role: 'user',
            parts: [createPartFromUri(uploaded.uri!, uploaded.mimeType!), { text: `q${i}` }],
          },
        ],
      });
      answers.push(answer.text ?? '');
    }
    assert.deepEqual(answers, ['read by a', 'read by a', 'read by a', 'read by a']);
    const held = [...first.files.values()][0];
    const parts = (first.generateBodies()[0].contents as { parts: Record<string, unknown>[] }[])[0]
      .parts;
    assert.deepEqual(parts[0], { fileData: { fileUri: held.uri, mimeType: 'text/plain' } });
    assert.equal(second.generateBodies().length, 0);
    // The file's tokens for the hold: counted once, by the adapter, with the backend's key.
    const counts = first.calls.filter((call) => call.path.endsWith(':countTokens'));
    assert.equal(counts.length, 1);
    assert.equal(counts[0].headers['x-goog-api-key'], BACKEND_KEY);
    assert.ok(!counts[0].body.includes(CLIENT_KEY));
  });

  it('still calls a drained holder: a drain leaves a backend as the last resort, and no other has the file', async () => {
    const admin = (action: string) =>
      fetch(`${routerAdmin}/admin/backends/gemini/gemini-a/${action}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ operator: 'e2e' }),
      });
    assert.equal((await admin('drain')).status, 200);
    try {
      const before = second.generateBodies().length;
      const answer = await alice.models.generateContent({
        model: MODEL,
        contents: [{ role: 'user', parts: [createPartFromUri(uploaded.uri!, uploaded.mimeType!)] }],
      });
      assert.equal(answer.text, 'read by a');
      assert.equal(second.generateBodies().length, before);
    } finally {
      assert.equal((await admin('reset')).status, 200);
    }
  });

  it("refuses a resumable start's content type no HTTP header value carries with the all-in-one's 400", async () => {
    await assertUncarriableContentTypesRefused(baseUrl, {
      'x-goog-api-key': CLIENT_KEY,
      'x-user-id': 'alice',
      'x-ai-gateway-model': MODEL,
    });
  });

  it('serves the simple multipart upload across the hops, and deletes at the backend', async () => {
    const boundary = 'split-boundary';
    const media = Buffer.alloc(2 * 1024 * 1024, 'multipart. ');
    const response = await fetch(`${baseUrl}/upload/v1beta/files?uploadType=multipart`, {
      method: 'POST',
      headers: {
        'content-type': `multipart/related; boundary=${boundary}`,
        'x-goog-api-key': CLIENT_KEY,
        'x-user-id': 'alice',
        'x-ai-gateway-model': MODEL,
      },
      body: Buffer.concat([
        Buffer.from(
          `--${boundary}\r\nContent-Type: application/json\r\n\r\n{"file":{"displayName":"mp"}}` +
            `\r\n--${boundary}\r\nContent-Type: image/png\r\n\r\n`,
        ),
        media,
        Buffer.from(`\r\n--${boundary}--`),
      ]),
    });
    assert.equal(response.status, 200, await response.clone().text());
    const { file } = (await response.json()) as { file: GeminiFile };
    assert.equal(file.mimeType, 'image/png');
    assert.equal(file.sizeBytes, String(media.length));
    assert.equal(first.files.size, 2);
    await alice.files.delete({ name: file.name! });
    await alice.files.delete({ name: uploaded.name! });
    assert.equal(first.files.size, 0);
  });
});
