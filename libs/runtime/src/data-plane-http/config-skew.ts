import { DataPlaneError, DataPlaneErrorCode } from '@aigw/contracts/data-plane';

/**
 * The Retry-After of a model the router does not serve yet: a reload reaches each service
 * within about a second once its file changed (a ConfigMap's own delay aside).
 */
export const CONFIG_SKEW_RETRY_AFTER_MS = 2_000;

/** The ingress's own view of the config, to tell the router's "not served" apart. */
export interface ConfigSkewCheck {
  /** Whether the ingress's own config serves `model`. */
  readonly serves: (model: string) => boolean;
  /** Told each time the router did not serve a model this ingress serves. */
  readonly onConfigSkew?: (model: string) => void;
}

/**
 * The router's "model not served" for a model the ingress serves: one of the two has not
 * reloaded the config the other runs (a model added, or the ingress behind on a removal).
 * A 503 with Retry-After, which SDKs retry, not the 404 they raise at once and callers
 * read as the model not existing. Any other error is passed on as it came.
 */
export function routerConfigSkew(error: unknown, model: string, check: ConfigSkewCheck): unknown {
  if (
    !(error instanceof DataPlaneError) ||
    error.code !== DataPlaneErrorCode.ModelNotFound ||
    error.param !== 'model' ||
    !check.serves(model)
  ) {
    return error;
  }
  check.onConfigSkew?.(model);
  return new DataPlaneError(
    DataPlaneErrorCode.NoBackendAvailable,
    `the model "${model.slice(0, 256)}" is not served yet: the gateway's services are ` +
      'loading a new configuration; retry shortly',
    { retryAfterMs: CONFIG_SKEW_RETRY_AFTER_MS, cause: error },
  );
}
