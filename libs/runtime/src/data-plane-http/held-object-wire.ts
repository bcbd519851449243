import type { ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { request as undiciRequest } from 'undici';
import {
  DataPlaneError,
  DataPlaneErrorCode,
  WIRE_JSON,
  WIRE_VERSION,
  WIRE_VERSION_HEADER,
  wireBodyBytes,
  type UpstreamTarget,
} from '@aigw/contracts/data-plane';
import { asDataPlaneError, writeWireError } from './answer-writer';
import { decodePeerError, type InternalToken } from './internal-auth';

/**
 * The Files and Batch APIs' calls across the split deployment: the ingress (which keeps
 * ids, owners and billing) asks the router, which relays to the provider-adapter, which
 * alone holds the backend's key and makes the call. An upload's bytes travel raw as they
 * come on their own route (as base64 to a peer from before it); a file's content comes
 * back raw on its own route.
 */
export const HELD_OBJECT_WIRE_PATH = '/wire/held-object';
/**
 * A GET whose 2xx answer streams back raw (a file's content, which may be gigabytes): the
 * backend's status and content-type in headers, its bytes as the HTTP body. An error
 * before the first byte is a wire error answer; after it, the connection is cut.
 */
export const HELD_OBJECT_OPEN_WIRE_PATH = '/wire/held-object/open';
/**
 * A POST whose body crosses the hops raw as it is made (a file upload, its lines checked
 * and rewritten by the ingress on the way): the call in a header, the form's bytes as the
 * HTTP body, the backend's 2xx answer back as a held-object wire reply. A body cut on the
 * way (a refused line) cuts each hop in turn, so the backend's upload is aborted too.
 */
export const HELD_OBJECT_UPLOAD_WIRE_PATH = '/wire/held-object/upload';
/** The upload's call (a HeldObjectWireCall without base64), as base64url JSON. */
const HELD_CALL_HEADER = 'x-aigw-held-call';
const HELD_UPLOAD_TYPE = 'application/x-aigw-held-upload';
/** Asks whether a peer has the upload route (one from before it answers an unknown URL). */
const HELD_PROBE_HEADER = 'x-aigw-held-probe';
const HELD_STATUS_HEADER = 'x-aigw-held-status';
const HELD_CONTENT_TYPE_HEADER = 'x-aigw-held-content-type';

type Method = 'GET' | 'POST' | 'DELETE';

/** One backend call as it crosses the hops: which backend, and the request. */
export interface HeldObjectWireCall {
  readonly backendName: string;
  readonly provider: string;
  readonly method: Method;
  /** A Files or Batch API path: `/files`, `/files/{id}/content`, `/batches/{id}/cancel`. */
  readonly path: string;
  readonly contentType?: string;
  readonly base64?: string;
}

/** The backend's 2xx answer as it crosses back. */
interface HeldObjectWireReply {
  readonly status: number;
  readonly contentType: string;
  readonly base64: string;
}

const METHODS: ReadonlySet<string> = new Set(['GET', 'POST', 'DELETE']);
/** Only the Files and Batch APIs' own paths, no dot segments: a peer reaches nothing else of a backend. */
const PATH = /^\/(files|batches)(\/[A-Za-z0-9_-]{1,256}){0,2}$/;

function malformed(what: string): DataPlaneError {
  return new DataPlaneError(
    DataPlaneErrorCode.InvalidRequest,
    `the held-object wire message has no valid ${what}`,
  );
}

/** Reads a call, refusing any other method or path. */
export function decodeHeldObjectCall(body: unknown): HeldObjectWireCall {
  const call = body as Partial<Record<keyof HeldObjectWireCall, unknown>> | null;
  if (typeof call !== 'object' || call === null) throw malformed('body');
  const { backendName, provider, method, path, contentType, base64 } = call;
  if (typeof backendName !== 'string' || backendName === '') throw malformed('backendName');
  if (typeof provider !== 'string' || provider === '') throw malformed('provider');
  if (typeof method !== 'string' || !METHODS.has(method)) throw malformed('method');
  if (typeof path !== 'string' || !PATH.test(path)) throw malformed('path');
  if (contentType !== undefined && typeof contentType !== 'string') throw malformed('contentType');
  if (base64 !== undefined && typeof base64 !== 'string') throw malformed('base64');
  return { backendName, provider, method: method as Method, path, contentType, base64 };
}

/** A call opened to stream (a file's content): only a GET, with no body. */
export function decodeHeldObjectOpen(body: unknown): HeldObjectWireCall {
  const call = decodeHeldObjectCall(body);
  if (call.method !== 'GET') throw malformed('method (only GET streams)');
  if (call.base64 !== undefined || call.contentType !== undefined) throw malformed('body');
  return call;
}

/** An upload's call from its header: only a POST to `/files`, its bytes the HTTP body. */
export function decodeHeldObjectUpload(header: unknown): HeldObjectWireCall {
  let parsed: unknown;
  try {
    if (typeof header !== 'string') throw new Error('no header');
    parsed = JSON.parse(Buffer.from(header, 'base64url').toString('utf8'));
  } catch {
    throw malformed('upload call header');
  }
  const call = decodeHeldObjectCall(parsed);
  if (call.method !== 'POST' || call.path !== '/files') throw malformed('upload path');
  if (call.base64 !== undefined || call.contentType === undefined) throw malformed('body');
  return call;
}

function uploadCallHeader(call: HeldObjectWireCall): string {
  return Buffer.from(JSON.stringify(call), 'utf8').toString('base64url');
}

interface HeldObjectBackendRef {
  readonly backendName: string;
  readonly provider: string;
  readonly baseUrl?: string;
  readonly credential?: UpstreamTarget['credential'];
  readonly requestTimeoutMs: number;
}

/** A 2xx answer whose body is read as it arrives; destroying the body ends the call. */
export interface HeldObjectStreamReply {
  readonly status: number;
  readonly contentType: string;
  readonly body: Readable;
}

/** What the ingress's FilesAndBatches and the adapter's HeldObjectUpstream share. */
interface HeldObjectSender {
  send(
    backend: HeldObjectBackendRef,
    method: Method,
    path: string,
    body?: { readonly contentType: string; readonly data: Buffer },
  ): Promise<{ readonly status: number; readonly contentType: string; readonly body: Buffer }>;
  open(backend: HeldObjectBackendRef, path: string): Promise<HeldObjectStreamReply>;
  upload?(
    backend: HeldObjectBackendRef,
    path: string,
    body: UploadBody,
  ): Promise<{ readonly status: number; readonly contentType: string; readonly body: Buffer }>;
}

type UploadBody = { readonly contentType: string; readonly data: AsyncIterable<Uint8Array> };

/** Headroom over the backend's own timeout, so the far side reports a timeout rather than us. */
const TIMEOUT_MARGIN_MS = 5_000;

/**
 * The ingress's (or router's) way to a peer's held-object route: only the backend's name
 * crosses, never a key; the peer's errors come back as the data-plane errors they were.
 */
export class HttpHeldObjectClient implements HeldObjectSender {
  constructor(
    private readonly url: URL,
    /** AI_GATEWAY_INTERNAL_TOKEN, sent on every call when set. */
    private readonly token?: InternalToken,
  ) {}

  async send(
    backend: Parameters<HeldObjectSender['send']>[0],
    method: Method,
    path: string,
    body?: { readonly contentType: string; readonly data: Buffer },
  ): Promise<{ status: number; contentType: string; body: Buffer }> {
    const call: HeldObjectWireCall = {
      backendName: backend.backendName,
      provider: backend.provider,
      method,
      path,
      ...(body ? { contentType: body.contentType, base64: body.data.toString('base64') } : {}),
    };
    const reply = await this.post(JSON.stringify(call), backend.requestTimeoutMs);
    return {
      status: reply.status,
      contentType: reply.contentType,
      body: Buffer.from(reply.base64, 'base64'),
    };
  }

  /**
   * A GET streamed across the hops (a file's content): the body as the peer sends it,
   * with backpressure; destroying it cuts the hop, which aborts the backend's read. The
   * timeout bounds the wait for the answer's start and then each wait for more bytes.
   */
  async open(backend: Parameters<HeldObjectSender['open']>[0], path: string) {
    const call: HeldObjectWireCall = {
      backendName: backend.backendName,
      provider: backend.provider,
      method: 'GET',
      path,
    };
    try {
      return await this.openCall(JSON.stringify(call), backend.requestTimeoutMs);
    } catch (error) {
      // A peer from before this route (a rolling upgrade): its buffered route still answers.
      if (!(error instanceof DataPlaneError) || error.code !== DataPlaneErrorCode.UnknownUrl) {
        throw error;
      }
      const answer = await this.send(backend, 'GET', path);
      return { ...answer, body: Readable.from([answer.body], { objectMode: false }) };
    }
  }

  /**
   * A POST streamed across the hops as its body is made (a file upload): each hop holds
   * a chunk at a time. A peer from before this route (a rolling upgrade) gets the body
   * gathered and sent whole, as base64, as before.
   */
  async upload(
    backend: Parameters<HeldObjectSender['send']>[0],
    path: string,
    body: UploadBody,
  ): Promise<{ status: number; contentType: string; body: Buffer }> {
    const call: HeldObjectWireCall = {
      backendName: backend.backendName,
      provider: backend.provider,
      method: 'POST',
      path,
      contentType: body.contentType,
    };
    const reply = await this.relayUpload(call, body.data, backend.requestTimeoutMs);
    return {
      status: reply.status,
      contentType: reply.contentType,
      body: Buffer.from(reply.base64, 'base64'),
    };
  }

  /** Relays an upload as it comes (the router's hop), or whole to a peer without the route. */
  async relayUpload(
    call: HeldObjectWireCall,
    data: AsyncIterable<Uint8Array>,
    timeoutMs: number,
  ): Promise<HeldObjectWireReply> {
    if (!(await this.takesUploads())) {
      const base64 = (await gathered(data)).toString('base64');
      return this.post(JSON.stringify({ ...call, base64 }), timeoutMs);
    }
    const controller = new AbortController();
    let timer: NodeJS.Timeout | undefined;
    // The wait for the answer, once the whole body is sent; the body's pace is its maker's.
    async function* sent(): AsyncGenerator<Uint8Array> {
      yield* data;
      timer = setTimeout(() => controller.abort(timedOut()), timeoutMs + TIMEOUT_MARGIN_MS);
    }
    let status: number;
    let parsed: unknown;
    try {
      const response = await undiciRequest(new URL(HELD_OBJECT_UPLOAD_WIRE_PATH, this.url), {
        method: 'POST',
        headers: {
          'content-type': HELD_UPLOAD_TYPE,
          [WIRE_VERSION_HEADER]: WIRE_VERSION,
          [HELD_CALL_HEADER]: uploadCallHeader(call),
          ...this.token?.headers(),
        },
        body: Readable.from(sent(), { objectMode: false }),
        signal: controller.signal,
        headersTimeout: 0,
        bodyTimeout: timeoutMs + TIMEOUT_MARGIN_MS,
      });
      status = response.statusCode;
      parsed = await response.body.json();
    } catch (error) {
      throw this.unreachable(error);
    } finally {
      clearTimeout(timer);
    }
    return this.wireReplyOf(status, parsed);
  }

  private uploadRoute?: { readonly takes: boolean; readonly until: number };

  /**
   * Whether the peer has the upload route, asked again a minute on either way: a peer
   * without it may have been upgraded meanwhile, and one with it rolled back.
   */
  private async takesUploads(): Promise<boolean> {
    const known = this.uploadRoute;
    if (known && Date.now() < known.until) return known.takes;
    let takes: boolean;
    try {
      const response = await fetch(new URL(HELD_OBJECT_UPLOAD_WIRE_PATH, this.url), {
        method: 'POST',
        headers: {
          'content-type': HELD_UPLOAD_TYPE,
          [WIRE_VERSION_HEADER]: WIRE_VERSION,
          [HELD_PROBE_HEADER]: '1',
          ...this.token?.headers(),
        },
        signal: AbortSignal.timeout(PROBE_TIMEOUT_MS),
      });
      takes = response.ok;
      const parsed: unknown = takes ? await response.arrayBuffer() : await response.json();
      if (!takes) {
        const error = decodePeerError(parsed, response.status, 'files and batches peer');
        if (error.code !== DataPlaneErrorCode.UnknownUrl) throw error;
      }
    } catch (error) {
      if (error instanceof DataPlaneError) throw error;
      throw this.unreachable(error);
    }
    this.uploadRoute = { takes, until: Date.now() + PROBE_AGAIN_MS };
    return takes;
  }

  /** Opens a call as it came (the router's hop relays it so). */
  async openCall(text: string, timeoutMs: number): Promise<HeldObjectStreamReply> {
    const controller = new AbortController();
    const waitMs = timeoutMs + TIMEOUT_MARGIN_MS;
    const timer = setTimeout(() => controller.abort(timedOut()), waitMs);
    let response: Response;
    let parsed: unknown;
    try {
      response = await this.postWire(HELD_OBJECT_OPEN_WIRE_PATH, text, controller.signal);
      if (!response.ok) parsed = await response.json();
    } catch (error) {
      throw this.unreachable(error);
    } finally {
      clearTimeout(timer);
    }
    if (!response.ok) throw decodePeerError(parsed, response.status, 'files and batches peer');
    const status = Number(response.headers.get(HELD_STATUS_HEADER));
    const contentType = response.headers.get(HELD_CONTENT_TYPE_HEADER);
    if (!Number.isInteger(status) || status < 200 || status > 299 || contentType === null) {
      controller.abort();
      throw new DataPlaneError(
        DataPlaneErrorCode.UpstreamBadResponse,
        'the files and batches peer answered with no valid reply',
      );
    }
    const body = hopBody(response.body, controller, waitMs, this.url.host);
    return { status, contentType, body };
  }

  /** Relays a call as it came (the router's hop). */
  async relay(text: string, timeoutMs: number): Promise<HeldObjectWireReply> {
    return this.post(text, timeoutMs);
  }

  /** One call's wire text POSTed to the peer's `path`, with the hop's version and token. */
  private postWire(path: string, text: string, signal: AbortSignal): Promise<Response> {
    return fetch(new URL(path, this.url), {
      method: 'POST',
      headers: {
        'content-type': WIRE_JSON,
        [WIRE_VERSION_HEADER]: WIRE_VERSION,
        ...this.token?.headers(),
      },
      body: text,
      signal,
    });
  }

  private async post(text: string, timeoutMs: number): Promise<HeldObjectWireReply> {
    let response: Response;
    let parsed: unknown;
    try {
      response = await this.postWire(
        HELD_OBJECT_WIRE_PATH,
        text,
        AbortSignal.timeout(timeoutMs + TIMEOUT_MARGIN_MS),
      );
      parsed = await response.json();
    } catch (error) {
      throw this.unreachable(error);
    }
    return this.wireReplyOf(response.status, parsed);
  }

  /** A peer's answer to a call: its wire reply, or the error it sent. */
  private wireReplyOf(status: number, parsed: unknown): HeldObjectWireReply {
    if (status < 200 || status > 299) {
      throw decodePeerError(parsed, status, 'files and batches peer');
    }
    const reply = parsed as Partial<HeldObjectWireReply> | null;
    if (
      typeof reply?.status !== 'number' ||
      typeof reply.contentType !== 'string' ||
      typeof reply.base64 !== 'string'
    ) {
      throw new DataPlaneError(
        DataPlaneErrorCode.UpstreamBadResponse,
        'the files and batches peer answered with no valid reply',
      );
    }
    return reply as HeldObjectWireReply;
  }

  private unreachable(error: unknown): DataPlaneError {
    return new DataPlaneError(
      DataPlaneErrorCode.UpstreamError,
      `the files and batches peer at ${this.url.host} is unreachable`,
      { cause: error },
    );
  }
}

function timedOut(): DOMException {
  return new DOMException('timed out', 'TimeoutError');
}

const PROBE_TIMEOUT_MS = 5_000;
const PROBE_AGAIN_MS = 60_000;

async function gathered(data: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const parts: Uint8Array[] = [];
  for await (const part of data) parts.push(part);
  return Buffer.concat(parts);
}

/**
 * What a hop takes of an upload for the edge's file limit (AI_GATEWAY_MAX_FILE_BYTES): the
 * form the ingress sends on is the client's with each line's model renamed, which may be
 * longer, so a third over it (what the JSON wire allows for an upload's base64) and 1 MiB
 * of framing. Not the wire body limit: an upload streams, and may be far larger.
 */
export function heldUploadBytes(maxFileBytes: number): number {
  return wireBodyBytes(maxFileBytes) + 1024 * 1024;
}

/**
 * An upload's body as a hop reads it: at most `max` bytes (heldUploadBytes; the edge held
 * the client to its own limit), else a 413.
 */
async function* limited(body: AsyncIterable<unknown>, max: number): AsyncGenerator<Uint8Array> {
  let received = 0;
  for await (const chunk of body) {
    const bytes = chunk as Uint8Array;
    received += bytes.length;
    if (received > max) {
      throw new DataPlaneError(DataPlaneErrorCode.BodyTooLarge, 'the wire message is too large');
    }
    yield bytes;
  }
}

/** The upload route's body is read by its handler as it arrives: no parser holds it. */
function acceptUploads(fastify: FastifyInstance): void {
  if (fastify.hasContentTypeParser(HELD_UPLOAD_TYPE)) return;
  fastify.addContentTypeParser(HELD_UPLOAD_TYPE, (_request, payload, done) => done(null, payload));
}

/** An empty POST asking whether the upload route exists: answered at once. */
const isProbe = (request: FastifyRequest) => request.headers[HELD_PROBE_HEADER] === '1';

function uploadBody(request: FastifyRequest, maxBytes: number): AsyncIterable<Uint8Array> {
  // No body (no parser ran): an empty upload, which the backend refuses itself.
  const body = (request.body as Readable | undefined) ?? Readable.from([]);
  return limited(body, maxBytes);
}

/** A backend's answer as the wire carries it back (its body as base64). */
function encodedReply(answer: {
  readonly status: number;
  readonly contentType: string;
  readonly body: Buffer;
}): HeldObjectWireReply {
  return {
    status: answer.status,
    contentType: answer.contentType,
    base64: answer.body.toString('base64'),
  };
}

/** A hop's upload limit: the one given (heldUploadBytes), else its wire body limit. */
const uploadLimit = (fastify: FastifyInstance, maxUploadBytes?: number): number =>
  maxUploadBytes ?? fastify.initialConfig.bodyLimit ?? Infinity;

/**
 * A hop's streamed body as a Readable: one read at a time, only when the reader wants more
 * (backpressure reaches the peer's socket); `idleMs` bounds each wait for the next bytes.
 * Destroyed (the caller gone), the hop is aborted; a hop cut mid-way fails the stream,
 * never ends it, so a truncated file never looks whole.
 */
function hopBody(
  stream: ReadableStream<Uint8Array> | null,
  controller: AbortController,
  idleMs: number,
  host: string,
): Readable {
  if (!stream) return Readable.from([], { objectMode: false });
  const reader = stream.getReader();
  let timer: NodeJS.Timeout | undefined;
  const pull = (): void => {
    timer = setTimeout(() => controller.abort(timedOut()), idleMs);
    reader.read().then(
      (next) => {
        clearTimeout(timer);
        if (body.destroyed) return;
        if (next.done) body.push(null);
        // An empty chunk would end this read without asking for the next: ask again.
        else if (next.value.length === 0) pull();
        else body.push(Buffer.from(next.value.buffer, next.value.byteOffset, next.value.length));
      },
      (error: unknown) => {
        clearTimeout(timer);
        body.destroy(
          new DataPlaneError(
            DataPlaneErrorCode.UpstreamError,
            `the files and batches peer at ${host} cut the file's stream`,
            { cause: error },
          ),
        );
      },
    );
  };
  const body = new Readable({
    read: pull,
    destroy(error, callback) {
      clearTimeout(timer);
      controller.abort();
      callback(error);
    },
  });
  return body;
}

/** Told of a stream that failed after its first bytes: only its cut connection tells the caller. */
export type HeldStreamCut = (error: unknown) => void;

/**
 * Sends a streamed answer on a hop: the headers once its first bytes (or its end) came,
 * so an error before them is still a wire error answer; after them, the connection is
 * cut. The body pauses while the socket's buffer is full; the caller gone, it is
 * destroyed (which aborts the read behind it). Resolves with how the stream ended.
 */
function sendHeldStream(
  answer: HeldObjectStreamReply,
  response: ServerResponse,
  onCut?: HeldStreamCut,
): Promise<'complete' | 'aborted' | 'failed'> {
  const { body } = answer;
  return new Promise((resolve) => {
    if (response.destroyed) {
      body.destroy();
      return resolve('aborted');
    }
    let started = false;
    const start = () => {
      if (started) return;
      started = true;
      response.writeHead(200, {
        'content-type': 'application/octet-stream',
        [HELD_STATUS_HEADER]: String(answer.status),
        [HELD_CONTENT_TYPE_HEADER]: answer.contentType,
      });
    };
    body.on('data', (chunk: Buffer) => {
      start();
      if (!response.write(chunk)) body.pause();
    });
    response.on('drain', () => body.resume());
    body.once('end', () => {
      start();
      response.end();
    });
    body.once('error', (error) => {
      if (started) {
        response.destroy();
        onCut?.(error);
      } else {
        writeWireError(response, asDataPlaneError(error));
      }
      resolve('failed');
    });
    response.once('close', () => {
      if (response.writableFinished) return resolve('complete');
      body.destroy();
      resolve('aborted');
    });
  });
}

/** The timeout a router allows a relayed call: the configured backend's, if it has it. */
export type RelayTimeout = (backendName: string) => number | undefined;

/**
 * The router's hop: checks the call and relays it to the provider-adapter. An upload takes
 * up to `maxUploadBytes` (heldUploadBytes of AI_GATEWAY_MAX_FILE_BYTES), else the wire
 * body limit.
 */
export function registerHeldObjectRelay(
  fastify: FastifyInstance,
  adapter: HttpHeldObjectClient,
  timeoutOf: RelayTimeout,
  onCut?: HeldStreamCut,
  maxUploadBytes?: number,
): void {
  const uploadMax = uploadLimit(fastify, maxUploadBytes);
  const timeoutFor = (call: HeldObjectWireCall): number => {
    const timeoutMs = timeoutOf(call.backendName);
    if (timeoutMs === undefined) {
      throw new DataPlaneError(
        DataPlaneErrorCode.NoBackendAvailable,
        `the router's configuration has no backend "${call.backendName}"`,
      );
    }
    return timeoutMs;
  };
  fastify.post(HELD_OBJECT_WIRE_PATH, async (request, reply) => {
    try {
      const call = decodeHeldObjectCall(request.body);
      const answer = await adapter.relay(JSON.stringify(call), timeoutFor(call));
      void reply.header('content-type', WIRE_JSON).send(JSON.stringify(answer));
    } catch (error) {
      reply.hijack();
      writeWireError(reply.raw, asDataPlaneError(error));
    }
  });
  // A file's content: the adapter's stream passed on as it comes, never held whole here.
  fastify.post(HELD_OBJECT_OPEN_WIRE_PATH, async (request, reply) => {
    reply.hijack();
    try {
      const call = decodeHeldObjectOpen(request.body);
      const answer = await adapter.openCall(JSON.stringify(call), timeoutFor(call));
      void sendHeldStream(answer, reply.raw, onCut);
    } catch (error) {
      writeWireError(reply.raw, asDataPlaneError(error));
    }
  });
  // An upload: its bytes passed on to the adapter as they come, never held whole here.
  acceptUploads(fastify);
  fastify.post(HELD_OBJECT_UPLOAD_WIRE_PATH, async (request, reply) => {
    if (isProbe(request)) return reply.code(204).send();
    try {
      const call = decodeHeldObjectUpload(request.headers[HELD_CALL_HEADER]);
      const answer = await adapter.relayUpload(
        call,
        uploadBody(request, uploadMax),
        timeoutFor(call),
      );
      return reply.header('content-type', WIRE_JSON).send(JSON.stringify(answer));
    } catch (error) {
      reply.hijack();
      writeWireError(reply.raw, asDataPlaneError(error));
    }
  });
}

/**
 * The provider-adapter's end: the backend's full target (with its key) from this
 * service's own configuration, and the call made. An upload takes up to `maxUploadBytes`
 * (heldUploadBytes of AI_GATEWAY_MAX_FILE_BYTES), else the wire body limit.
 */
export function registerHeldObjectServer(
  fastify: FastifyInstance,
  resolveTarget: (call: HeldObjectWireCall) => UpstreamTarget,
  upstream: HeldObjectSender,
  onCut?: HeldStreamCut,
  maxUploadBytes?: number,
): void {
  const uploadMax = uploadLimit(fastify, maxUploadBytes);
  fastify.post(HELD_OBJECT_WIRE_PATH, async (request, reply) => {
    try {
      const call = decodeHeldObjectCall(request.body);
      const target = resolveTarget(call);
      const answer = await upstream.send(
        target,
        call.method,
        call.path,
        call.base64 === undefined
          ? undefined
          : {
              contentType: call.contentType ?? 'application/octet-stream',
              data: Buffer.from(call.base64, 'base64'),
            },
      );
      void reply.header('content-type', WIRE_JSON).send(JSON.stringify(encodedReply(answer)));
    } catch (error) {
      reply.hijack();
      writeWireError(reply.raw, asDataPlaneError(error));
    }
  });
  // A file's content: the backend's body sent on raw as it arrives.
  fastify.post(HELD_OBJECT_OPEN_WIRE_PATH, async (request, reply) => {
    reply.hijack();
    try {
      const call = decodeHeldObjectOpen(request.body);
      const answer = await upstream.open(resolveTarget(call), call.path);
      void sendHeldStream(answer, reply.raw, onCut);
    } catch (error) {
      writeWireError(reply.raw, asDataPlaneError(error));
    }
  });
  // An upload: sent on to the backend as its bytes arrive (a cut body aborts that call).
  if (!upstream.upload) return;
  acceptUploads(fastify);
  fastify.post(HELD_OBJECT_UPLOAD_WIRE_PATH, async (request, reply) => {
    if (isProbe(request)) return reply.code(204).send();
    try {
      const call = decodeHeldObjectUpload(request.headers[HELD_CALL_HEADER]);
      const answer = await upstream.upload!(resolveTarget(call), call.path, {
        contentType: call.contentType!,
        data: uploadBody(request, uploadMax),
      });
      return reply.header('content-type', WIRE_JSON).send(JSON.stringify(encodedReply(answer)));
    } catch (error) {
      reply.hijack();
      writeWireError(reply.raw, asDataPlaneError(error));
    }
  });
}
