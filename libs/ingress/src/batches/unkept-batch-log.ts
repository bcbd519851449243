import type { Logger } from '@aigw/observability';
import type { UnkeptBatch } from './files-and-batches-options';

/** A failure as logged: a backend URL or Redis URL may carry a secret, so its kind and code only. */
export function errorKind(error: unknown): { reason: string; code: unknown } {
  return {
    reason: error instanceof Error ? error.name : 'unknown',
    code: (error as { code?: unknown } | undefined)?.code,
  };
}

/**
 * A batch its backend made but the gateway could not remember, logged with its backend id
 * (the gateway's id was never made, nor seen by the client): a warning when it was
 * cancelled there, which needs no one; an error when it runs on, for an operator to cancel.
 */
export function logUnkeptBatch(logger: Pick<Logger, 'warn' | 'error'>, unkept: UnkeptBatch): void {
  const fields = {
    route: unkept.route,
    backend: unkept.backend,
    backendBatchId: unkept.backendBatchId,
    ...errorKind(unkept.storeError),
  };
  if (unkept.cancelled) {
    logger.warn(
      'batch created but not remembered (its store away): cancelled at its backend',
      fields,
    );
    return;
  }
  const cancel = errorKind(unkept.cancelError);
  logger.error(
    'batch created but not remembered (its store away), and cancelling it at its backend failed: it runs there billed to no one; cancel it by hand',
    {
      ...fields,
      cancelReason: cancel.reason,
      cancelCode: cancel.code,
      // The backend's answer: one that already ended cannot be cancelled, nor needs to be.
      cancelStatus: (unkept.cancelError as { upstreamStatus?: unknown } | undefined)
        ?.upstreamStatus,
    },
  );
}
