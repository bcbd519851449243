import type { FastifyReply, FastifyRequest, HookHandlerDoneFunction } from 'fastify';
import { isMessagesPath } from './messages-errors';

/**
 * Anthropic names a call's id in `request-id`, where its SDKs read it (`_request_id`,
 * `APIError.requestID`, which Claude Code shows with an error); our `x-request-id` stays
 * beside it. A stream writes its own headers (`MESSAGES_DIALECT.openStream`).
 */
export const MESSAGES_REQUEST_ID_HEADER = 'request-id';

/** An onRequest hook: every answer on a Messages path, errors included, names its id. */
export function nameMessagesRequestId(
  request: FastifyRequest,
  reply: FastifyReply,
  done: HookHandlerDoneFunction,
): void {
  if (isMessagesPath(request.url)) void reply.header(MESSAGES_REQUEST_ID_HEADER, request.id);
  done();
}
