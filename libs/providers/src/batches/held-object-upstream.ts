import {
  DataPlaneError,
  DataPlaneErrorCode,
  textWithoutBackendIdentity,
  type BackendCallTarget,
  type HeldCallHeaders,
} from '@aigw/contracts/data-plane';
import { Readable } from 'node:stream';
import { pulledBody, timedOut } from '@aigw/infra/http';
import { request as undiciRequest } from 'undici';
import { anthropicApiUrl, ANTHROPIC_VERSION } from '../anthropic/anthropic.adapter';
import { azureApiVersion, azureOpenAiPath } from '../azure/azure-urls';
import { upstreamHttpError, transportError } from '../core/upstream-failure';
import { resolveBaseUrl } from '../openai-compatible/openai-base-urls';

/** A backend that holds files and batches (OpenAI, Azure OpenAI) or message batches (Anthropic). */
export type HeldObjectBackend = BackendCallTarget;

export interface HeldObjectReply {
  readonly status: number;
  readonly contentType: string;
  readonly body: Buffer;
}

export type HeldObjectMethod = 'GET' | 'POST' | 'DELETE';

/** A 2xx answer whose body is read as it arrives (a file's content). */
export interface HeldObjectStream {
  readonly status: number;
  readonly contentType: string;
  /** Destroying it (a client that hung up) aborts the backend's answer. */
  readonly body: Readable;
}

/**
 * The providers whose Files and Batch APIs the gateway passes through, and Anthropic,
 * whose Message Batches API it passes through (heldObjectCallAllowed says which paths).
 */
const HELD_OBJECT_PROVIDERS: ReadonlySet<string> = new Set(['openai', 'azure', 'anthropic']);

/** Anthropic's Message Batches API, the only part of its API reached as a held object. */
const MESSAGE_BATCHES_PATH = '/messages/batches';

/**
 * Whether a held-object call may go to a backend of `provider` at `path`: OpenAI's and
 * Azure OpenAI's Files and Batch APIs; Anthropic's message batches only (its key must not
 * reach any other of its paths this way, nor another provider's key those: an OpenAI-format
 * proxy may serve them). A `.` or `..` segment, which a URL resolves to another path, is
 * never sent.
 */
export function heldObjectCallAllowed(provider: string, path: string): boolean {
  const segments = (path.split('?')[0] ?? '').split('/');
  if (segments.some((segment) => /^(\.|%2e){1,2}$/i.test(segment))) return false;
  const messageBatches =
    path === MESSAGE_BATCHES_PATH || path.startsWith(`${MESSAGE_BATCHES_PATH}/`);
  if (provider === 'anthropic') return messageBatches;
  return HELD_OBJECT_PROVIDERS.has(provider) && !messageBatches;
}

/**
 * The URL of a Files or Batch API path (`/files`, `/batches/{id}/cancel`) on a backend, or
 * of a Message Batches API path on an Anthropic one (anthropicApiUrl). OpenAI: under its
 * base URL (`https://api.openai.com/v1`). Azure OpenAI: under the resource's `/openai`
 * with `?api-version=` (the backend URL's, else AZURE_OPENAI_API_VERSION, else the GA
 * default), or `/openai/v1` without one when the version is `v1` (Azure's v1 API).
 */
export function heldObjectUrl(
  backend: Pick<HeldObjectBackend, 'provider' | 'baseUrl'>,
  path: string,
  env: NodeJS.ProcessEnv = process.env,
): string {
  // Its configured URL with or without `/v1`, as its Messages calls take it.
  if (backend.provider === 'anthropic') return anthropicApiUrl(backend.baseUrl, path);
  if (backend.provider !== 'azure') return resolveBaseUrl(backend.provider, backend.baseUrl) + path;
  if (!backend.baseUrl) {
    throw new Error('an azure backend needs baseUrl, the resource endpoint');
  }
  const base = new URL(backend.baseUrl);
  const apiVersion = azureApiVersion(base, env);
  const prefix = azureOpenAiPath(base);
  if (apiVersion === 'v1') return `${base.origin}${prefix}/v1${path}`;
  const url = new URL(`${base.origin}${prefix}${path}`);
  url.searchParams.set('api-version', apiVersion);
  return url.toString();
}

