import type { BackendConfig } from '@aigw/config';
import type { BatchBilling } from './batch-billing';
import type { FilesAndBatchesOptions } from './files-and-batches-options';
import type { HeldRecords } from './held-records';

/** A batch its backend made that the gateway could not remember (its store away). */
export interface UnkeptAtBackend {
  readonly kind: 'batch' | 'message_batch';
  readonly route: string;
  readonly backend: BackendConfig;
  /** The backend's id for it, which an operator cancels it by. */
  readonly providerId: string;
  /** Its cancel at the backend (`/batches/{id}/cancel`, `/messages/batches/{id}/cancel`). */
  readonly cancelPath: string;
  readonly reservationId: string | undefined;
  readonly storeError: unknown;
}

/**
 * An unkept batch given up: no look would bill it, its owner could neither read nor cancel
 * it, and the client's retry makes another. Cancelled at its backend and its hold given
 * back: it never ran for the client. A cancel that fails leaves it running, reported (with
 * its backend id) for an operator.
 */
export async function abandonUnkeptBatch(
  records: HeldRecords,
  billing: BatchBilling,
  options: Pick<FilesAndBatchesOptions, 'onAction' | 'onUnkeptBatch'>,
  unkept: UnkeptAtBackend,
): Promise<void> {
  const { kind, route, backend, providerId } = unkept;
  let cancelled = true;
  let cancelError: unknown;
  try {
    await records.callAt(backend, route, 'POST', unkept.cancelPath);
  } catch (error) {
    cancelled = false;
    cancelError = error;
  }
  options.onAction?.(kind, 'unkept_cancel', cancelled ? 'ok' : 'upstream_error');
  options.onUnkeptBatch?.({
    route,
    backend: backend.name,
    backendBatchId: providerId,
    cancelled,
    storeError: unkept.storeError,
    ...(!cancelled && { cancelError }),
  });
  await billing.releaseHold(unkept.reservationId);
}
