import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import type { FastifyRequest } from 'fastify';
import {
  DataPlaneError,
  DataPlaneErrorCode,
  type BackendCallTarget,
  type CallerContext,
  type GatewayRequest,
  type RouterPort,
} from '@aigw/contracts/data-plane';
import Fastify from 'fastify';
import { Logger } from '@aigw/observability';
import { MemoryHeldObjectStore } from '../../batches/held-objects';
import { logStoreAway } from '../../batches/store-away-log';
import { registerGeminiFileRoutes } from './gemini-file-routes';
import { IngressPipeline } from '../../ingress-pipeline';
import { parsedConfig } from '../../batches/testing/one-batch-route';
import { geminiFileIdIn, uploadRecordId } from './gemini-file-names';
import {
  GeminiFiles,
  type GeminiCallReply,
  type GeminiFileCallers,
  type GeminiFileCalls,
} from './gemini-files';
import { gatewayFilePart, withHeldGeminiFiles } from './gemini-held-files';

// Two routes: `pro` served first by Gemini backend g1 (then g2), `mixed` served first by an
// OpenAI-compatible backend. Callers are named by x-user-id.
const CONFIG = parsedConfig(`kind: AIGatewayRoute
metadata: {name: gem}
spec:
  backends:
  - {name: g1, provider: google-gemini, baseUrl: "http://127.0.0.1:9/v1beta", model: gemini-2.5-flash, modelNameOverride: pro}
  - {name: g2, priority: 1, provider: google-gemini, baseUrl: "http://127.0.0.1:8/v1beta", model: gemini-2.5-flash, modelNameOverride: pro}
  - {name: g3, provider: google-gemini, baseUrl: "http://127.0.0.1:7/v1beta", model: gemini-2.5-pro, modelNameOverride: other}
  - {name: local, provider: vllm, baseUrl: "http://127.0.0.1:9/v1", model: m, modelNameOverride: mixed}
  userIdentification: {header: x-user-id}
`);

/** A backend that hands out one upload URL and finalizes a file on `finalize`. */
class Backend implements GeminiFileCalls {
  readonly targets: BackendCallTarget[] = [];
  readonly steps: { command: string; offset: string; bytes: string }[] = [];
  deleted: string[] = [];
  /** When the backend will delete the files it finalizes (Google's `expirationTime`), if said. */
  expirationTime?: string;
  /** More of the File finalized (a video's `videoMetadata`). */
  fileFields: Record<string, unknown> = {};
  /** countTokens calls: the model asked and the file. */
  readonly counts: { model: string; id: string; mimeType: string }[] = [];
  /** countTokens' answer: tokens, a failure, or tokens given only after 150 ms. */
  countAnswer: number | 'fail' | { late: number } = 1_000;

  async countTokens(
    backend: BackendCallTarget,
    model: string,
    file: { id: string; mimeType: string },
  ): Promise<GeminiCallReply> {
    this.targets.push(backend);
    this.counts.push({ model, ...file });
    const answer = this.countAnswer;
    if (answer === 'fail') throw new DataPlaneError(DataPlaneErrorCode.UpstreamError, 'down');
    const tokens = typeof answer === 'number' ? answer : answer.late;
    if (typeof answer !== 'number') await new Promise((resolve) => setTimeout(resolve, 150));
    return { status: 200, body: Buffer.from(JSON.stringify({ totalTokens: tokens })) };
  }

  async start(backend: BackendCallTarget) {
    this.targets.push(backend);
    return { uploadUrl: 'http://127.0.0.1:9/upload/v1beta/files?upload_id=backend-secret' };
  }

  async step(
    backend: BackendCallTarget,
    uploadUrl: string,
    step: { command: string; offset: string; data: AsyncIterable<Uint8Array> },
  ): Promise<GeminiCallReply> {
    assert.equal(uploadUrl, 'http://127.0.0.1:9/upload/v1beta/files?upload_id=backend-secret');
    this.targets.push(backend);
    const parts: Buffer[] = [];
    for await (const chunk of step.data) parts.push(Buffer.from(chunk));
    this.steps.push({
      command: step.command,
      offset: step.offset,
      bytes: Buffer.concat(parts).toString(),
    });
    if (!step.command.includes('finalize'))
      return { status: 200, uploadStatus: 'active', body: Buffer.alloc(0) };
    const file = {
      name: 'files/backendfile1',
      mimeType: 'text/plain',
      uri: 'http://127.0.0.1:9/v1beta/files/backendfile1',
      downloadUri: 'http://127.0.0.1:9/download/backendfile1',
      state: 'ACTIVE',
      ...(this.expirationTime !== undefined && { expirationTime: this.expirationTime }),
      ...this.fileFields,
    };
    return { status: 200, uploadStatus: 'final', body: Buffer.from(JSON.stringify({ file })) };
  }

