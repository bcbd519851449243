import type { IncomingHttpHeaders } from 'node:http';
import type { Dispatcher } from 'undici';
import type { JsonObject, ProviderCall } from '@aigw/contracts/data-plane';
import { badResponse, type UpstreamPost } from './upstream-http';
import { transportError, upstreamHttpError } from './upstream-failure';

/** How much of an error body we keep to find its message. */
const MAX_ERROR_BODY_BYTES = 64 * 1024;
/** Distinct upstream URLs whose origin/path split is remembered (backends × operations). */
const MAX_REMEMBERED_URLS = 256;

/** A complete JSON answer from a backend. */
export interface UpstreamJson {
  readonly headers: IncomingHttpHeaders;
  readonly body: JsonObject;
}

/**
 * Sends one request whose answer is a single JSON object (no stream) and reads it whole,
 * with the same timeouts and errors as `sendUpstream`. It talks to undici's dispatcher
 * directly: `request()` wraps every answer in a Readable stream and a body mixin, which
 * was the largest single share of the gateway's allocations per request, for a body that
 * is read in one piece anyway.
 */
export function fetchUpstreamJson(
  call: ProviderCall,
  post: UpstreamPost,
  dispatcher: Dispatcher,
): Promise<UpstreamJson> {
  return new Promise<UpstreamJson>((resolve, reject) => {
    const { origin, path } = splitUrl(post.url);
    const handler = new JsonAnswerHandler(call, resolve, reject);
    try {
      dispatcher.dispatch(
        {
          origin,
          path,
          method: post.method ?? 'POST',
          headers: post.headers,
          body: post.body,
          headersTimeout: call.target.firstByteTimeoutMs,
          bodyTimeout: call.target.requestTimeoutMs,
        },
        handler,
      );
    } catch (error) {
      handler.fail(error);
    }
  });
}

/**
 * Collects one answer. The whole call runs under the request timeout and the caller's
 * signal; both are let go of as soon as the call settles, whichever way.
 */
class JsonAnswerHandler implements Dispatcher.DispatchHandler {
  private controller: Dispatcher.DispatchController | undefined;
  private status = 0;
  private headers: IncomingHttpHeaders = {};
  private readonly chunks: Buffer[] = [];
  private size = 0;
  private settled = false;
  private readonly timer: NodeJS.Timeout;
  private readonly onCallerAbort = () => this.abort(this.call.signal.reason);

  constructor(
    private readonly call: ProviderCall,
    private readonly resolve: (answer: UpstreamJson) => void,
    private readonly reject: (error: unknown) => void,
  ) {
    this.timer = setTimeout(
      () => this.abort(new DOMException('The upstream call timed out', 'TimeoutError')),
      call.target.requestTimeoutMs,
    );
    if (call.signal.aborted) queueMicrotask(this.onCallerAbort);
    else call.signal.addEventListener('abort', this.onCallerAbort, { once: true });
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.controller = controller;
    if (this.settled) controller.abort(new Error('upstream call already settled'));
  }

  onResponseStart(
    _controller: Dispatcher.DispatchController,
    statusCode: number,
    headers: IncomingHttpHeaders,
  ): void {
    this.status = statusCode;
    this.headers = headers;
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    // An error body is only read for its message: keep the first part of it.
    if (this.status >= 400 && this.size >= MAX_ERROR_BODY_BYTES) return;
    this.chunks.push(chunk);
    this.size += chunk.length;
    if (this.status >= 400 && this.size >= MAX_ERROR_BODY_BYTES) controller.abort(errorBodyRead);
  }

  onResponseEnd(): void {
    this.finish();
  }

  onResponseError(_controller: Dispatcher.DispatchController, error: Error): void {
    // Enough of an error body was read: answer with it rather than the cut.
    if (error === errorBodyRead) this.finish();
    else this.fail(error);
  }

  fail(error: unknown): void {
    if (!this.settle()) return;
    this.reject(transportError(this.call.target.backendName, error, this.call.signal));
  }

  private abort(reason: unknown): void {
    const error = reason instanceof Error ? reason : new Error(String(reason));
    if (this.controller) this.controller.abort(error);
    else this.fail(error);
  }

  private finish(): void {
    if (!this.settle()) return;
    const { backendName } = this.call.target;
    const text = this.text();
    if (this.status >= 400) {
      this.reject(
        upstreamHttpError(
          backendName,
          this.status,
          text.slice(0, MAX_ERROR_BODY_BYTES),
          this.headers['retry-after'],
        ),
      );
      return;
    }
    const body = parseJsonObject(text);
    if (body) this.resolve({ headers: this.headers, body });
    else this.reject(badResponse(backendName, 'a body that is not a JSON object'));
  }

  /** Lets go of the timer and the caller's signal; false when already settled. */
  private settle(): boolean {
    if (this.settled) return false;
    this.settled = true;
    clearTimeout(this.timer);
    this.call.signal.removeEventListener('abort', this.onCallerAbort);
    return true;
  }

  private text(): string {
    if (this.chunks.length === 1) return this.chunks[0].toString('utf8');
    return Buffer.concat(this.chunks, this.size).toString('utf8');
  }
}

/** The reason an error body was cut once enough of it was read. */
const errorBodyRead = new Error('error body read');

function parseJsonObject(text: string): JsonObject | undefined {
  try {
    const parsed: unknown = JSON.parse(text);
    if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) return parsed as JsonObject;
  } catch {
    // not JSON: the caller reports it
  }
  return undefined;
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
