import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { DataPlaneError, DataPlaneErrorCode } from '@aigw/contracts/data-plane';
import { sendOpenAiError } from '../http/openai-errors';
import { SERVED_PATHS } from '../http/public-paths';

/** The stored responses' paths; the Responses API's others read no store (responses-side-routes). */
const STORED_RESPONSE_PATHS = new Set(['/responses/:id', '/responses/:id/input_items']);

/** What the response store keeps at a served path, or undefined for a path it has no part in. */
function keptAt(path: string): 'responses' | 'conversations' | undefined {
  if (STORED_RESPONSE_PATHS.has(path)) return 'responses';
  if (path.startsWith('/conversations')) return 'conversations';
  return undefined;
}

/**
 * With `AI_GATEWAY_RESPONSES_STORE=false`: stored responses and the Conversations API
 * answer the 400 that `previous_response_id` and `conversation` get on `POST /v1/responses`,
 * naming the store being off, not a 404 that reads as a wrong base URL or unknown id.
 * Their paths and methods are SERVED_PATHS', as the store's own routes are.
 */
export function registerStoreOffRoutes(fastify: FastifyInstance, prefix: string): void {
  for (const [path, methods] of SERVED_PATHS) {
    const kept = keptAt(path);
    if (kept === undefined) continue;
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
