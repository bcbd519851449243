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
  }
  void reply.code(status).send(body);
}
