import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** The model the fake's batch objects and answers name (the backend's model). */
export const FAKE_BATCH_MODEL = 'upstream-gpt';
/** What the fake answers each request of a batch with. */
export const FAKE_BATCH_LINE_USAGE = {
  prompt_tokens: 100,
  completion_tokens: 20,
  total_tokens: 120,
};

interface FakeFile {
  id: string;
  purpose: string;
  filename: string;
  content: string;
}
interface FakeBatch {
  id: string;
  input_file_id: string;
  endpoint: string;
  status: string;
  output_file_id: string | null;
  metadata: unknown;
  outputExpiresAfter?: unknown;
}

/**
 * A fake OpenAI Files and Batch API (platform.openai.com/docs/api-reference/files, /batch):
 * multipart uploads, file objects and content, batches that complete when first looked at
 * (one answer with usage per input line, in a batch_output file), cancel and delete.
 * `azure`: Azure OpenAI's dated paths instead (`/openai/files?api-version=...`), its
 * `baseUrl` then the resource endpoint.
 */
export class FakeBatchBackend {
  readonly files = new Map<string, FakeFile>();
  readonly batches = new Map<string, FakeBatch>();
  readonly calls: {
    method: string;
    path: string;
    query: string;
    authorization?: string;
    apiKey?: string;
  }[] = [];
  private readonly server: Server;
  private next = 1;
  baseUrl = '';
  /** Above 0: file contents go out in writes of this many bytes, a turn of the loop apart. */
  contentChunkBytes = 0;
  /** Content reads still to answer with a 500 (a backend's bad moment). */
  failContentReads = 0;
  /** Requests cut before their end (an upload the gateway aborted): none of them made a file. */
  abortedRequests = 0;
  /** Set: a chunked content waits for it after its first write (a reader gets bytes before the end). */
  contentGate: Promise<void> | undefined;

  constructor(private readonly azure = false) {
    this.server = createServer((request, response) => {
      // A request cut before its end (an upload the gateway aborted): counted, nothing kept.
      this.handle(request, response).catch(() => {
        this.abortedRequests++;
        response.destroy();
      });
    });
  }

