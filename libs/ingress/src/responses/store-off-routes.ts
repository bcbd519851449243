import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { DataPlaneError, DataPlaneErrorCode } from '@aigw/contracts/data-plane';
import { sendOpenAiError } from '../http/openai-errors';

/** The paths that read or write the response store, with their methods and what they keep. */
const STORE_PATHS: readonly (readonly [path: string, methods: readonly string[], kept: string])[] =
  [
    ['/responses/:id', ['GET', 'DELETE'], 'responses'],
    ['/responses/:id/input_items', ['GET'], 'responses'],
    ['/conversations', ['POST'], 'conversations'],
    ['/conversations/:id', ['GET', 'POST', 'DELETE'], 'conversations'],
    ['/conversations/:id/items', ['GET', 'POST'], 'conversations'],
    ['/conversations/:id/items/:item_id', ['GET', 'DELETE'], 'conversations'],
  ];

/**
 * With `AI_GATEWAY_RESPONSES_STORE=false`: stored responses and the Conversations API
 * answer the 400 that `previous_response_id` and `conversation` get on `POST /v1/responses`,
 * naming the store being off, not a 404 that reads as a wrong base URL or unknown id.
 */
export function registerStoreOffRoutes(fastify: FastifyInstance, prefix: string): void {
  for (const [path, methods, kept] of STORE_PATHS) {
    const refuse = (request: FastifyRequest, reply: FastifyReply) =>
      sendOpenAiError(reply, storeOff(kept), request.id);
    fastify.route({ method: [...methods], url: prefix + path, handler: refuse });
  }
}

function storeOff(kept: string): DataPlaneError {
  const what = kept === 'responses' ? 'responses to retrieve or delete' : kept;
  return new DataPlaneError(
    DataPlaneErrorCode.InvalidRequest,
    `This gateway's response store is off, so it keeps no ${what}; send the whole conversation in 'input'.`,
  );
}
