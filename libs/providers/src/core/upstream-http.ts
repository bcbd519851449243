import { Agent, interceptors, request as httpRequest, type Dispatcher } from 'undici';
import {
  DataPlaneError,
  DataPlaneErrorCode,
  type JsonObject,
  type ProviderCall,
  type UpstreamTarget,
} from '@aigw/contracts/data-plane';
import { callDeadline } from './call-deadline';
import { transportError, upstreamHttpError } from './upstream-failure';

/** How much of an error body we read to find its message. */
export const MAX_ERROR_BODY_BYTES = 64 * 1024;

/**
 * The largest complete (non-stream) answer read from a backend, held in memory whole.
 * Real answers stay far below it (2,048 embeddings of 3,072 floats are ~75 MB of JSON);
 * past it the backend is misbehaving, and the call fails over instead of exhausting memory.
 */
export const MAX_ANSWER_BYTES = 256 * 1024 * 1024;

/**
 * Connections to one backend origin at once (AI_GATEWAY_UPSTREAM_CONNECTIONS): a stream
 * holds one for its whole length, and a call past the limit waits for one to free up.
 */
export const DEFAULT_UPSTREAM_CONNECTIONS = 1024;

let upstreamConnections = DEFAULT_UPSTREAM_CONNECTIONS;
let sharedPools: Agent | undefined;
let sharedAgent: Dispatcher | undefined;

/** Sets the connections per origin of the shared agent, before its first use. */
export function configureUpstreamConnections(connections: number): void {
  if (sharedPools) throw new Error('the shared upstream agent is already in use');
  upstreamConnections = connections;
}

/**
 * One keep-alive pool per origin, shared by every adapter in the process. Answers a
 * backend compresses anyway (a proxy in front of it, say; the gateway never asks for it)
 * are decoded, error bodies too, and a compressed answer inflating past MAX_ANSWER_BYTES
 * fails as one that large would.
 */
export function sharedUpstreamAgent(): Dispatcher {
  sharedPools ??= new Agent({ keepAliveTimeout: 30_000, connections: upstreamConnections });
  sharedAgent ??= sharedPools.compose(
    interceptors.decompress({ skipErrorResponses: false, maxSize: MAX_ANSWER_BYTES }),
  );
  return sharedAgent;
}

/** One backend origin's pool: connections open and busy, and calls waiting for one. */
export interface UpstreamPoolState {
  readonly origin: string;
  readonly open: number;
  readonly busy: number;
  readonly waiting: number;
}

/** The shared agent's pools, one per backend origin called so far. */
export function upstreamPoolStates(): UpstreamPoolState[] {
  return sharedPools ? poolStatesOf(sharedPools) : [];
}

/** An agent's pools by origin (a pool of one connection is a client, counted alike). */
export function poolStatesOf(agent: Agent): UpstreamPoolState[] {
  return Object.entries(agent.stats).map(([origin, stats]) =>
    'queued' in stats
      ? { origin, open: stats.connected, busy: stats.running, waiting: stats.queued }
      : {
          origin,
          open: stats.connected ? 1 : 0,
          busy: stats.running,
          waiting: stats.pending,
        },
  );
}

/** The configured API key as a header, read from the secret only at this moment. */
export function credentialHeaders(target: UpstreamTarget): Record<string, string> {
  const headers: Record<string, string> = {};
  addCredential(headers, target);
  return headers;
}

/** `credentialHeaders` written into `headers`, with no object of its own. */
function addCredential(headers: Record<string, string>, target: UpstreamTarget): void {
  const credential = target.credential;
  if (!credential) return;
  headers[lowerCaseName(credential.headerName)] =
    credential.headerPrefix + credential.apiKey.reveal();
}

/** Header names lower-cased once: a backend's few configured names, bounded. */
const lowerNames = new Map<string, string>();

function lowerCaseName(name: string): string {
  let lower = lowerNames.get(name);
  if (lower === undefined) {
    lower = name.toLowerCase();
    if (lowerNames.size >= 256) lowerNames.clear();
    lowerNames.set(name, lower);
  }
  return lower;
}

