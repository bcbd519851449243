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
/** Every provider a held object may live at: Anthropic holds message batches. */
const HELD_AT_PROVIDERS: ReadonlySet<string> = new Set([...HOLDING_PROVIDERS, 'anthropic']);

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
  return route?.backends.find((b) => b.name === backendName && HELD_AT_PROVIDERS.has(b.provider));
}

/** An Anthropic backend a message batch runs at, and its route's header rules. */
export interface MessageBatchBackend extends HoldingBackend {
  /** The client headers its route keeps from backends (`security.stripHeaders`). */
  readonly stripHeaders: readonly string[];
}

/**
 * The backend a message batch for `model` runs at: the first Anthropic backend of the
 * model's chain, by priority (no failover: a batch runs at one backend). 404 for a model
 * no route serves; 400 when its chain has no Anthropic backend.
 */
export function messageBatchBackendFor(config: GatewayConfig, model: string): MessageBatchBackend {
  const route = routeForModel(config, model);
  if (!route) {
    throw modelNotServed(model);
  }
  const backend = backendsForModel(route, model).find((b) => b.provider === 'anthropic');
  if (!backend) {
    throw new DataPlaneError(
      DataPlaneErrorCode.InvalidRequest,
      `requests.0.params.model: the model "${model.slice(0, 128)}" has no Anthropic backend: message batches run at Anthropic backends only (send these requests one by one to /v1/messages, or use the OpenAI Batch API at /v1/batches for OpenAI and Azure OpenAI backends).`,
      { param: 'requests.0.params.model' },
    );
  }
  return {
    route: route.name,
    backend,
    upstreamModel: upstreamModel(backend, model),
    stripHeaders: route.security.stripHeaders,
  };
}
