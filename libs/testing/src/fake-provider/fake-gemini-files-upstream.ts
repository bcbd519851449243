import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

// A Gemini backend speaking Google's Files API as documented (ai.google.dev/api/files):
// the resumable upload (start at /upload/v1beta/files answering X-Goog-Upload-URL, then
// upload / upload, finalize steps with X-Goog-Upload-Offset, each answered with
// X-Goog-Upload-Status), GET and DELETE of /v1beta/files/{id}, and generateContent, whose
// requests it records. Every call must carry its own key (x-goog-api-key).

export interface FakeGeminiCall {
  readonly method: string;
  readonly path: string;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: string;
}

interface Upload {
  readonly displayName?: string;
  readonly mimeType: string;
  received: Buffer[];
  size: number;
}

export class FakeGeminiFilesUpstream {
  readonly calls: FakeGeminiCall[] = [];
  /** Files held here, by id (after `files/`). */
  readonly files = new Map<string, Record<string, unknown> & { bytes: Buffer }>();
  /** When set, generateContent answers a 500 (a backend fault the router may fail over on). */
  failGenerate = false;
  /** When set, generateContent answers a 429 with Retry-After: 30 (the router cools it down). */
  rateLimitGenerate = false;
  /** What countTokens answers for a content of one file: its tokens, by file id (else 10). */
  readonly fileTokens = new Map<string, number>();
  /** When set, countTokens answers a 500. */
  failCount = false;
  private readonly uploads = new Map<string, Upload>();
  private server?: Server;
  private next = 0;
  baseUrl = '';
  origin = '';

  constructor(
    private readonly name: string,
    private readonly key: string,
  ) {}