/**
 * Calls a backend's Files and Batch APIs with its own credential (never the client's).
 * A 2xx answer is returned as it came; any other is a data-plane error as for model
 * calls (its text scrubbed), a 404 kept a 404 (the object is gone at the provider).
 */
export class HeldObjectUpstream {
  constructor(private readonly env: NodeJS.ProcessEnv = process.env) {}

  async send(
    backend: HeldObjectBackend,
    method: HeldObjectMethod,
    path: string,
    body?: { readonly contentType: string; readonly data: Buffer },
    clientHeaders?: HeldCallHeaders,
  ): Promise<HeldObjectReply> {
    const headers = this.headersFor(backend, clientHeaders);
    if (body) headers['content-type'] = body.contentType;
    const signal = AbortSignal.timeout(backend.requestTimeoutMs);
    let response: Response;
    let data: Buffer;
    try {
      response = await fetch(heldObjectUrl(backend, path, this.env), {
        method,
        headers,
        body: body?.data,
        signal,
        redirect: 'manual',
      });
      data = Buffer.from(await response.arrayBuffer());
    } catch (error) {
      throw transportError(backend.backendName, error, new AbortController().signal);
    }
    if (response.status >= 200 && response.status < 300) {
      return {
        status: response.status,
        contentType: response.headers.get('content-type') ?? 'application/octet-stream',
        body: data,
      };
    }
    throw failure(backend, response, data.toString('utf8'));
  }

  /**
   * A POST whose body is sent as it is made (a file upload of up to OpenAI's 200 MB, its
   * lines checked and rewritten on the way): chunked, as its length is known only at its
   * end. A body that fails aborts the call, so the backend never reads a whole form. The
   * backend's timeout bounds the wait for its answer once the body is sent; the body's
   * own pace is its writer's (the client's request timeout).
   */
  async upload(
    backend: HeldObjectBackend,
    path: string,
    body: { readonly contentType: string; readonly data: AsyncIterable<Uint8Array> },
  ): Promise<HeldObjectReply> {
    const headers = this.headersFor(backend);
    headers['content-type'] = body.contentType;
    const controller = new AbortController();
    let timer: NodeJS.Timeout | undefined;
    const timeout = () => controller.abort(timedOut());
    async function* sent(): AsyncGenerator<Uint8Array> {
      yield* body.data;
      timer = setTimeout(timeout, backend.requestTimeoutMs);
    }
    let status: number;
    let answerHeaders: Record<string, string | string[] | undefined>;
    let data: Buffer;
    try {
      // undici's own request: the body a Node stream written with the socket's backpressure.
      const answer = await undiciRequest(heldObjectUrl(backend, path, this.env), {
        method: 'POST',
        headers,
        body: Readable.from(sent(), { objectMode: false }),
        signal: controller.signal,
        // The wait for the answer is the timer's, armed once the whole body is sent.
        headersTimeout: 0,
        bodyTimeout: backend.requestTimeoutMs,
      });
      status = answer.statusCode;
      answerHeaders = answer.headers;
      data = Buffer.from(await answer.body.arrayBuffer());
    } catch (error) {
      throw transportError(backend.backendName, error, new AbortController().signal);
    } finally {
      clearTimeout(timer);
    }
    const contentType = answerHeaders['content-type'];
    if (status >= 200 && status < 300) {
      return {
        status,
        contentType:
          (Array.isArray(contentType) ? contentType[0] : contentType) ?? 'application/octet-stream',
        body: data,
      };
    }
    const fetchHeaders = new Headers();
    for (const [name, value] of Object.entries(answerHeaders)) {
      for (const one of Array.isArray(value) ? value : value === undefined ? [] : [value]) {
        fetchHeaders.append(name, one);
      }
    }
    throw failure(
      backend,
      { status, headers: fetchHeaders } as Response,
      data.subarray(0, MAX_ERROR_TEXT_BYTES).toString('utf8'),
    );
  }

