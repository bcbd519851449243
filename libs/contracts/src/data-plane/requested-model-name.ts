import type { GatewayRequest, JsonObject } from './data-plane.types';

/**
 * Names a JSON answer's body for the model the client asked for: chat and completions
 * answers always name a model; others (embeddings, audio) only when they did. The router
 * names every answer so; the provider-adapter names it first, so a router finds nothing to
 * change and relays the body as the text it came as.
 */
export function nameForRequestedModel(
  body: JsonObject,
  request: Pick<GatewayRequest, 'operation' | 'requestedModel'>,
): void {
  const namesModel = request.operation === 'chat' || request.operation === 'completions';
  if (namesModel || body.model !== undefined) body.model = request.requestedModel;
}