  async file(
    backend: BackendCallTarget,
    method: 'GET' | 'DELETE',
    id: string,
  ): Promise<GeminiCallReply> {
    this.targets.push(backend);
    if (method === 'DELETE') this.deleted.push(id);
    return {
      status: 200,
      body: Buffer.from(JSON.stringify({ name: `files/${id}`, state: 'ACTIVE' })),
    };
  }
}

const userOf = (headers: Readonly<Record<string, unknown>>) => {
  const user = headers['x-user-id'];
  return typeof user === 'string' ? user : 'anonymous';
};

const NO_ROUTER: RouterPort = {
  route: () => Promise.reject(new Error('not routed here')),
  listModels: () => [],
};

/** The pipeline's answers for routes keyed by x-user-id. */
const CALLERS: GeminiFileCallers = {
  ownerKeyFor: (_model, headers) => userOf(headers),
  ownerKeyIfIdentified: async (_model, headers) => userOf(headers),
  ownerKeysWithoutModel: async (headers) => [userOf(headers)],
  callerFor: (_model, headers): CallerContext => ({ userKey: userOf(headers) }),
  mayUse: (model) => model !== 'forbidden',
};

function request(init: {
  headers?: Record<string, string>;
  query?: Record<string, string>;
  params?: Record<string, string>;
  body?: string;
  url?: string;
}): FastifyRequest {
  return {
    headers: init.headers ?? {},
    query: init.query ?? {},
    params: init.params ?? {},
    url: init.url ?? '/upload/v1beta/files',
    protocol: 'http',
    host: 'gateway.test',
    raw: Readable.from(init.body === undefined ? [] : [Buffer.from(init.body)]),
  } as unknown as FastifyRequest;
}

/** A simple multipart upload's headers for model pro, its body a `multipart/related` one. */
const MULTIPART = {
  'content-type': 'multipart/related; boundary=x',
  'x-goog-upload-protocol': 'multipart',
  'x-ai-gateway-model': 'pro',
};

const START = {
  'x-goog-upload-protocol': 'resumable',
  'x-goog-upload-command': 'start',
  'x-goog-upload-header-content-length': '11',
  'x-goog-upload-header-content-type': 'text/plain',
  'x-ai-gateway-model': 'pro',
};

function setup(maxFileBytes?: number, now: () => number = Date.now) {
  const backend = new Backend();
  const store = new MemoryHeldObjectStore({ maxEntries: 100, maxBytes: 1_000_000 }, undefined, now);
  const outcomes: string[] = [];
  const countFailures: string[] = [];
  const files = new GeminiFiles({
    config: () => CONFIG,
    upstream: backend,
    store,
    ttlMs: 60_000,
    maxFileBytes,
    onUpload: (outcome) => outcomes.push(outcome),
    onCountFailed: (reason) => countFailures.push(reason),
    countWaitMs: 50,
    now,
  });
  /** alice's file, uploaded in two steps. */
  const upload = async (user = 'alice') => {
    const started = await files.upload(
      request({
        headers: { ...START, 'x-user-id': user },
        body: '{"file":{"displayName":"n","name":"files/mine"}}',
      }),
      CALLERS,
    );
    const token = new URL(started.headers!['x-goog-upload-url']).searchParams.get('upload_id')!;
    const step = (command: string, offset: string, body: string) =>
      files.upload(
        request({
          headers: { 'x-goog-upload-command': command, 'x-goog-upload-offset': offset },
          query: { upload_id: token },
          body,
        }),
        CALLERS,
      );
    const active = await step('upload', '0', 'hello ');
    const final = await step('upload, finalize', '6', 'world');
    return { started, token, active, final, step };
  };
  return { backend, store, files, outcomes, countFailures, upload };
}

const isCode = (code: DataPlaneErrorCode) => (error: unknown) =>
  error instanceof DataPlaneError && error.code === code;