  async start(): Promise<void> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    const origin = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    this.baseUrl = this.azure ? origin : `${origin}/v1`;
  }

  stop(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  private fileObject(file: FakeFile) {
    return {
      id: file.id,
      object: 'file',
      bytes: Buffer.byteLength(file.content),
      created_at: 1_700_000_000,
      filename: file.filename,
      purpose: file.purpose,
    };
  }

  private batchObject(batch: FakeBatch) {
    return {
      id: batch.id,
      object: 'batch',
      endpoint: batch.endpoint,
      model: FAKE_BATCH_MODEL,
      errors: null,
      input_file_id: batch.input_file_id,
      completion_window: '24h',
      status: batch.status,
      output_file_id: batch.output_file_id,
      error_file_id: null,
      created_at: 1_700_000_000,
      request_counts: { total: 2, completed: batch.status === 'completed' ? 2 : 0, failed: 0 },
      metadata: batch.metadata ?? null,
    };
  }

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks);
    const url = new URL(request.url ?? '/', 'http://x');
    const method = request.method ?? 'GET';
    const apiKey = request.headers['api-key'];
    this.calls.push({
      method,
      path: url.pathname,
      query: url.search,
      authorization: request.headers.authorization,
      apiKey: typeof apiKey === 'string' ? apiKey : undefined,
    });
    // Azure's paths answered as OpenAI's: the same objects either way.
    const path =
      this.azure && url.pathname.startsWith('/openai/')
        ? `/v1${url.pathname.slice('/openai'.length)}`
        : this.azure
          ? '/unknown'
          : url.pathname;
    const send = (status: number, value: unknown, type = 'application/json') => {
      response.writeHead(status, { 'content-type': type });
      response.end(typeof value === 'string' ? value : JSON.stringify(value));
    };
    const missing = () =>
      send(404, { error: { message: 'No such object', type: 'invalid_request_error' } });
    let match: RegExpExecArray | null;
    if (method === 'POST' && path === '/v1/files') {
      const form = await new Request('http://x', {
        method: 'POST',
        headers: { 'content-type': request.headers['content-type'] ?? '' },
        body,
      }).formData();
      const upload = form.get('file') as File;
      const file: FakeFile = {
        id: `file-up${this.next++}`,
        purpose: form.get('purpose') as string,
        filename: upload.name,
        content: await upload.text(),
      };
      this.files.set(file.id, file);
      return send(200, this.fileObject(file));
    }
    if ((match = /^\/v1\/files\/([^/]+)(\/content)?$/.exec(path))) {
      const file = this.files.get(match[1]);
      if (!file) return missing();
      if (match[2]) {
        if (this.failContentReads > 0) {
          this.failContentReads--;
          return send(500, { error: { message: 'try again', type: 'server_error' } });
        }
        if (this.contentChunkBytes > 0) return this.sendInChunks(response, file.content);
        return send(200, file.content, 'application/octet-stream');
      }
      if (method === 'DELETE') {
        this.files.delete(file.id);
        return send(200, { id: file.id, object: 'file', deleted: true });
      }
      return send(200, this.fileObject(file));
    }
    if (method === 'POST' && path === '/v1/batches') {
      const sent = JSON.parse(body.toString()) as Record<string, unknown>;
      if (!this.files.has(String(sent.input_file_id))) return missing();
      const batch: FakeBatch = {
        id: `batch_up${this.next++}`,
        input_file_id: String(sent.input_file_id),
        endpoint: String(sent.endpoint),
        status: 'validating',
        output_file_id: null,
        metadata: sent.metadata,
        outputExpiresAfter: sent.output_expires_after,
      };
      this.batches.set(batch.id, batch);
      return send(200, this.batchObject(batch));
    }
    if ((match = /^\/v1\/batches\/([^/]+)(\/cancel)?$/.exec(path))) {
      const batch = this.batches.get(match[1]);
      if (!batch) return missing();
      if (match[2]) {
        batch.status = 'cancelling';
      } else if (batch.status === 'validating') {
        this.complete(batch);
      }
      return send(200, this.batchObject(batch));
    }
    return missing();
  }

  /**
   * A chunked content read (`download`) whose backend holds after its first write: its
   * answer and first bytes, or a failure when none come within 5 s (no bytes before the
   * backend finished). The hold is let go either way; the rest is left on `reader`.
   */
  async firstBytesWhileHeld(download: () => Promise<Response>): Promise<{
    response: Response;
    reader: ReadableStreamDefaultReader<Uint8Array>;
    first: Awaited<ReturnType<ReadableStreamDefaultReader<Uint8Array>['read']>>;
  }> {
    let release!: () => void;
    this.contentGate = new Promise<void>((resolve) => (release = resolve));
    const firstBytes = (async () => {
      const response = await download();
      const reader = response.body!.getReader();
      return { response, reader, first: await reader.read() };
    })();
    try {
      return await Promise.race([
        firstBytes,
        new Promise<never>((_, reject) =>
          setTimeout(
            () => reject(new Error('no bytes before the backend finished')),
            5_000,
          ).unref(),
        ),
      ]);
    } finally {
      release();
      this.contentGate = undefined;
    }
  }

  /** A body in many writes, so a reader gets lines (and characters) cut across chunks. */
  private async sendInChunks(response: ServerResponse, content: string): Promise<void> {
    const bytes = Buffer.from(content);
    response.writeHead(200, { 'content-type': 'application/octet-stream' });
    for (let at = 0; at < bytes.length && !response.destroyed; at += this.contentChunkBytes) {
      response.write(bytes.subarray(at, at + this.contentChunkBytes));
      if (at === 0 && this.contentGate) await this.contentGate;
      await new Promise((resolve) => setImmediate(resolve));
    }
    response.end();
  }

  /** Runs the batch: one answer with usage per input line. */
  private complete(batch: FakeBatch): void {
    const input = this.files.get(batch.input_file_id)!;
    const lines = input.content
      .split('\n')
      .filter((line) => line.trim() !== '')
      .map((line) => {
        const request = JSON.parse(line) as { custom_id: string; body: { model: string } };
        return JSON.stringify({
          id: `batch_req_${request.custom_id}`,
          custom_id: request.custom_id,
          response: {
            status_code: 200,
            request_id: 'req',
            body: {
              id: 'chatcmpl-1',
              object: 'chat.completion',
              model: `${request.body.model}-2025-01-01`,
              choices: [
                { index: 0, message: { role: 'assistant', content: 'ok' }, finish_reason: 'stop' },
              ],
              usage: FAKE_BATCH_LINE_USAGE,
            },
          },
          error: null,
        });
      });
    const output: FakeFile = {
      id: `file-out${this.next++}`,
      purpose: 'batch_output',
      filename: 'batch_output.jsonl',
      content: lines.join('\n') + '\n',
    };
    this.files.set(output.id, output);
    batch.status = 'completed';
    batch.output_file_id = output.id;
  }
}
