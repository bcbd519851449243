import { type GatewayRequest, modelNotAllowed, modelNotServed } from '@aigw/contracts/data-plane';
import type { IngressPipeline } from '../ingress-pipeline';

/**
 * A token count routes nothing, so the router's model checks never see it: made here as
 * the router makes them for a call (`planBackendChain`), in the same order and with the
 * same errors, so counting refuses a model exactly as generating would (a tier's forbidden
 * model 403, a name no route serves 404).
 */
export function refuseUncountableModel(pipeline: IngressPipeline, request: GatewayRequest): void {
  const model = request.requestedModel;
  const allowed = request.allowedModels;
  if (allowed.length > 0 && !allowed.includes(model)) {
    throw modelNotAllowed(model);
  }
  if (!pipeline.servesModel(model)) {
    throw modelNotServed(model);
  }
}
