import type { FastifyReply } from 'fastify';
import type { DataPlaneError } from '@aigw/contracts/data-plane';
import { unprefixedPath } from '../http/public-paths';
import { messagesError } from './domain/anthropic-errors';

/** The Anthropic Messages API's paths, `/v1` or not; errors there take Anthropic's shape. */
export function isMessagesPath(url: string): boolean {
  const path = unprefixedPath(url);
  return path === '/messages' || path.startsWith('/messages/');
}

/** An SSE `error` event, Anthropic's way of ending a stream that broke after it began. */
export function messagesErrorEvent(error: DataPlaneError): string {
  return `event: error\ndata: ${JSON.stringify(messagesError(error).body)}\n\n`;
}

/** Sends an Anthropic-style error, or ends a stream that already started with an error event. */
export function sendMessagesError(
  reply: FastifyReply,
  error: DataPlaneError,
  requestId?: string,
): void {
  if (reply.raw.headersSent) {
    if (!reply.raw.writableEnded) reply.raw.end(messagesErrorEvent(error));
    return;
  }
  const { status, body } = messagesError(error, requestId);
  if (requestId) void reply.header('x-request-id', requestId);
  for (const [name, value] of Object.entries(error.headers ?? {})) void reply.header(name, value);
  if (error.retryAfterMs !== undefined) {
    void reply.header('retry-after', String(Math.ceil(error.retryAfterMs / 1000)));
  }
  void reply.code(status).send(body);
}
