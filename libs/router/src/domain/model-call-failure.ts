import { DataPlaneError, DataPlaneErrorCode } from '@aigw/contracts/data-plane';

/**
 * The 404 rule of failover. Every call this router makes is a model call (chat,
 * completions, embeddings, Messages and Gemini requests, realtime sessions...), sent to a
 * model or deployment the backend's configuration names: a backend answering 404 lacks it,
 * which is that backend's configuration fault, not the client's. Such a 404 becomes the
 * backend's error (502, the `error` trigger), so the route fails over to a backend that has
 * the model. Held-object calls (files, batches, stored responses) never come through the
 * router: their ids live at one backend, so their 404 stays the client's and nothing else
 * is tried (`HeldObjectUpstream`). A wildcard backend (no `model` in its configuration)
 * sends the model the client named: its 404 is the client's (a model that does not exist),
 * which must neither fail over nor cool the backend for every other caller, and reaches it
 * as the 404 the provider sent (Azure's `DeploymentNotFound`, OpenAI's `model_not_found`),
 * which SDKs raise as not found, not as a 400 for a malformed request.
 */
export function modelCallFailure(error: unknown, backend: { readonly model?: string }): unknown {
  if (
    !(error instanceof DataPlaneError) ||
    error.code !== DataPlaneErrorCode.UpstreamRejected ||
    error.upstreamStatus !== 404
  ) {
    return error;
  }
  if (backend.model === undefined) {
    return new DataPlaneError(DataPlaneErrorCode.NotFound, error.message, {
      upstreamStatus: error.upstreamStatus,
      upstreamCode: error.upstreamCode,
      param: error.param,
      cause: error,
    });
  }
  return new DataPlaneError(DataPlaneErrorCode.UpstreamError, error.message, {
    upstreamStatus: error.upstreamStatus,
    retryAfterMs: error.retryAfterMs,
    cause: error,
  });
}
