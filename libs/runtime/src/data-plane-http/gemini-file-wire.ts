import { Readable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import {
  DataPlaneError,
  DataPlaneErrorCode,
  routeMissingAtPeer,
  WIRE_JSON,
  type BackendCallTarget,
  type UpstreamTarget,
} from '@aigw/contracts/data-plane';
import { answerWireError } from './answer-writer';
import { relayTimeoutFor, type RelayTimeout } from './held-object-call';
import { HeldObjectPeer, PEER, TIMEOUT_MARGIN_MS } from './held-object-peer';
import type { InternalToken } from './internal-auth';
import { acceptStreamedBody, limitedBody, postStreamed } from './streamed-wire-call';

// Google's Files API across the split deployment, as the held-object wire carries OpenAI's
// files: the ingress keeps names, owners and upload tokens; the router relays; the
// provider-adapter alone holds the Gemini backend's key and makes the call. Two routes:
// whole calls (an upload's start, a file's get or delete) as JSON, and an upload's step,
// its bytes the HTTP body as they are made (never held whole on any hop), its call in a
// header. Only the backend's name and the backend's upload URL cross, never a key.

const GEMINI_FILE_WIRE_PATH = '/wire/gemini-file';
const GEMINI_FILE_STEP_WIRE_PATH = '/wire/gemini-file/step';
const STEP_CALL_HEADER = 'x-aigw-gemini-step';
const STEP_TYPE = 'application/x-aigw-gemini-step';
const GEMINI_PROVIDER = 'google-gemini';
/** The start's metadata is `{file: {displayName}}` (512 characters at most) as JSON. */
const MAX_METADATA_BASE64 = 96 * 1024;

/** Which backend a call is for, as it crosses. */
interface WireBackend {
  readonly backendName: string;
  readonly routeName?: string;
  readonly provider: string;
}

type WholeCall = WireBackend &
  (
    | {
        readonly op: 'start';
        readonly metadata: string;
        readonly contentLength?: string;
        readonly contentType?: string;
      }
    | { readonly op: 'get' | 'delete'; readonly id: string }
    | {
        readonly op: 'count';
        readonly id: string;
        readonly model: string;
        readonly mimeType: string;
      }
  );

interface StepCall extends WireBackend {
  readonly uploadUrl: string;
  readonly command: string;
  readonly offset: string;
  readonly contentLength?: string;
}

/** A backend's answer as it crosses back (the Gemini upstream's reply, body as base64). */
interface WireReply {
  readonly status: number;
  readonly uploadUrl?: string;
  readonly uploadStatus?: string;
  readonly sizeReceived?: string;
  readonly base64: string;
}

/** A Gemini backend's answer (GeminiFilesUpstream's). */
interface GeminiFileWireAnswer {
  readonly status: number;
  readonly uploadStatus?: string;
  readonly sizeReceived?: string;
  readonly body: Buffer;
}

/** An upload's start: its metadata JSON, and the upload's announced length and type. */
interface GeminiFileStart {
  metadata: Buffer;
  contentLength?: string;
  contentType?: string;
}

/** An upload's step: its command and offset (Google's resumable protocol), and its bytes. */
interface GeminiFileStep {
  command: string;
  offset: string;
  contentLength?: string;
  data: AsyncIterable<Uint8Array>;
}

/** What the adapter calls a Gemini backend's Files API with (GeminiFilesUpstream). */
export interface GeminiFileBackendCalls {
  start(backend: BackendCallTarget, start: GeminiFileStart): Promise<{ uploadUrl: string }>;
  step(
    backend: BackendCallTarget,
    uploadUrl: string,
    step: GeminiFileStep,
  ): Promise<GeminiFileWireAnswer>;
  file(
    backend: BackendCallTarget,
    method: 'GET' | 'DELETE',
    id: string,
  ): Promise<GeminiFileWireAnswer>;
  countTokens(
    backend: BackendCallTarget,
    model: string,
    file: { readonly id: string; readonly mimeType: string },
  ): Promise<GeminiFileWireAnswer>;
}

/**
 * The ingress's (or router's) way to a peer's Gemini file routes: the same calls as a
 * Gemini backend's Files API, the backend named, never keyed.
 */
export class HttpGeminiFileClient implements GeminiFileBackendCalls {
  private readonly peer: HeldObjectPeer;

  constructor(url: URL, token?: InternalToken) {
    this.peer = new HeldObjectPeer(url, token);
  }

  async start(backend: BackendCallTarget, start: GeminiFileStart): Promise<{ uploadUrl: string }> {
    const reply = await this.whole(
      {
        ...wireBackend(backend),
        op: 'start',
        metadata: start.metadata.toString('base64'),
        ...(start.contentLength === undefined ? {} : { contentLength: start.contentLength }),
        ...(start.contentType === undefined ? {} : { contentType: start.contentType }),
      },
      backend.requestTimeoutMs,
    );
    if (reply.uploadUrl === undefined) throw this.peer.badReply();
    return { uploadUrl: reply.uploadUrl };
  }

  async file(
    backend: BackendCallTarget,
    method: 'GET' | 'DELETE',
    id: string,
  ): Promise<GeminiFileWireAnswer> {
    const op = method === 'GET' ? 'get' : 'delete';
    return answerOf(
      await this.whole({ ...wireBackend(backend), op, id }, backend.requestTimeoutMs),
    );
  }

  async countTokens(
    backend: BackendCallTarget,
    model: string,
    file: { readonly id: string; readonly mimeType: string },
  ): Promise<GeminiFileWireAnswer> {
    const call: WholeCall = { ...wireBackend(backend), op: 'count', model, ...file };
    return answerOf(await this.whole(call, backend.requestTimeoutMs));
  }

  async step(
    backend: BackendCallTarget,
    uploadUrl: string,
    step: GeminiFileStep,
  ): Promise<GeminiFileWireAnswer> {
    const call: StepCall = {
      ...wireBackend(backend),
      uploadUrl,
      command: step.command,
      offset: step.offset,
      ...(step.contentLength === undefined ? {} : { contentLength: step.contentLength }),
    };
    return answerOf(await this.relayStep(call, step.data, backend.requestTimeoutMs));
  }

  /** A whole call as it came (the router's hop relays it so). */
  async whole(call: WholeCall, timeoutMs: number): Promise<WireReply> {
    let status: number;
    let parsed: unknown;
    try {
      const response = await this.peer.postWire(
        GEMINI_FILE_WIRE_PATH,
        JSON.stringify(call),
        AbortSignal.timeout(timeoutMs + TIMEOUT_MARGIN_MS),
      );
      status = response.status;
      parsed = await response.json();
    } catch (error) {
      throw this.peer.unreachable(error);
    }
    return this.replyOf(status, parsed);
  }

  /** A step's bytes sent on as they come; the wait for the answer armed once all are sent. */
  async relayStep(
    call: StepCall,
    data: AsyncIterable<Uint8Array>,
    timeoutMs: number,
  ): Promise<WireReply> {
    const { status, parsed } = await postStreamed(
      this.peer,
      { path: GEMINI_FILE_STEP_WIRE_PATH, contentType: STEP_TYPE, header: STEP_CALL_HEADER, call },
      data,
      timeoutMs,
    );
    return this.replyOf(status, parsed);
  }

  private replyOf(status: number, parsed: unknown): WireReply {
    if (status < 200 || status > 299) {
      // No fallback route to try: a peer without this one runs an older release.
      throw routeMissingAtPeer(this.peer.refusal(parsed, status), PEER);
    }
    const reply = parsed as Partial<Record<keyof WireReply, unknown>> | null;
    const optionalString = (value: unknown) => value === undefined || typeof value === 'string';
    if (
      typeof reply?.status !== 'number' ||
      typeof reply.base64 !== 'string' ||
      !optionalString(reply.uploadUrl) ||
      !optionalString(reply.uploadStatus) ||
      !optionalString(reply.sizeReceived)
    ) {
      throw this.peer.badReply();
    }
    return reply as WireReply;
  }
}

/**
 * The router's hop: each call checked, and relayed to the provider-adapter within its
 * backend's timeout. A step's body takes up to `maxStepBytes` (heldUploadBytes of
 * AI_GATEWAY_MAX_FILE_BYTES).
 */
export function registerGeminiFileRelay(
  fastify: FastifyInstance,
  adapter: HttpGeminiFileClient,
  timeoutOf: RelayTimeout,
  maxStepBytes: number,
): void {
  const timeoutFor = relayTimeoutFor(timeoutOf);
  registerRoutes(
    fastify,
    (call) => adapter.whole(call, timeoutFor(call)),
    (call, data) => adapter.relayStep(call, data, timeoutFor(call)),
    maxStepBytes,
  );
}

/**
 * The provider-adapter's end: the Gemini backend's full target (with its key) from this
 * service's configuration, and the call made with `upstream`.
 */
export function registerGeminiFileServer(
  fastify: FastifyInstance,
  resolveTarget: (call: WireBackend) => UpstreamTarget,
  upstream: GeminiFileBackendCalls,
  maxStepBytes: number,
): void {
  registerRoutes(
    fastify,
    async (call) => {
      const target = resolveTarget(call);
      if (call.op === 'start') {
        const { uploadUrl } = await upstream.start(target, {
          metadata: Buffer.from(call.metadata, 'base64'),
          ...(call.contentLength === undefined ? {} : { contentLength: call.contentLength }),
          ...(call.contentType === undefined ? {} : { contentType: call.contentType }),
        });
        return { status: 200, uploadUrl, base64: '' };
      }
      if (call.op === 'count') {
        const { id, mimeType } = call;
        return replyOf(await upstream.countTokens(target, call.model, { id, mimeType }));
      }
      return replyOf(await upstream.file(target, call.op === 'get' ? 'GET' : 'DELETE', call.id));
    },
    async (call, data) =>
      replyOf(
        await upstream.step(resolveTarget(call), call.uploadUrl, {
          command: call.command,
          offset: call.offset,
          ...(call.contentLength === undefined ? {} : { contentLength: call.contentLength }),
          data,
        }),
      ),
    maxStepBytes,
  );
}

function registerRoutes(
  fastify: FastifyInstance,
  whole: (call: WholeCall) => Promise<WireReply>,
  step: (call: StepCall, data: AsyncIterable<Uint8Array>) => Promise<WireReply>,
  maxStepBytes: number,
): void {
  fastify.post(GEMINI_FILE_WIRE_PATH, async (request, reply) => {
    try {
      const answer = await whole(decodeWholeCall(request.body));
      void reply.header('content-type', WIRE_JSON).send(JSON.stringify(answer));
    } catch (error) {
      answerWireError(reply, error);
    }
  });
  acceptStreamedBody(fastify, STEP_TYPE);
  fastify.post(GEMINI_FILE_STEP_WIRE_PATH, async (request, reply) => {
    try {
      const call = decodeStepCall(request.headers[STEP_CALL_HEADER]);
      const answer = await step(call, limitedBody(stepBody(request.body), maxStepBytes));
      return reply.header('content-type', WIRE_JSON).send(JSON.stringify(answer));
    } catch (error) {
      answerWireError(reply, error);
    }
  });
}

function wireBackend(backend: BackendCallTarget): WireBackend {
  return {
    backendName: backend.backendName,
    ...(backend.routeName === undefined ? {} : { routeName: backend.routeName }),
    provider: backend.provider,
  };
}

function answerOf(reply: WireReply): GeminiFileWireAnswer {
  return {
    status: reply.status,
    ...(reply.uploadStatus === undefined ? {} : { uploadStatus: reply.uploadStatus }),
    ...(reply.sizeReceived === undefined ? {} : { sizeReceived: reply.sizeReceived }),
    body: Buffer.from(reply.base64, 'base64'),
  };
}

function replyOf(answer: GeminiFileWireAnswer): WireReply {
  return {
    status: answer.status,
    ...(answer.uploadStatus === undefined ? {} : { uploadStatus: answer.uploadStatus }),
    ...(answer.sizeReceived === undefined ? {} : { sizeReceived: answer.sizeReceived }),
    base64: answer.body.toString('base64'),
  };
}

type Fields = Partial<Record<string, unknown>>;

function malformed(what: string): DataPlaneError {
  return new DataPlaneError(
    DataPlaneErrorCode.InvalidRequest,
    `the Gemini file wire message has no valid ${what}`,
  );
}

/** The backend named: a Gemini backend only (no other provider is reached this way). */
function decodeBackend(call: Fields): WireBackend {
  const { backendName, routeName, provider } = call;
  if (typeof backendName !== 'string' || backendName === '') throw malformed('backendName');
  if (routeName !== undefined && (typeof routeName !== 'string' || routeName === '')) {
    throw malformed('routeName');
  }
  if (provider !== GEMINI_PROVIDER) throw malformed('provider');
  return { backendName, ...(routeName === undefined ? {} : { routeName }), provider };
}

const NUMBER = /^\d{1,16}$/;

/** A Gemini file id: lowercase letters, digits and dashes (Google's), one path segment. */
const FILE_ID = /^[a-z0-9-]{1,64}$/;

function optionalText(value: unknown, pattern: RegExp, what: string): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || !pattern.test(value)) throw malformed(what);
  return value;
}

