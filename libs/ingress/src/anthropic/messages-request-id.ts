import type { FastifyReply, FastifyRequest, HookHandlerDoneFunction } from 'fastify';
import { wantsAnthropicShape } from '../http/model-entries';
import { isMessagesPath } from './messages-errors';

/**
 * Anthropic names a call's id in `request-id`, where its SDKs read it (`_request_id`,
 * `APIError.requestID`, which Claude Code shows with an error); our `x-request-id` stays
 * beside it. A stream writes its own headers (`MESSAGES_DIALECT.openStream`).
 */
export const MESSAGES_REQUEST_ID_HEADER = 'request-id';

/**
 * An onRequest hook: every answer on a Messages path, and every answer to the Anthropic SDK
 * (`anthropic-version`) elsewhere (`models.list`, `models.retrieve`), errors included, names
 * its id.
 */
export function nameMessagesRequestId(
  request: FastifyRequest,
  reply: FastifyReply,
  done: HookHandlerDoneFunction,
): void {
  if (isMessagesPath(request.url) || wantsAnthropicShape(request.headers)) {
    void reply.header(MESSAGES_REQUEST_ID_HEADER, request.id);
  }
  done();
}
