import type { FastifyReply } from 'fastify';
import type { DataPlaneError } from '@aigw/contracts/data-plane';
import { geminiError } from './domain/gemini-errors';

/**
 * An SSE event holding Google's error object: what Google's SDKs read as a failed
 * stream (they throw on an event whose `error` has a code), so a broken stream never
 * looks finished.
 */
export function geminiErrorEvent(error: DataPlaneError): string {
  return `data: ${JSON.stringify(geminiError(error).body)}\r\n\r\n`;
}

/** Sends a Google-style error, or ends a stream that already started with an error event. */
export function sendGeminiError(
  reply: FastifyReply,
  error: DataPlaneError,
  requestId?: string,
): void {
  if (reply.raw.headersSent) {
    if (!reply.raw.writableEnded) reply.raw.end(geminiErrorEvent(error));
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
