import { DataPlaneError, DataPlaneErrorCode } from '@aigw/contracts/data-plane';
import { takeSpentUsage, withSpentUsage } from '../core/spent-usage';

/**
 * Vertex's refusal of a model the backend's project may not use (400 FAILED_PRECONDITION,
 * "Project `p` is not allowed to use Publisher Model `projects/p/.../models/m`"), its
 * answer until the model is enabled in Model Garden for that project. Only its words tell
 * it from the client's 400s: the error carries the status, not Google's `status` name.
 */
const PROJECT_MAY_NOT_USE_MODEL =
  /^backend "[^"]*" answered 400: Project `[^`]*` is not allowed to use Publisher Model\b/;

/**
 * A project refused the model becomes the backend's error (a 502 that fails over), as a
 * 404 for a model the backend lacks does: the backend's configuration is at fault, and
 * another backend (another project, region or provider) may serve the request. Any other
 * error is returned as it is.
 */
export function withProjectRefusalAsBackendError(error: unknown): unknown {
  if (
    !(error instanceof DataPlaneError) ||
    error.code !== DataPlaneErrorCode.UpstreamRejected ||
    !PROJECT_MAY_NOT_USE_MODEL.test(error.message)
  ) {
    return error;
  }
  const backendError = new DataPlaneError(DataPlaneErrorCode.UpstreamError, error.message, {
    upstreamStatus: error.upstreamStatus,
    retryAfterMs: error.retryAfterMs,
    cause: error,
  });
  // What calls of the request that answered cost is still recorded.
  const spent = takeSpentUsage(error);
  return spent === undefined ? backendError : withSpentUsage(backendError, spent);
}
