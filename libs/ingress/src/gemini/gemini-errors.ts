import type { FastifyReply } from 'fastify';
import type { DataPlaneError } from '@aigw/contracts/data-plane';
import { geminiError } from './domain/gemini-errors';

/** Sends a Google-style error, or ends a stream that already started with an error event. */
export function sendGeminiError(
  reply: FastifyReply,
  error: DataPlaneError,
  requestId?: string,
): void {
  // A stream ends through its relay (`GeminiStreamRelay.fail`); this is the fallback for
  // one that failed before it had one, as an `alt=sse` event (the SDKs' framing).
  if (reply.raw.headersSent) {
    if (!reply.raw.writableEnded) {
      reply.raw.end(`data: ${JSON.stringify(geminiError(error).body)}\r\n\r\n`);
    }
    return;
  }
  const { status, body } = geminiError(error);
  if (requestId) void reply.header('x-request-id', requestId);
  for (const [name, value] of Object.entries(error.headers ?? {})) void reply.header(name, value);
  if (error.retryAfterMs !== undefined) {
    void reply.header('retry-after', String(Math.ceil(error.retryAfterMs / 1000)));
  }
  void reply.code(status).send(body);
}
