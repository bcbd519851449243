import { DataPlaneError, DataPlaneErrorCode } from '@aigw/contracts/data-plane';

/** How long a client is asked to wait when the store cannot be reached. */
const STORE_RETRY_AFTER_MS = 1_000;

/**
 * The store of responses, conversations, files or batches did not answer (Redis away):
 * the gateway's trouble, so a 503 to retry (`response_store_unavailable`,
 * `conversation_store_unavailable`, `file_store_unavailable`, `batch_store_unavailable`),
 * not a 500 that reads as a bug nor a 404 that says the object is gone.
 */
export function storeUnavailable(
  kept: 'response' | 'conversation' | 'file' | 'batch',
  cause: unknown,
): DataPlaneError {
  return new DataPlaneError(
    DataPlaneErrorCode.NoBackendAvailable,
    `The gateway could not reach its store of ${kept}s. Try again shortly.`,
    { upstreamCode: `${kept}_store_unavailable`, retryAfterMs: STORE_RETRY_AFTER_MS, cause },
  );
}

/** Whether `error` is one of these 503s (a store, not a backend, failed). */
export function isStoreUnavailable(error: DataPlaneError): boolean {
  return error.upstreamCode?.endsWith('_store_unavailable') === true;
}
