import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  DataPlaneError,
  DataPlaneErrorCode,
  type BackendCallTarget,
} from '@aigw/contracts/data-plane';
import { GeminiFilesUpstream, geminiFileUrl, geminiUploadStartUrl } from './gemini-files-upstream';

const KEY = 'AIzaBackendSecret0123';

interface Seen {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
}

/** A server answering as `answer` says, recording what it was sent. */
interface Answer {
  status: number;
  headers?: Record<string, string>;
  body?: string;
}

async function serverOf(
  answer: (seen: Seen) => Answer,
): Promise<{ server: Server; origin: string; seen: Seen[] }> {
  const seen: Seen[] = [];
  const server = createServer((request, response) => {
    const parts: Buffer[] = [];
    request.on('data', (chunk: Buffer) => parts.push(chunk));
    request.on('end', () => {
      const one = {
        method: request.method ?? '',
        url: request.url ?? '',
        headers: request.headers,
        body: Buffer.concat(parts).toString(),
      };
      seen.push(one);
      const { status, headers = {}, body = '' } = answer(one);
      response.writeHead(status, headers);
      response.end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen };
}

const target = (origin: string): BackendCallTarget => ({
  backendName: 'gemini-a',
  routeName: 'r',
  provider: 'google-gemini',
  baseUrl: `${origin}/v1beta`,
  credential: { headerName: 'x-goog-api-key', headerPrefix: '', apiKey: { reveal: () => KEY } },
  requestTimeoutMs: 5_000,
});

describe('Gemini Files API URLs', () => {
  it("starts uploads under /upload before the API's path, and names files under it", () => {
    assert.equal(
      geminiUploadStartUrl({}),
      'https://generativelanguage.googleapis.com/upload/v1beta/files',
    );
    assert.equal(
      geminiUploadStartUrl({ baseUrl: 'http://fake:1/v1beta/' }),
      'http://fake:1/upload/v1beta/files',
    );
    assert.equal(
      geminiFileUrl({ baseUrl: 'http://fake:1/v1beta' }, 'abc/../x'),
      'http://fake:1/v1beta/files/abc%2F..%2Fx',
    );
  });
});

describe('GeminiFilesUpstream', () => {
  let backend: Awaited<ReturnType<typeof serverOf>>;
  let elsewhere: Awaited<ReturnType<typeof serverOf>>;
  let uploadOrigin = '';

  before(async () => {
    elsewhere = await serverOf(() => ({
      status: 200,
      headers: { 'x-goog-upload-status': 'final' },
    }));
    backend = await serverOf((seen): Answer => {
      if (
        seen.url === '/upload/v1beta/files' &&
        seen.headers['x-goog-upload-command'] === 'start'
      ) {
        const where = seen.body.includes('elsewhere') ? elsewhere.origin : uploadOrigin;
        return {
          status: 200,
          headers: { 'x-goog-upload-url': `${where}/upload/v1beta/files?upload_id=u1` },
        };
      }
      if (seen.url.startsWith('/upload/v1beta/files?upload_id=u1')) {
        return {
          status: 200,
          headers: { 'x-goog-upload-status': 'active', 'x-goog-upload-size-received': '5' },
        };
      }
      if (seen.url === '/v1beta/files/quota') {
        const message = `Quota exceeded for quota metric 'Files' of service 'generativelanguage.googleapis.com' for consumer 'project_number:696498078762', at ${seen.headers.host}.`;
        return {
          status: 429,
          body: JSON.stringify({ error: { code: 429, message, status: 'RESOURCE_EXHAUSTED' } }),
        };
      }
      if (seen.url === '/v1beta/files/gone') {
        return {
          status: 404,
          body: JSON.stringify({ error: { code: 404, message: 'gone', status: 'NOT_FOUND' } }),
        };
      }
      return {
        status: 500,
        body: JSON.stringify({ error: { code: 500, message: `leak ${KEY}`, status: 'INTERNAL' } }),
      };
    });
    uploadOrigin = backend.origin;
  });

  after(() => {
    backend.server.close();
    elsewhere.server.close();
  });

  it("starts an upload with the backend's key and the client's size and type, and streams a step", async () => {
    const upstream = new GeminiFilesUpstream();
    const { uploadUrl } = await upstream.start(target(backend.origin), {
      metadata: Buffer.from('{"file":{"displayName":"n"}}'),
      contentLength: '5',
      contentType: 'text/plain',
    });
    assert.equal(uploadUrl, `${backend.origin}/upload/v1beta/files?upload_id=u1`);
    const [start] = backend.seen;
    assert.equal(start.headers['x-goog-api-key'], KEY);
    assert.equal(start.headers['x-goog-upload-protocol'], 'resumable');
    assert.equal(start.headers['x-goog-upload-header-content-length'], '5');
    assert.equal(start.headers['x-goog-upload-header-content-type'], 'text/plain');
    assert.equal(start.body, '{"file":{"displayName":"n"}}');
    const reply = await upstream.step(target(backend.origin), uploadUrl, {
      command: 'upload',
      offset: '0',
      data: (async function* () {
        yield Buffer.from('hel');
        yield Buffer.from('lo');
      })(),
    });
    assert.deepEqual([reply.uploadStatus, reply.sizeReceived], ['active', '5']);
    const step = backend.seen.at(-1)!;
    assert.equal(step.body, 'hello');
    assert.equal(step.headers['x-goog-upload-offset'], '0');
    assert.equal(step.headers['x-goog-api-key'], KEY);
  });

  it('refuses an upload URL at another origin, never sending it the key', async () => {
    const upstream = new GeminiFilesUpstream();
    await assert.rejects(
      upstream.start(target(backend.origin), {
        metadata: Buffer.from('{"file":{"displayName":"elsewhere"}}'),
      }),
      (error: unknown) =>
        error instanceof DataPlaneError && error.code === DataPlaneErrorCode.UpstreamBadResponse,
    );
    await assert.rejects(
      upstream.step(target(backend.origin), `${elsewhere.origin}/upload?upload_id=u1`, {
        command: 'upload, finalize',
        offset: '0',
        data: (async function* () {})(),
      }),
      DataPlaneError,
    );
    assert.equal(elsewhere.seen.length, 0);
  });

  it("keeps a backend's 404 a 404, and scrubs its key from any other error", async () => {
    const upstream = new GeminiFilesUpstream();
    await assert.rejects(
      upstream.file(target(backend.origin), 'GET', 'gone'),
      (error: unknown) =>
        error instanceof DataPlaneError && error.code === DataPlaneErrorCode.NotFound,
    );
    await assert.rejects(
      upstream.file(target(backend.origin), 'DELETE', 'other'),
      (error: unknown) => error instanceof DataPlaneError && !error.message.includes(KEY),
    );
  });

  it("answers a backend's refusal without its project number or host", async () => {
    const upstream = new GeminiFilesUpstream();
    const host = new URL(backend.origin).host;
    await assert.rejects(
      upstream.file(target(backend.origin), 'GET', 'quota'),
      (error: unknown) => {
        assert.ok(error instanceof DataPlaneError);
        assert.match(error.message, /Quota exceeded for quota metric 'Files'/);
        assert.ok(!error.message.includes('696498078762'), error.message);
        assert.ok(!error.message.includes(host), error.message);
        return true;
      },
    );
  });
});