  async start(): Promise<void> {
    this.server = createServer((request, response) => {
      void this.handle(request, response);
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    const { port } = this.server.address() as AddressInfo;
    this.origin = `http://127.0.0.1:${port}`;
    this.baseUrl = `${this.origin}/v1beta`;
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => this.server?.close(() => resolve()) ?? resolve());
  }

  /** generateContent requests' bodies, parsed. */
  generateBodies(): Record<string, unknown>[] {
    return this.calls
      .filter((call) => call.path.includes(':generateContent'))
      .map((call) => JSON.parse(call.body) as Record<string, unknown>);
  }

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const raw = Buffer.concat(chunks);
    const url = new URL(request.url ?? '/', this.origin);
    this.calls.push({
      method: request.method ?? '',
      path: url.pathname + url.search,
      headers: request.headers,
      body: raw.toString('utf8'),
    });
    if (request.headers['x-goog-api-key'] !== this.key) {
      return googleError(response, 403, 'PERMISSION_DENIED', 'API key not valid.');
    }
    const header = (name: string) => {
      const value = request.headers[name];
      return Array.isArray(value) ? value[0] : value;
    };
    if (request.method === 'POST' && url.pathname === '/upload/v1beta/files') {
      const uploadId = url.searchParams.get('upload_id');
      if (!uploadId) {
        if (
          header('x-goog-upload-protocol') !== 'resumable' ||
          header('x-goog-upload-command') !== 'start'
        ) {
          return googleError(response, 400, 'INVALID_ARGUMENT', 'Expected a resumable start');
        }
        const metadata =
          raw.length === 0
            ? {}
            : (JSON.parse(raw.toString('utf8')) as { file?: { displayName?: string } });
        const id = `${this.name}-upload-${++this.next}`;
        this.uploads.set(id, {
          displayName: metadata.file?.displayName,
          mimeType: header('x-goog-upload-header-content-type') ?? 'application/octet-stream',
          received: [],
          size: 0,
        });
        response.writeHead(200, {
          'x-goog-upload-status': 'active',
          'x-goog-upload-url': `${this.origin}/upload/v1beta/files?upload_id=${id}&upload_protocol=resumable`,
          'x-goog-upload-chunk-granularity': '8388608',
        });
        response.end();
        return;
      }
      const upload = this.uploads.get(uploadId);
      if (!upload) return googleError(response, 404, 'NOT_FOUND', 'No such upload');
      if (Number(header('x-goog-upload-offset')) !== upload.size) {
        return googleError(response, 400, 'INVALID_ARGUMENT', 'Offset mismatch');
      }
      upload.received.push(raw);
      upload.size += raw.length;
      const command = header('x-goog-upload-command') ?? '';
      if (!command.includes('finalize')) {
        response.writeHead(200, {
          'x-goog-upload-status': 'active',
          'x-goog-upload-size-received': String(upload.size),
        });
        response.end();
        return;
      }
      this.uploads.delete(uploadId);
      const bytes = Buffer.concat(upload.received);
      const id = `${this.name}file${++this.next}`;
      const now = new Date().toISOString();
      const file = {
        name: `files/${id}`,
        ...(upload.displayName === undefined ? {} : { displayName: upload.displayName }),
        mimeType: upload.mimeType,
        sizeBytes: String(bytes.length),
        createTime: now,
        updateTime: now,
        expirationTime: new Date(Date.now() + 48 * 3600 * 1000).toISOString(),
        sha256Hash: createHash('sha256').update(bytes).digest('base64'),
        uri: `${this.baseUrl}/files/${id}`,
        downloadUri: `${this.origin}/download/v1beta/files/${id}:download?alt=media`,
        state: 'ACTIVE',
        source: 'UPLOADED',
      };
      this.files.set(id, { ...file, bytes });
      return json(response, 200, { file }, { 'x-goog-upload-status': 'final' });
    }
    const fileMatch = /^\/v1beta\/files\/([a-z0-9-]+)$/.exec(url.pathname);
    if (fileMatch) {
      const held = this.files.get(fileMatch[1]);
      if (!held)
        return googleError(response, 404, 'NOT_FOUND', `File files/${fileMatch[1]} not found`);
      if (request.method === 'DELETE') {
        this.files.delete(fileMatch[1]);
        return json(response, 200, {});
      }
      const { bytes: _bytes, ...file } = held;
      return json(response, 200, file);
    }
    if (request.method === 'POST' && url.pathname.endsWith(':countTokens')) {
      if (this.failCount) return googleError(response, 500, 'INTERNAL', 'Internal error');
      const body = JSON.parse(raw.toString('utf8')) as {
        contents?: { parts?: { fileData?: { fileUri?: string } }[] }[];
      };
      let totalTokens = 0;
      for (const content of body.contents ?? []) {
        for (const part of content.parts ?? []) {
          const uri = part.fileData?.fileUri;
          const id = uri?.startsWith(`${this.baseUrl}/files/`)
            ? uri.slice(`${this.baseUrl}/files/`.length)
            : undefined;
          if (id === undefined || !this.files.has(id)) {
            return googleError(response, 400, 'INVALID_ARGUMENT', `No file ${uri ?? ''}`);
          }
          totalTokens += this.fileTokens.get(id) ?? 10;
        }
      }
      return json(response, 200, { totalTokens });
    }
    if (request.method === 'POST' && url.pathname.endsWith(':generateContent')) {
      if (this.failGenerate) return googleError(response, 500, 'INTERNAL', 'Internal error');
      if (this.rateLimitGenerate) {
        response.setHeader('retry-after', '30');
        return googleError(response, 429, 'RESOURCE_EXHAUSTED', 'Quota exceeded');
      }
      return json(response, 200, {
        candidates: [
          {
            content: { role: 'model', parts: [{ text: `read by ${this.name}` }] },
            finishReason: 'STOP',
            index: 0,
          },
        ],
        usageMetadata: { promptTokenCount: 12, candidatesTokenCount: 3, totalTokenCount: 15 },
        modelVersion: 'gemini-2.5-flash',
      });
    }
    googleError(response, 404, 'NOT_FOUND', `No route ${url.pathname}`);
  }
}

function json(
  response: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  response.writeHead(status, { 'content-type': 'application/json; charset=UTF-8', ...headers });
  response.end(JSON.stringify(body));
}

function googleError(response: ServerResponse, status: number, rpc: string, message: string): void {
  json(response, status, { error: { code: status, message, status: rpc } });
}