function decodeWholeCall(body: unknown): WholeCall {
  if (typeof body !== 'object' || body === null) throw malformed('body');
  const call = body as Fields;
  const backend = decodeBackend(call);
  if (call.op === 'start') {
    const { metadata } = call;
    if (typeof metadata !== 'string' || metadata.length > MAX_METADATA_BASE64) {
      throw malformed('metadata');
    }
    const contentLength = optionalText(call.contentLength, NUMBER, 'contentLength');
    const contentType = optionalText(
      call.contentType,
      /^[\x21-\x7e][\x20-\x7e]{0,254}$/,
      'contentType',
    );
    return {
      ...backend,
      op: 'start',
      metadata,
      ...(contentLength === undefined ? {} : { contentLength }),
      ...(contentType === undefined ? {} : { contentType }),
    };
  }
  if (call.op === 'get' || call.op === 'delete') {
    if (typeof call.id !== 'string' || !FILE_ID.test(call.id)) throw malformed('id');
    return { ...backend, op: call.op, id: call.id };
  }
  if (call.op === 'count') {
    if (typeof call.id !== 'string' || !FILE_ID.test(call.id)) throw malformed('id');
    // The adapter %-encodes the model into its URL (a wildcard backend's is the client's).
    if (typeof call.model !== 'string' || call.model === '' || call.model.length > 512) {
      throw malformed('model');
    }
    const mimeType = optionalText(call.mimeType, /^[\x20-\x7e]{0,255}$/, 'mimeType') ?? '';
    return { ...backend, op: 'count', id: call.id, model: call.model, mimeType };
  }
  throw malformed('op');
}