describe('GeminiFiles', () => {
  it("streams an upload to the model's first Gemini backend and answers the gateway's own names", async () => {
    const { backend, store, outcomes, upload } = setup();
    const { started, token, active, final, step } = await upload();
    assert.equal(started.headers!['x-goog-upload-status'], 'active');
    assert.match(
      started.headers!['x-goog-upload-url'],
      /^http:\/\/gateway\.test\/upload\/v1beta\/files\?upload_id=/,
    );
    assert.ok(!started.headers!['x-goog-upload-url'].includes('backend-secret'));
    assert.deepEqual(active.headers, { 'x-goog-upload-status': 'active' });
    assert.deepEqual(
      backend.steps.map(({ command, offset, bytes }) => [command, offset, bytes]),
      [
        ['upload', '0', 'hello '],
        ['upload, finalize', '6', 'world'],
      ],
    );
    assert.ok(backend.targets.every((t) => t.backendName === 'g1' && t.routeName === 'gem'));
    const file = final.body!.file as Record<string, unknown>;
    assert.match(String(file.name), /^files\/aigw-[0-9a-f]{32}$/);
    assert.equal(file.uri, `http://gateway.test/v1beta/${String(file.name)}`);
    assert.equal(file.downloadUri, undefined);
    assert.ok(!JSON.stringify(file).includes('backendfile1'));
    // The upload's token is kept only as a digest, and is spent once finalized.
    assert.equal(await store.get(token), undefined);
    assert.equal(await store.get(uploadRecordId(token)), undefined);
    await assert.rejects(step('upload, finalize', '11', ''), isCode(DataPlaneErrorCode.NotFound));
    assert.deepEqual(outcomes, ['ok', 'not_found']);
  });

  it("takes a step on its token alone, but refuses one carrying another caller's credential", async () => {
    const { files } = setup();
    const started = await files.upload(
      request({ headers: { ...START, 'x-user-id': 'alice' } }),
      CALLERS,
    );
    const token = new URL(started.headers!['x-goog-upload-url']).searchParams.get('upload_id')!;
    const step = (headers: Record<string, string>) =>
      files.upload(
        request({
          headers: { 'x-goog-upload-command': 'upload', 'x-goog-upload-offset': '0', ...headers },
          query: { upload_id: token },
          body: 'x',
        }),
        CALLERS,
      );
    await assert.rejects(
      step({ 'x-goog-api-key': 'k', 'x-user-id': 'bob' }),
      isCode(DataPlaneErrorCode.NotFound),
    );
    assert.equal((await step({})).headers!['x-goog-upload-status'], 'active');
    assert.equal(
      (await step({ 'x-goog-api-key': 'k', 'x-user-id': 'alice' })).headers![
        'x-goog-upload-status'
      ],
      'active',
    );
  });

  it("reads, lists and deletes a file for its owner only; another's is the unknown file's 404", async () => {
    const { backend, files, upload } = setup();
    const { final } = await upload();
    const name = String((final.body!.file as Record<string, unknown>).name);
    const id = name.slice('files/'.length);
    const as = (user: string, extra: Partial<Parameters<typeof request>[0]> = {}) =>
      request({
        headers: { 'x-user-id': user },
        params: { id },
        url: `/v1beta/files/${id}`,
        ...extra,
      });
    const got = await files.get(as('alice'), CALLERS);
    assert.equal(got.body!.name, name);
    await assert.rejects(files.get(as('bob'), CALLERS), isCode(DataPlaneErrorCode.NotFound));
    const unknown = request({
      headers: { 'x-user-id': 'alice' },
      params: { id: 'aigw-' + '0'.repeat(32) },
    });
    await assert.rejects(files.get(unknown, CALLERS), isCode(DataPlaneErrorCode.NotFound));
    const listed = await files.list(as('alice'), CALLERS);
    assert.deepEqual(
      (listed.body!.files as Record<string, unknown>[]).map((f) => f.name),
      [name],
    );
    assert.deepEqual((await files.list(as('bob'), CALLERS)).body, {});
    await assert.rejects(files.delete(as('bob'), CALLERS), isCode(DataPlaneErrorCode.NotFound));
    assert.deepEqual(backend.deleted, []);
    await files.delete(as('alice'), CALLERS);
    assert.deepEqual(backend.deleted, ['backendfile1']);
    await assert.rejects(files.get(as('alice'), CALLERS), isCode(DataPlaneErrorCode.NotFound));
  });

  it('lists a file only where its route identifies the caller, counting no refusal where it does not', async () => {
    const { files, upload } = setup();
    await upload('alice');
    // As the pipeline identifies callers: alice is alice on both routes, but `pro`'s route
    // has tiers and no default, so without x-user-plan she has none there.
    const identities = parsedConfig(`kind: AIGatewayRoute
metadata: {name: open}
spec:
  backends: [{name: o, provider: local, model: open-mini}]
  userIdentification: {header: x-user-id}
---
kind: AIGatewayRoute
metadata: {name: gem}
spec:
  backends: [{name: g, provider: local, model: pro}]
  userIdentification: {header: x-user-id}
  userTiers:
  - {name: paid, selector: {header: x-user-plan, value: paid}, tokenBudget: {daily: 1000}}
`);
    const refused: number[] = [];
    const callers = new IngressPipeline(() => identities, NO_ROUTER, {
      onRefusal: (error) => refused.push(error.httpStatus),
    });
    const names = async (headers: Record<string, string>) =>
      ((await files.list(request({ headers }), callers)).body?.files as { name: string }[]) ?? [];

    assert.deepEqual(await names({ 'x-user-id': 'alice' }), []);
    assert.deepEqual(refused, [], 'the list was answered: no identity refusal');
    assert.equal((await names({ 'x-user-id': 'alice', 'x-user-plan': 'paid' })).length, 1);
  });

  it('answers a 503 to retry, not a 500, while its store cannot be read', async () => {
    const store = new MemoryHeldObjectStore({ maxEntries: 10, maxBytes: 100_000 });
    const away = async (): Promise<never> => {
      throw new Error('Command timed out');
    };
    store.get = away;
    store.list = away;
    const files = new GeminiFiles({
      config: () => CONFIG,
      upstream: new Backend(),
      store,
      ttlMs: 1,
    });
    const unavailable = (error: unknown) =>
      error instanceof DataPlaneError &&
      error.httpStatus === 503 &&
      error.toOpenAiBody().error.code === 'file_store_unavailable';
    const id = 'aigw-' + '0'.repeat(32);
    const alice = { 'x-user-id': 'alice' };
    await assert.rejects(
      files.get(request({ headers: alice, params: { id } }), CALLERS),
      unavailable,
    );
    await assert.rejects(files.list(request({ headers: alice }), CALLERS), unavailable);
    const step = request({
      headers: { 'x-goog-upload-command': 'upload' },
      query: { upload_id: 't' },
    });
    await assert.rejects(files.upload(step, CALLERS), unavailable);
  });

  it('deletes a file it cannot remember (its store away) at its backend, and answers a 503', async () => {
    const { backend, store, outcomes, upload } = setup();
    const put = store.put.bind(store);
    store.put = async (record, ttlMs) => {
      if (record.kind === 'gemini_file') throw new Error('Command timed out');
      return put(record, ttlMs);
    };
    await assert.rejects(
      upload(),
      (error: unknown) =>
        error instanceof DataPlaneError &&
        error.httpStatus === 503 &&
        error.toOpenAiBody().error.code === 'file_store_unavailable',
    );
    assert.deepEqual(backend.deleted, ['backendfile1'], 'no file left that no one can reach');
    assert.deepEqual(outcomes, ['store_unavailable']);
  });

  it('logs one warning per call its store could not answer, naming the call and the error', async () => {
    const lines: Record<string, unknown>[] = [];
    const logger = new Logger({ write: (line) => lines.push(JSON.parse(line)) });
    const store = new MemoryHeldObjectStore({ maxEntries: 10, maxBytes: 100_000 });
    store.get = async () => {
      throw Object.assign(new Error('connect ECONNREFUSED redis://:redispw1secret@redis:6379'), {
        code: 'ECONNREFUSED',
      });
    };
    const files = new GeminiFiles({
      config: () => CONFIG,
      upstream: new Backend(),
      store,
      ttlMs: 1,
      onStoreAway: (away) => logStoreAway(logger, away),
    });
    const app = Fastify();
    registerGeminiFileRoutes(app, CALLERS, files);
    try {
      const answer = await app.inject({
        method: 'GET',
        url: `/v1beta/files/aigw-${'0'.repeat(32)}`,
        headers: { 'x-user-id': 'alice', 'x-goog-api-key': 'AIza-caller-key-secret' },
      });
      assert.equal(answer.statusCode, 503);
      assert.equal(lines.length, 1, JSON.stringify(lines));
      assert.equal(lines[0].level, 'warn');
      assert.equal(lines[0].kind, 'gemini_file');
      assert.equal(lines[0].action, 'get');
      assert.equal(lines[0].requestId, answer.headers['x-request-id']);
      assert.equal(lines[0].code, 'ECONNREFUSED');
      assert.ok(!JSON.stringify(lines).includes('redispw1secret'));
      assert.ok(!JSON.stringify(lines).includes('caller-key-secret'));
    } finally {
      await app.close();
    }
  });

  it('logs a file it could not remember nor delete at its backend by its backend name, never its upload URL', async () => {
    const lines: Record<string, unknown>[] = [];
    const logger = new Logger({ write: (line) => lines.push(JSON.parse(line)) });
    const backend = new Backend();
    backend.file = async () => {
      throw Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
    };
    const store = new MemoryHeldObjectStore({ maxEntries: 100, maxBytes: 1_000_000 });
    const put = store.put.bind(store);
    store.put = async (record, ttlMs) => {
      if (record.kind === 'gemini_file') throw new Error('Command timed out');
      return put(record, ttlMs);
    };
    const files = new GeminiFiles({
      config: () => CONFIG,
      upstream: backend,
      store,
      ttlMs: 60_000,
      onError: (what, error) => logger.warn(`files and batches: ${what} failed`, { error }),
    });
    const started = await files.upload(
      request({ headers: { ...START, 'x-user-id': 'alice' }, body: '{"file":{}}' }),
      CALLERS,
    );
    const token = new URL(started.headers!['x-goog-upload-url']).searchParams.get('upload_id')!;
    await assert.rejects(
      files.upload(
        request({
          headers: { 'x-goog-upload-command': 'upload, finalize', 'x-goog-upload-offset': '0' },
          query: { upload_id: token },
          body: 'hello world',
        }),
        CALLERS,
      ),
      (error: unknown) => error instanceof DataPlaneError && error.httpStatus === 503,
    );
    assert.equal(lines.length, 1, JSON.stringify(lines));
    assert.equal(lines[0].level, 'warn');
    assert.match(String(lines[0].msg), /files\/backendfile1 at backend g1/);
    assert.ok(!JSON.stringify(lines).includes('backend-secret'), 'no upload URL');
    assert.ok(!JSON.stringify(lines).includes(token), "no client's upload token");
  });

  it('forgets a file when its backend deletes it (Google keeps files 48 h), not a whole TTL later', async () => {
    let clock = Date.parse('2026-12-01T00:00:00Z');
    const { backend, files, upload } = setup(undefined, () => clock);
    // The gateway would remember it a minute (setup's TTL); the backend keeps it 10 s.
    backend.expirationTime = new Date(clock + 10_000).toISOString();
    const { final } = await upload();
    const name = String((final.body!.file as Record<string, unknown>).name);
    const alice = request({ headers: { 'x-user-id': 'alice' } });
    const listed = async () =>
      (
        (await files.list(alice, CALLERS)).body!.files as Record<string, unknown>[] | undefined
      )?.map((file) => file.name) ?? [];
    assert.deepEqual(await listed(), [name]);
    clock += 10_001;
    assert.deepEqual(await listed(), [], 'gone at the backend: neither listed nor usable');
    const id = geminiFileIdIn(name)!;
    const reading = request({ headers: { 'x-user-id': 'alice' }, params: { id } });
    await assert.rejects(files.get(reading, CALLERS), isCode(DataPlaneErrorCode.NotFound));
  });

  it('refuses a start naming no model, a model not first served by Gemini, a forbidden model, or too large a file', async () => {
    const { files, outcomes } = setup(10);
    const start = (headers: Record<string, string>) =>
      files.upload(request({ headers: { ...START, 'x-user-id': 'alice', ...headers } }), CALLERS);
    const { 'x-ai-gateway-model': _model, ...noModel } = START;
    await assert.rejects(
      files.upload(request({ headers: { ...noModel, 'x-user-id': 'alice' } }), CALLERS),
      (error: unknown) =>
        error instanceof DataPlaneError && /x-ai-gateway-model/.test(error.message),
    );
    const small = { 'x-goog-upload-header-content-length': '1' };
    await assert.rejects(
      start({ ...small, 'x-ai-gateway-model': 'mixed' }),
      isCode(DataPlaneErrorCode.InvalidRequest),
    );
    await assert.rejects(
      start({ ...small, 'x-ai-gateway-model': 'forbidden' }),
      isCode(DataPlaneErrorCode.ModelNotAllowed),
    );
    await assert.rejects(start({}), isCode(DataPlaneErrorCode.BodyTooLarge));
    await assert.rejects(
      start({ 'x-goog-upload-protocol': 'multipart' }),
      isCode(DataPlaneErrorCode.InvalidRequest),
    );
    assert.deepEqual(outcomes, ['invalid', 'invalid', 'refused', 'too_large', 'invalid']);
  });

  it("makes a generateContent's file the holder's URI, kept to that backend; another model or caller is refused", async () => {
    const { files, upload } = setup();
    const { final } = await upload();
    const id = geminiFileIdIn(String((final.body!.file as Record<string, unknown>).uri))!;
    const call = (model: string, user = 'alice') =>
      withHeldGeminiFiles(
        {
          requestedModel: model,
          body: {
            model,
            messages: [
              { role: 'user', content: [gatewayFilePart(id, ''), { type: 'text', text: 'hi' }] },
            ],
          },
        } as unknown as GatewayRequest,
        { 'x-user-id': user },
        files,
        CALLERS,
      );
    const resolved = await call('pro');
    assert.deepEqual(resolved.overrides, { fallback: false });
    const messages = resolved.body.messages as { content: unknown[] }[];
    assert.deepEqual(messages[0].content[0], {
      type: 'file',
      file: {
        file_id: 'http://127.0.0.1:9/v1beta/files/backendfile1',
        mime_type: 'text/plain',
        held_by: { route: 'gem', backend: 'g1' },
      },
    });
    await assert.rejects(call('pro', 'bob'), isCode(DataPlaneErrorCode.NotFound));
    // `other` is served by g3 alone: the file's backend does not serve it.
    await assert.rejects(call('other'), isCode(DataPlaneErrorCode.InvalidRequest));
  });

  it("holds a call naming a file at the holder's countTokens of it, each time named, counted once", async () => {
    const { backend, files, upload } = setup();
    backend.countAnswer = 90_000; // a five-minute video at Gemini 2.5's rate
    const { final } = await upload();
    const id = geminiFileIdIn(String((final.body!.file as Record<string, unknown>).uri))!;
    const call = (copies: number) =>
      withHeldGeminiFiles(
        {
          requestedModel: 'pro',
          heldFileTokens: 5,
          body: {
            model: 'pro',
            messages: [
              {
                role: 'user',
                content: [
                  ...Array.from({ length: copies }, () => gatewayFilePart(id, 'video/mp4')),
                  { type: 'text', text: 'What happens?' },
                ],
              },
            ],
          },
        } as unknown as GatewayRequest,
        { 'x-user-id': 'alice' },
        files,
        CALLERS,
      );
    assert.equal((await call(1)).heldFileTokens, 5 + 90_000);
    assert.equal((await call(2)).heldFileTokens, 5 + 2 * 90_000);
    // Asked once, of the holder's own model, for its own file; then kept with the file.
    assert.deepEqual(backend.counts, [
      { model: 'gemini-2.5-flash', id: 'backendfile1', mimeType: 'text/plain' },
    ]);
  });

  it('holds a video by its length when the count fails or is late, counts why, and keeps a late count', async () => {
    const { backend, files, countFailures, upload } = setup();
    backend.fileFields = { mimeType: 'video/mp4', videoMetadata: { videoDuration: '600.5s' } };
    const { final } = await upload();
    const id = geminiFileIdIn(String((final.body!.file as Record<string, unknown>).uri))!;
    const call = () =>
      withHeldGeminiFiles(
        {
          requestedModel: 'pro',
          body: {
            model: 'pro',
            messages: [{ role: 'user', content: [gatewayFilePart(id, '')] }],
          },
        } as unknown as GatewayRequest,
        { 'x-user-id': 'alice' },
        files,
        CALLERS,
      );
    backend.countAnswer = 'fail';
    assert.equal((await call()).heldFileTokens, Math.ceil(600.5 * 312));
    backend.countAnswer = { late: 1_234 };
    assert.equal((await call()).heldFileTokens, Math.ceil(600.5 * 312));
    assert.deepEqual(countFailures, ['error', 'timeout']);
    // The late answer is kept with the file: the next call is held at it, asking nothing.
    await new Promise((resolve) => setTimeout(resolve, 400));
    assert.equal((await call()).heldFileTokens, 1_234);
    assert.equal(backend.counts.length, 2);
  });

  it('counts the files a call names together: the call waits once, not once a file', async () => {
    const { backend, files, store, countFailures, upload } = setup();
    const { final } = await upload();
    const id = geminiFileIdIn(String((final.body!.file as Record<string, unknown>).uri))!;
    const record = (await store.get(id))!;
    const others = ['aigw-' + 'e'.repeat(32), 'aigw-' + 'f'.repeat(32)];
    for (const other of others) await store.put({ ...record, id: other }, 60_000);
    // The backend answers no count until all three are asked: files counted one after
    // another would each wait out the call's 50 ms and be held by the fallback instead.
    let asked = 0;
    let allAsked!: () => void;
    const all = new Promise<void>((resolve) => (allAsked = resolve));
    const count = backend.countTokens.bind(backend);
    backend.countTokens = async (target, model, file) => {
      if (++asked === 3) allAsked();
      await all;
      return count(target, model, file);
    };
    const held = await withHeldGeminiFiles(
      {
        requestedModel: 'pro',
        body: {
          model: 'pro',
          messages: [{ role: 'user', content: [id, ...others].map((i) => gatewayFilePart(i, '')) }],
        },
      } as unknown as GatewayRequest,
      { 'x-user-id': 'alice' },
      files,
      CALLERS,
    );
    assert.equal(held.heldFileTokens, 3 * 1_000);
    assert.deepEqual(countFailures, []);
  });

  it('keeps a late count with the file as it is by then: never bringing back a deleted file or an older state', async () => {
    const { backend, files, store, upload } = setup();
    const { final } = await upload();
    const id = geminiFileIdIn(String((final.body!.file as Record<string, unknown>).uri))!;
    const record = (await store.get(id))!;
    const gone = 'aigw-' + 'e'.repeat(32);
    await store.put({ ...record, id: gone }, 60_000);
    const call = (i: string) =>
      withHeldGeminiFiles(
        {
          requestedModel: 'pro',
          body: { model: 'pro', messages: [{ role: 'user', content: [gatewayFilePart(i, '')] }] },
        } as unknown as GatewayRequest,
        { 'x-user-id': 'alice' },
        files,
        CALLERS,
      );
    backend.countAnswer = { late: 1_234 };
    await call(id);
    await call(gone);
    // While the counts are asked, one file's state moves on (a GET saw it) and the other
    // is deleted.
    const newer = { ...record.object, state: 'ACTIVE', videoMetadata: { videoDuration: '9s' } };
    await store.put({ ...record, object: newer }, 60_000);
    await store.delete((await store.get(gone))!);
    await new Promise((resolve) => setTimeout(resolve, 400));
    assert.deepEqual(await store.get(id), {
      ...record,
      object: newer,
      geminiTokens: { model: 'gemini-2.5-flash', tokens: 1_234 },
    });
    assert.equal(await store.get(gone), undefined);
  });

  it('serves the simple multipart upload, its media part streamed to the backend as it arrives', async () => {
    const { backend, files, outcomes } = setup();
    let mediaSeen!: () => void;
    const seen = new Promise<void>((resolve) => (mediaSeen = resolve));
    const original = backend.step.bind(backend);
    backend.step = async (target, url, step) => {
      const data = (async function* () {
        for await (const chunk of step.data) {
          mediaSeen();
          yield chunk;
        }
      })();
      return original(target, url, { ...step, data });
    };
    const boundary = 'b0undary';
    // The body's end is sent only once the backend has had the media's first bytes.
    const body = (async function* () {
      yield Buffer.from(
        `--${boundary}\r\nContent-Type: application/json; charset=UTF-8\r\n\r\n` +
          `{"file":{"displayName":"notes","name":"files/chosen"}}\r\n` +
          `--${boundary}\r\nContent-Type: text/plain\r\n\r\nhello `,
      );
      await seen;
      yield Buffer.from(`world\r\n--${boundary}--\r\n`);
    })();
    const answer = await files.upload(
      {
        ...request({
          headers: {
            'content-type': `multipart/related; boundary=${boundary}`,
            'x-ai-gateway-model': 'pro',
            'x-user-id': 'alice',
          },
          query: { uploadType: 'multipart' },
        }),
        raw: Readable.from(body),
      } as unknown as FastifyRequest,
      CALLERS,
    );
    assert.deepEqual(
      backend.steps.map(({ command, offset, bytes }) => [command, offset, bytes]),
      [['upload, finalize', '0', 'hello world']],
    );
    assert.ok(backend.targets.every((t) => t.backendName === 'g1'));
    const file = answer.body!.file as Record<string, unknown>;
    assert.match(String(file.name), /^files\/aigw-[0-9a-f]{32}$/);
    assert.equal(file.uri, `http://gateway.test/v1beta/${String(file.name)}`);
    const got = await files.get(
      request({ headers: { 'x-user-id': 'alice' }, params: { id: String(file.name).slice(6) } }),
      CALLERS,
    );
    assert.equal(got.body!.name, file.name);
    assert.deepEqual(outcomes, ['ok']);
  });

  it('refuses a multipart upload without a boundary, a media part, or within the size limit', async () => {
    const { backend, files, outcomes } = setup(8);
    const multipart = (contentType: string, body: string) =>
      files.upload(
        request({
          headers: { ...MULTIPART, 'content-type': contentType, 'x-user-id': 'alice' },
          body,
        }),
        CALLERS,
      );
    await assert.rejects(
      multipart('application/json', '{}'),
      isCode(DataPlaneErrorCode.InvalidRequest),
    );
    await assert.rejects(
      multipart(
        'multipart/related; boundary=x',
        '--x\r\nContent-Type: application/json\r\n\r\n{}\r\n--x--',
      ),
      isCode(DataPlaneErrorCode.InvalidRequest),
    );
    await assert.rejects(
      multipart(
        'multipart/related; boundary=x',
        '--x\r\nContent-Type: application/json\r\n\r\n{}\r\n--x\r\nContent-Type: text/plain\r\n\r\n0123456789\r\n--x--',
      ),
      isCode(DataPlaneErrorCode.BodyTooLarge),
    );
    assert.deepEqual(outcomes, ['invalid', 'invalid', 'too_large']);
    assert.deepEqual(backend.steps, []);
  });

  it('takes a multipart part with no headers (an empty header block, as RFC 2046 allows)', async () => {
    const { backend, files } = setup();
    const answer = await files.upload(
      request({
        headers: { ...MULTIPART, 'x-user-id': 'alice' },
        body: '--x\r\n\r\n{"file":{"displayName":"bare"}}\r\n--x\r\n\r\nbare bytes\r\n--x--\r\n',
      }),
      CALLERS,
    );
    assert.equal(answer.status, 200);
    assert.deepEqual(
      backend.steps.map(({ bytes }) => bytes),
      ['bare bytes'],
    );
  });

  it("refuses a multipart media part's content type that no HTTP header can carry, before any backend call", async () => {
    const { backend, files, outcomes } = setup();
    await assert.rejects(
      files.upload(
        request({
          headers: { ...MULTIPART, 'x-user-id': 'alice' },
          body: '--x\r\nContent-Type: application/json\r\n\r\n{}\r\n--x\r\nContent-Type: text/plain\nX-Goog-Upload-Offset: 9\r\n\r\nbytes\r\n--x--',
        }),
        CALLERS,
      ),
      isCode(DataPlaneErrorCode.InvalidRequest),
    );
    assert.deepEqual(backend.targets, []);
    assert.deepEqual(outcomes, ['invalid']);
  });

  it("refuses a resumable start's content type that the split deployment's wire would not carry, before any backend call", async () => {
    // A tab, a Latin-1 character, more than 255 characters: the wire refuses each, so the
    // all-in-one gateway answers the same 400 rather than passing them on.
    const { backend, files, outcomes } = setup();
    for (const type of [
      'text/plain;\tcharset=utf-8',
      'text/plain; name=caf\u00e9',
      `text/${'x'.repeat(251)}`,
    ]) {
      await assert.rejects(
        files.upload(
          request({
            headers: { ...START, 'x-user-id': 'alice', 'x-goog-upload-header-content-type': type },
          }),
          CALLERS,
        ),
        (error: unknown) =>
          error instanceof DataPlaneError &&
          error.code === DataPlaneErrorCode.InvalidRequest &&
          /X-Goog-Upload-Header-Content-Type/.test(error.message),
      );
    }
    assert.deepEqual(backend.targets, []);
    assert.deepEqual(outcomes, ['invalid', 'invalid', 'invalid']);
    // 255 characters of printable ASCII still go on.
    await files.upload(
      request({
        headers: {
          ...START,
          'x-user-id': 'alice',
          'x-goog-upload-header-content-type': `text/${'x'.repeat(250)}`,
        },
      }),
      CALLERS,
    );
    assert.equal(backend.targets.length, 1);
  });

  it(
    "reads a refused upload's body only so far: an endless one up to 1 MiB, a stalled one for 2 s",
    { timeout: 15_000 },
    async () => {
      const { backend, files } = setup(8);
      let pulled = 0;
      async function* endless(): AsyncGenerator<Buffer> {
        for (;;) {
          pulled += 64 * 1024;
          yield Buffer.alloc(64 * 1024, 'x');
        }
      }
      async function* stalled(): AsyncGenerator<Buffer> {
        yield Buffer.from('--x\r\n');
        await new Promise(() => undefined);
      }
      const refusing: GeminiFileCallers = {
        ...CALLERS,
        callerFor: () => {
          throw new DataPlaneError(DataPlaneErrorCode.Unauthenticated, 'no key');
        },
      };
      const upload = (
        headers: Record<string, string>,
        body: AsyncIterable<Buffer>,
        callers = CALLERS,
        query: Record<string, string> = {},
      ) => {
        const raw = Readable.from(body, { objectMode: false });
        const req = Object.assign(request({ headers, query }), { raw });
        return { raw, answer: files.upload(req, callers) };
      };
      // An unauthenticated multipart upload: its 401 once 1 MiB is read, the rest left unread.
      const unauthenticated = upload(MULTIPART, endless(), refusing);
      await assert.rejects(unauthenticated.answer, isCode(DataPlaneErrorCode.Unauthenticated));
      assert.ok(pulled <= 2 * 1024 * 1024, `read ${pulled} bytes`);
      assert.equal(unauthenticated.raw.destroyed, false);
      // A resumable start whose metadata body never ends: its 400 within 1 MiB more read.
      pulled = 0;
      const start = upload({ ...START, 'x-user-id': 'alice' }, endless());
      await assert.rejects(start.answer, isCode(DataPlaneErrorCode.InvalidRequest));
      assert.ok(pulled <= 2 * 1024 * 1024, `read ${pulled} bytes`);
      assert.equal(start.raw.destroyed, false);
      // A step past the limit (declared), and a stalled body: answered after 2 s.
      const token = 'stalled-token';
      await files['options'].store.put(
        {
          id: uploadRecordId(token),
          kind: 'gemini_upload',
          owner: 'alice',
          model: 'pro',
          upstreamModel: 'pro',
          route: 'gem',
          backend: 'g1',
          provider: 'google-gemini',
          providerId: 'http://127.0.0.1:9/upload',
          createdAt: 0,
          object: {},
        },
        60_000,
      );
      const began = Date.now();
      const step = upload(
        { 'x-goog-upload-command': 'upload', 'content-length': '100' },
        stalled(),
        CALLERS,
        { upload_id: token },
      );
      await assert.rejects(step.answer, isCode(DataPlaneErrorCode.BodyTooLarge));
      assert.ok(Date.now() - began < 5_000);
      assert.deepEqual(backend.targets, []);
    },
  );

  it('keeps a call naming two files to one holder, and refuses files of two backends', async () => {
    const { files, store, upload } = setup();
    const { final } = await upload();
    const id = geminiFileIdIn(String((final.body!.file as Record<string, unknown>).uri))!;
    // A second file of alice's, held by g2 (the model's second backend).
    const record = (await store.get(id))!;
    const other = 'aigw-' + 'f'.repeat(32);
    await store.put({ ...record, id: other, backend: 'g2' }, 60_000);
    const call = (ids: string[]) =>
      withHeldGeminiFiles(
        {
          requestedModel: 'pro',
          body: {
            model: 'pro',
            messages: [{ role: 'user', content: ids.map((i) => gatewayFilePart(i, '')) }],
          },
        } as unknown as GatewayRequest,
        { 'x-user-id': 'alice' },
        files,
        CALLERS,
      );
    // A file held by the model's second backend: the call is pinned there.
    const second = await call([other]);
    const part = (second.body.messages as { content: { file: Record<string, unknown> }[] }[])[0]
      .content[0];
    assert.deepEqual(part.file.held_by, { route: 'gem', backend: 'g2' });
    await assert.rejects(call([id, other]), isCode(DataPlaneErrorCode.InvalidRequest));
  });
});
