import {
  backendsForModel,
  routeForModel,
  upstreamModel,
  type BackendConfig,
  type GatewayConfig,
} from '@aigw/config';
import { DataPlaneError, DataPlaneErrorCode, modelNotServed } from '@aigw/contracts/data-plane';

/** The providers whose Files and Batch APIs the gateway passes through. */
const HOLDING_PROVIDERS: ReadonlySet<string> = new Set(['openai', 'azure']);

/** A backend able to hold files and run batches, as its calls need it. */
export interface HoldingBackend {
  readonly route: string;
  readonly backend: BackendConfig;
  /** The model this backend runs for the client's model. */
  readonly upstreamModel: string;
}

/**
 * The backend a file or batch for `model` goes to: the first OpenAI or Azure OpenAI
 * backend of the model's chain, by priority (a batch runs at one provider, so there is no
 * failover). 404 for a model no route serves; 400 when its chain has no such backend.
 */
export function holdingBackendFor(config: GatewayConfig, model: string): HoldingBackend {
  const route = routeForModel(config, model);
  if (!route) {
    throw modelNotServed(model);
  }
  const backend = backendsForModel(route, model).find((b) => HOLDING_PROVIDERS.has(b.provider));
  if (!backend) {
    throw new DataPlaneError(
      DataPlaneErrorCode.InvalidRequest,
      `The model "${model.slice(0, 128)}" has no OpenAI or Azure OpenAI backend: files and batches are served by those providers only.`,
      { param: 'model' },
    );
  }
  return { route: route.name, backend, upstreamModel: upstreamModel(backend, model) };
}

/** The backend named by a held object's id, if the configuration still has it. */
export function heldBackend(
  config: GatewayConfig,
  routeName: string,
  backendName: string,
): BackendConfig | undefined {
  const route = config.routes.find((r) => r.name === routeName);
  return route?.backends.find((b) => b.name === backendName && HOLDING_PROVIDERS.has(b.provider));
}