function decodeStepCall(header: unknown): StepCall {
  let call: Fields;
  try {
    if (typeof header !== 'string') throw new Error('no header');
    call = JSON.parse(Buffer.from(header, 'base64url').toString('utf8')) as Fields;
    if (typeof call !== 'object' || call === null) throw new Error('not an object');
  } catch {
    throw malformed('step call header');
  }
  const backend = decodeBackend(call);
  const { uploadUrl, command, offset } = call;
  // The backend's own upload URL: the adapter calls it only at that backend's origin.
  if (typeof uploadUrl !== 'string' || uploadUrl.length > 4096 || !/^https?:\/\//.test(uploadUrl)) {
    throw malformed('uploadUrl');
  }
  if (typeof command !== 'string' || !/^[a-z, ]{1,40}$/.test(command)) throw malformed('command');
  if (typeof offset !== 'string' || !NUMBER.test(offset)) throw malformed('offset');
  const contentLength = optionalText(call.contentLength, NUMBER, 'contentLength');
  return {
    ...backend,
    uploadUrl,
    command,
    offset,
    ...(contentLength === undefined ? {} : { contentLength }),
  };
}

/**
 * A step's bytes: the stream this route's own parser hands on. Any other media type was
 * parsed by the app's parsers (a JSON object, a string): the caller's 400, not a TypeError.
 */
function stepBody(body: unknown): Readable {
  if (body === undefined) return Readable.from([]);
  if (body instanceof Readable) return body;
  throw new DataPlaneError(
    DataPlaneErrorCode.InvalidRequest,
    `the Gemini file wire's step body must be ${STEP_TYPE}`,
  );
}
