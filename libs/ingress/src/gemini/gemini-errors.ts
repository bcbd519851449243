import type { FastifyReply } from 'fastify';
import type { DataPlaneError } from '@aigw/contracts/data-plane';
import { sendErrorReply, type ErrorShape } from '../http/error-reply';
import { geminiError } from './domain/gemini-errors';

// A stream ends through its relay (`GeminiStreamRelay.fail`); the stream event is the
// fallback for one that failed before it had one, as an `alt=sse` event (the SDKs' framing).
const GEMINI_ERRORS: ErrorShape = {
  answer: (error) => geminiError(error),
  streamEvent: (error) => `data: ${JSON.stringify(geminiError(error).body)}\r\n\r\n`,
};

/** Sends a Google-style error, or ends a stream that already started with an error event. */
export function sendGeminiError(
  reply: FastifyReply,
  error: DataPlaneError,
  requestId?: string,
): void {
  sendErrorReply(reply, error, requestId, GEMINI_ERRORS);
}
