import type { FastifyReply } from 'fastify';
import type { DataPlaneError } from '@aigw/contracts/data-plane';
import { sendErrorReply, type ErrorShape } from '../http/error-reply';
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

const MESSAGES_ERRORS: ErrorShape = {
  answer: (error, requestId) => messagesError(error, requestId),
  streamEvent: messagesErrorEvent,
};

/** Sends an Anthropic-style error, or ends a stream that already started with an error event. */
export function sendMessagesError(
  reply: FastifyReply,
  error: DataPlaneError,
  requestId?: string,
): void {
  sendErrorReply(reply, error, requestId, MESSAGES_ERRORS);
}
