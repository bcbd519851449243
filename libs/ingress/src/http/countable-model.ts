import {
  DataPlaneError,
  DataPlaneErrorCode,
  type GatewayRequest,
} from '@aigw/contracts/data-plane';
import type { IngressPipeline } from '../ingress-pipeline';

/**
 * A token count routes nothing, so the router's model checks never see it: made here as
 * the router makes them for a call (`planBackendChain`), in the same order and words, so
 * counting refuses a model exactly as generating would (a tier's forbidden model 403,
 * a name no route serves 404).
 */
export function refuseUncountableModel(pipeline: IngressPipeline, request: GatewayRequest): void {
  const model = request.requestedModel;
  const allowed = request.allowedModels;
  if (allowed.length > 0 && !allowed.includes(model)) {
    throw new DataPlaneError(
      DataPlaneErrorCode.ModelNotAllowed,
      `your plan does not allow the model "${model}"`,
      { param: 'model' },
    );
  }
  if (!pipeline.servesModel(model)) {
    throw new DataPlaneError(
      DataPlaneErrorCode.ModelNotFound,
      `The model "${model}" does not exist or is not served by this gateway`,
      { param: 'model' },
    );
  }
}
