import type { FastifyReply } from 'fastify';
import type { DataPlaneError } from '@aigw/contracts/data-plane';

/** How one public API (OpenAI, Anthropic Messages, Gemini) writes an error. */
export interface ErrorShape {
  /** The status and body of an error answered before anything was sent. */
  answer(error: DataPlaneError, requestId: string | undefined): { status: number; body: unknown };
  /** The event that ends a stream which broke after it began. */
  streamEvent(error: DataPlaneError): string;
}

/**
 * The longest Retry-After the SDKs' automatic retries are left to wait out. openai-node
 * waits at most a minute (past it, it retries on its own sub-second backoff, which cannot
 * help) and @anthropic-ai/sdk waits out any wait, so a refusal until a day's budget resets
 * would hold its caller asleep for hours. Past it the answer says `x-should-retry: false`:
 * the SDK raises the error at once, its Retry-After there for the caller to act on.
 */
const SDK_RETRY_WAIT_LIMIT_MS = 60_000;

/**
 * Sends `error` in the API's shape, with the request id, the error's own headers and its
 * Retry-After; a stream that already started ends with the API's error event instead.
 */
export function sendErrorReply(
  reply: FastifyReply,
  error: DataPlaneError,
  requestId: string | undefined,
  shape: ErrorShape,
): void {
  if (reply.raw.headersSent) {
    if (!reply.raw.writableEnded) reply.raw.end(shape.streamEvent(error));
    return;
  }
  const { status, body } = shape.answer(error, requestId);
  if (requestId) void reply.header('x-request-id', requestId);
  for (const [name, value] of Object.entries(error.headers ?? {})) void reply.header(name, value);
  if (error.retryAfterMs !== undefined) {
    void reply.header('retry-after', String(Math.ceil(error.retryAfterMs / 1000)));
    if (error.retryAfterMs > SDK_RETRY_WAIT_LIMIT_MS && !reply.hasHeader('x-should-retry')) {
      void reply.header('x-should-retry', 'false');
    }
  }
  void reply.code(status).send(body);
}