  /**
   * A GET whose answer is streamed (a file's content, which may be gigabytes): the
   * backend's timeout bounds the wait for its headers and then each wait for more bytes,
   * never the whole read. An error answer is read whole and thrown as `send` throws it.
   */
  async open(backend: HeldObjectBackend, path: string): Promise<HeldObjectStream> {
    const controller = new AbortController();
    const idleMs = backend.requestTimeoutMs;
    const timeout = () => controller.abort(timedOut());
    // Armed only while waiting for the backend: a slow reader (backpressure) is not its fault.
    const waiting = <T>(pending: Promise<T>): Promise<T> => {
      const timer = setTimeout(timeout, idleMs);
      return pending.finally(() => clearTimeout(timer));
    };
    const notAborted = new AbortController().signal;
    let response: Response;
    try {
      response = await waiting(
        fetch(heldObjectUrl(backend, path, this.env), {
          method: 'GET',
          headers: this.headersFor(backend),
          signal: controller.signal,
          redirect: 'manual',
        }),
      );
    } catch (error) {
      throw transportError(backend.backendName, error, notAborted);
    }
    const ok = response.status >= 200 && response.status < 300;
    if (!ok || !response.body) {
      let text: string;
      try {
        text = await waiting(cappedText(response, MAX_ERROR_TEXT_BYTES));
      } catch (error) {
        throw transportError(backend.backendName, error, notAborted);
      } finally {
        controller.abort();
      }
      if (!ok) throw failure(backend, response, text);
      return {
        status: response.status,
        contentType: contentTypeOf(response),
        body: Readable.from([]),
      };
    }
    // Closed early (a client that hung up, a failure) or read to its end, the backend's
    // answer is let go of at once; a slow reader (backpressure) is not the backend's fault.
    const body = pulledBody(
      response.body as ReadableStream<Uint8Array>,
      controller,
      idleMs,
      (error) => transportError(backend.backendName, error, notAborted) as Error,
    );
    return { status: response.status, contentType: contentTypeOf(response), body };
  }

  /**
   * The backend's key and API version, and of the client's headers only what its provider
   * reads: a message batch's `anthropic-beta`, as a /v1/messages call sends it.
   */
  private headersFor(
    backend: HeldObjectBackend,
    clientHeaders?: HeldCallHeaders,
  ): Record<string, string> {
    const headers: Record<string, string> = {};
    const betas = clientHeaders?.['anthropic-beta'];
    if (backend.provider === 'anthropic' && betas !== undefined) headers['anthropic-beta'] = betas;
    if (backend.credential) {
      const { headerName, headerPrefix, apiKey } = backend.credential;
      headers[headerName] = headerPrefix + apiKey.reveal();
    }
    // The API version every Anthropic call names, as its Messages calls do.
    if (backend.provider === 'anthropic') headers['anthropic-version'] = ANTHROPIC_VERSION;
    return headers;
  }
}

/** The most of a backend's error answer read (its text is cut to 500 characters anyway). */
const MAX_ERROR_TEXT_BYTES = 64 * 1024;

/** A body's first `max` bytes as text: an error answer of any size costs no more. */
async function cappedText(response: Response, max: number): Promise<string> {
  if (!response.body) return '';
  const parts: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of response.body as AsyncIterable<Uint8Array>) {
    parts.push(chunk);
    size += chunk.length;
    if (size >= max) break;
  }
  return Buffer.concat(parts).subarray(0, max).toString('utf8');
}

function contentTypeOf(response: Response): string {
  return response.headers.get('content-type') ?? 'application/octet-stream';
}

/**
 * A backend's error answer as a data-plane error; a 404 kept a 404. A redirect is not
 * followed (fetch would send the backend's key on to another origin: it drops only
 * `Authorization` there, not Azure's `api-key` or a configured header).
 */
function failure(backend: HeldObjectBackend, response: Response, text: string): unknown {
  if (response.status >= 300 && response.status < 400) {
    return new DataPlaneError(
      DataPlaneErrorCode.UpstreamBadResponse,
      `backend "${backend.backendName}" answered ${response.status}, a redirect the gateway does not follow`,
      { upstreamStatus: response.status },
    );
  }
  if (response.status === 404) {
    return new DataPlaneError(DataPlaneErrorCode.NotFound, 'No such object at the provider.', {
      upstreamStatus: 404,
    });
  }
  // As a model call's refusal reaches the client: without the backend's account ids or host
  // (no model is named: a file or batch is the backend's, not a virtual model's).
  const shown = textWithoutBackendIdentity(text, {
    sentModel: '',
    requestedModel: '',
    baseUrl: backend.baseUrl,
  });
  return upstreamHttpError(
    backend.backendName,
    response.status,
    shown,
    Object.fromEntries(response.headers),
    backend.credential?.apiKey,
  );
}
