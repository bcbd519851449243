import type { IncomingHttpHeaders } from 'node:http';
import type { Dispatcher } from 'undici';

/** One HTTP request whose answer is read whole (a JSON body, not a stream). */
export interface BufferedRequest {
  readonly origin: string;
  readonly path: string;
  readonly method: 'POST' | 'GET';
  readonly headers: Readonly<Record<string, string>>;
  readonly body?: string | Uint8Array;
  /** Longest wait for the response headers. */
  readonly headersTimeoutMs: number;
  /** Longest wait between two reads of the body. */
  readonly bodyTimeoutMs: number;
  /** Longest the whole call may take; the request is aborted with a TimeoutError after it. */
  readonly totalTimeoutMs?: number;
  /** The caller's signal: its abort ends the call with its reason. */
  readonly signal: AbortSignal;
  /** An error status's body is only read this far (its message is at the start). */
  readonly maxErrorBodyBytes: number;
  /** A successful answer longer than this fails with an `AnswerTooLargeError`. */
  readonly maxBodyBytes: number;
  /** Told when the response headers arrive: a failure after it broke an answer mid-way. */
  readonly onHeaders?: () => void;
}

export interface BufferedResponse {
  readonly statusCode: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

/**
 * Sends a request through undici's dispatcher and collects the answer in memory. It
 * skips what `request()` builds for every answer (a Readable body, its listeners and
 * body mixin), which was the largest single share of the gateway's allocations per
 * request, for a body that is read in one piece anyway. Fails with the transport's own
 * error, a `TimeoutError` past `totalTimeoutMs`, or the reason the caller aborted with;
 * the caller maps them to its own errors.
 */
export function dispatchBuffered(
  dispatcher: Dispatcher,
  request: BufferedRequest,
): Promise<BufferedResponse> {
  return new Promise<BufferedResponse>((resolve, reject) => {
    const handler = new BufferingHandler(request, resolve, reject);
    try {
      dispatcher.dispatch(
        {
          origin: request.origin,
          path: request.path,
          method: request.method,
          headers: request.headers,
          body: request.body,
          headersTimeout: request.headersTimeoutMs,
          bodyTimeout: request.bodyTimeoutMs,
        },
        handler,
      );
    } catch (error) {
      handler.fail(error);
    }
  });
}

/** The reason an error body is cut once enough of it was read. */
const errorBodyRead = new Error('error body read');

/** A successful answer went past `maxBodyBytes`: the peer is misbehaving, not slow. */
export class AnswerTooLargeError extends Error {
  constructor(readonly limitBytes: number) {
    super(`the answer is larger than ${limitBytes} bytes`);
    this.name = 'AnswerTooLargeError';
  }
}

/** Collects one answer and lets go of its timer and the caller's signal once it settles. */
class BufferingHandler implements Dispatcher.DispatchHandler {
  private controller: Dispatcher.DispatchController | undefined;
  private statusCode = 0;
  private headers: IncomingHttpHeaders = {};
  private readonly chunks: Buffer[] = [];
  private size = 0;
  private settled = false;
  private readonly timer: NodeJS.Timeout | undefined;
  private readonly onCallerAbort = () => this.abort(this.request.signal.reason);

  constructor(
    private readonly request: BufferedRequest,
    private readonly resolve: (response: BufferedResponse) => void,
    private readonly reject: (error: unknown) => void,
  ) {
    if (request.totalTimeoutMs !== undefined) {
      this.timer = setTimeout(
        () => this.abort(new DOMException('The call timed out', 'TimeoutError')),
        request.totalTimeoutMs,
      );
    }
    if (request.signal.aborted) queueMicrotask(this.onCallerAbort);
    else request.signal.addEventListener('abort', this.onCallerAbort, { once: true });
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.controller = controller;
    if (this.settled) controller.abort(new Error('call already settled'));
  }

  onResponseStart(
    _controller: Dispatcher.DispatchController,
    statusCode: number,
    headers: IncomingHttpHeaders,
  ): void {
    this.statusCode = statusCode;
    this.headers = headers;
    this.request.onHeaders?.();
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    if (this.statusCode >= 400) {
      const limit = this.request.maxErrorBodyBytes;
      if (this.size >= limit) return;
      this.chunks.push(chunk);
      this.size += chunk.length;
      if (this.size >= limit) controller.abort(errorBodyRead);
      return;
    }
    this.size += chunk.length;
    // Held in memory whole: an endless answer must not take the process down.
    if (this.size > this.request.maxBodyBytes) {
      this.chunks.length = 0;
      controller.abort(new AnswerTooLargeError(this.request.maxBodyBytes));
      return;
    }
    this.chunks.push(chunk);
  }

  onResponseEnd(): void {
    this.finish();
  }

  onResponseError(_controller: Dispatcher.DispatchController, error: Error): void {
    // Enough of an error body was read: answer with it rather than with the cut.
    if (error === errorBodyRead) this.finish();
    else this.fail(error);
  }

  fail(error: unknown): void {
    if (this.settle())
      this.reject(this.request.signal.aborted ? this.request.signal.reason : error);
  }

  private abort(reason: unknown): void {
    const error = reason instanceof Error ? reason : new Error(String(reason));
    if (this.controller) this.controller.abort(error);
    else this.fail(error);
  }

  private finish(): void {
    if (!this.settle()) return;
    const bytes = this.chunks.length === 1 ? this.chunks[0] : Buffer.concat(this.chunks, this.size);
    let body = bytes.toString('utf8');
    if (this.statusCode >= 400) body = body.slice(0, this.request.maxErrorBodyBytes);
    this.resolve({ statusCode: this.statusCode, headers: this.headers, body });
  }

  /** Lets go of the timer and the caller's signal; false when already settled. */
  private settle(): boolean {
    if (this.settled) return false;
    this.settled = true;
    clearTimeout(this.timer);
    this.request.signal.removeEventListener('abort', this.onCallerAbort);
    return true;
  }
}