export interface UpstreamPost {
  readonly url: string;
  readonly headers: Record<string, string>;
  readonly body: string | Uint8Array;
  readonly method?: 'POST' | 'GET';
}

/**
 * A JSON POST to a backend: the caller's forwarded headers, the configured key, the
 * provider's own headers, and the Accept the call's stream flag asks for.
 */
export function providerPost(
  call: ProviderCall,
  url: string,
  body: JsonObject,
  providerHeaders: Record<string, string> = {},
): UpstreamPost {
  const { request, target } = call;
  // Written in place, in the order (and with the overrides) of spreading the forwarded
  // headers, the key and the provider's: one object, not three, per call.
  const headers: Record<string, string> = { ...request.forwardHeaders };
  addCredential(headers, target);
  for (const name in providerHeaders) headers[name] = providerHeaders[name];
  headers['content-type'] = 'application/json';
  headers.accept = request.stream ? 'text/event-stream' : 'application/json';
  return { url, headers, body: JSON.stringify(body) };
}

/**
 * Sends one streaming request to a backend with the call's timeouts: the time to the
 * response headers is the first-byte timeout, the whole call the request timeout. An HTTP
 * error status or a transport failure comes back as a DataPlaneError the router can act on.
 */
export async function sendUpstream(
  call: ProviderCall,
  post: UpstreamPost,
  dispatcher: Dispatcher,
): Promise<Dispatcher.ResponseData> {
  const { target } = call;
  const deadline = callDeadline(call.signal, target.requestTimeoutMs);
  let response: Dispatcher.ResponseData;
  try {
    response = await httpRequest(post.url, {
      method: post.method ?? 'POST',
      headers: post.headers,
      body: post.body,
      dispatcher,
      signal: deadline.signal,
      headersTimeout: target.firstByteTimeoutMs,
      bodyTimeout: target.requestTimeoutMs,
    });
  } catch (error) {
    deadline.release();
    throw transportError(target.backendName, error, call.signal);
  }
  // The deadline covers the body too: it is released once the body is read or dropped.
  response.body.once('close', deadline.release);
  if (response.statusCode >= 400) {
    const text = await readBounded(response.body, MAX_ERROR_BODY_BYTES);
    response.body.destroy();
    throw upstreamHttpError(
      target.backendName,
      response.statusCode,
      text,
      response.headers,
      target.credential?.apiKey,
    );
  }
  return response;
}

export async function readBounded(body: AsyncIterable<Buffer>, limit: number): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of body) {
      chunks.push(chunk);
      size += chunk.length;
      if (size >= limit) break;
    }
  } catch {
    // a broken error body still yields whatever arrived
  }
  return Buffer.concat(chunks).toString('utf8').slice(0, limit);
}

/** A backend answered 2xx with something we cannot use; `cause` is what found it so. */
export function badResponse(backendName: string, what: string, cause?: unknown): DataPlaneError {
  return new DataPlaneError(
    DataPlaneErrorCode.UpstreamBadResponse,
    `backend "${backendName}" answered with ${what}`,
    { cause },
  );
}

/** A stream that broke or reported an error after it started. */
export function streamInterrupted(
  backendName: string,
  what: string,
  cause?: unknown,
): DataPlaneError {
  return new DataPlaneError(
    DataPlaneErrorCode.StreamInterrupted,
    `backend "${backendName}" ${what}`,
    { cause },
  );
}

/**
 * Maps a failure while a stream is being read: once the answer started, a reset or a
 * stalled body is an interrupted stream, whatever the transport said.
 */
export function streamFailure(backendName: string, error: unknown, signal: AbortSignal): unknown {
  if (error instanceof DataPlaneError) return error;
  if (signal.aborted) return signal.reason ?? error;
  const code = (error as { code?: unknown }).code;
  const reason = typeof code === 'string' ? ` (${code})` : '';
  return new DataPlaneError(
    DataPlaneErrorCode.StreamInterrupted,
    `backend "${backendName}" broke off the stream${reason}`,
    { cause: error },
  );
}
