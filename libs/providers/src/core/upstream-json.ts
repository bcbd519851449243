import type { IncomingHttpHeaders } from 'node:http';
import type { Dispatcher } from 'undici';
import {
  AnswerTooLargeError,
  dispatchBuffered,
  type BufferedRequest,
  type BufferedResponse,
} from '@aigw/infra/http';
import {
  MAX_BODY_DEPTH,
  nestsDeeperThan,
  type JsonObject,
  type ProviderCall,
} from '@aigw/contracts/data-plane';
import {
  badResponse,
  MAX_ANSWER_BYTES,
  MAX_ERROR_BODY_BYTES,
  type UpstreamPost,
} from './upstream-http';
import { parseJsonObject } from './json-shape';
import { transportError, upstreamHttpError } from './upstream-failure';

/** Distinct upstream URLs whose origin/path split is remembered (backends × operations). */
const MAX_REMEMBERED_URLS = 256;

/** A complete JSON answer from a backend. */
export interface UpstreamJson {
  readonly headers: IncomingHttpHeaders;
  readonly body: JsonObject;
}

/**
 * Sends one request whose answer is a single JSON object (no stream) and reads it whole,
 * within the request timeout; an HTTP error status or a transport failure comes back as a
 * DataPlaneError the router can act on. The first-byte timeout does not apply: a backend
 * sends a JSON answer's headers only once the model has written all of it, so a long
 * answer would be cut (and paid for again on the next backend) by a bound meant for the
 * first event of a stream.
 */
export async function fetchUpstreamJson(
  call: ProviderCall,
  post: UpstreamPost,
  dispatcher: Dispatcher,
): Promise<UpstreamJson> {
  const { target } = call;
  // dispatchBuffered awaited here, not through fetchUpstreamText: one async layer (a
  // promise and a tick) less on every JSON call.
  let response: BufferedResponse;
  try {
    response = await dispatchBuffered(dispatcher, bufferedRequest(call, post));
  } catch (error) {
    throw callFailure(call, error);
  }
  throwOnErrorStatus(call, response);
  const body = parseJsonObject(response.body);
  if (!body) throw badResponse(target.backendName, 'a body that is not a JSON object');
  if (nestsDeeperThan(body, MAX_BODY_DEPTH)) {
    throw badResponse(target.backendName, `JSON nested deeper than ${MAX_BODY_DEPTH} levels`);
  }
  return { headers: response.headers, body };
}

/** A complete answer read as text, for endpoints that may answer in another format. */
export async function fetchUpstreamText(
  call: ProviderCall,
  post: UpstreamPost,
  dispatcher: Dispatcher,
): Promise<{ readonly headers: IncomingHttpHeaders; readonly body: string }> {
  let response: BufferedResponse;
  try {
    response = await dispatchBuffered(dispatcher, bufferedRequest(call, post));
  } catch (error) {
    throw callFailure(call, error);
  }
  throwOnErrorStatus(call, response);
  return { headers: response.headers, body: response.body };
}

/** The call as one buffered request, within the backend's request timeout. */
function bufferedRequest(call: ProviderCall, post: UpstreamPost): BufferedRequest {
  const { target } = call;
  const { origin, path } = splitUrl(post.url);
  return {
    origin,
    path,
    method: post.method ?? 'POST',
    headers: post.headers,
    body: post.body,
    headersTimeoutMs: target.requestTimeoutMs,
    bodyTimeoutMs: target.requestTimeoutMs,
    totalTimeoutMs: target.requestTimeoutMs,
    signal: call.signal,
    maxErrorBodyBytes: MAX_ERROR_BODY_BYTES,
    maxBodyBytes: MAX_ANSWER_BYTES,
  };
}

/** What a failed buffered call is to the router: too large an answer, or the transport's. */
function callFailure(call: ProviderCall, error: unknown): unknown {
  const { target } = call;
  if (error instanceof AnswerTooLargeError) {
    return badResponse(target.backendName, `an answer larger than ${error.limitBytes} bytes`);
  }
  return transportError(target.backendName, error, call.signal);
}

function throwOnErrorStatus(call: ProviderCall, response: BufferedResponse): void {
  if (response.statusCode >= 400) {
    throw upstreamHttpError(
      call.target.backendName,
      response.statusCode,
      response.body,
      response.headers,
      call.target.credential?.apiKey,
    );
  }
}

const splits = new Map<string, { origin: string; path: string }>();

/** Origin and path of an upstream URL; a backend's few URLs are parsed once. */
function splitUrl(url: string): { origin: string; path: string } {
  let split = splits.get(url);
  if (!split) {
    const parsed = new URL(url);
    split = { origin: parsed.origin, path: parsed.pathname + parsed.search };
    if (splits.size >= MAX_REMEMBERED_URLS) splits.clear();
    splits.set(url, split);
  }
  return split;
}
