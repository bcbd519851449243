import {
  DataPlaneError,
  textWithoutBackendIdentity,
  type GatewayRequest,
  type UpstreamTarget,
} from '@aigw/contracts/data-plane';

/** The call whose backend an error may not name: what it was sent, where, for what. */
export interface CalledBackend {
  readonly request: Pick<GatewayRequest, 'requestedModel'>;
  readonly target: Pick<UpstreamTarget, 'model' | 'baseUrl' | 'vertex'>;
}

/** A provider's error text as the client of this call may see it. */
export function textWithoutCalledBackend(text: string, called: CalledBackend): string {
  return textWithoutBackendIdentity(text, {
    sentModel: called.target.model,
    requestedModel: called.request.requestedModel,
    project: called.target.vertex?.project,
    baseUrl: called.target.baseUrl,
  });
}

/**
 * The error a client may see for a call to `called`: its message without the backend's
 * model, account, project or host. The error is changed in place (its type, status and
 * fields stay); anything not a DataPlaneError is returned as it is.
 */
export function withoutBackendIdentity<E>(error: E, called: CalledBackend): E {
  if (error instanceof DataPlaneError) {
    const hidden = textWithoutCalledBackend(error.message, called);
    if (hidden !== error.message) error.message = hidden;
  }
  return error;
}
