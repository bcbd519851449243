import { BatchBilling } from '../batch-billing';
import { BatchesApi } from '../batches-api';
import type { FilesAndBatchesOptions } from '../files-and-batches-options';
import { FilesApi } from '../files-api';
import type { HeldObjectCalls } from '../held-api';
import { MemoryHeldObjectStore } from '../held-objects';
import { HeldRecords } from '../held-records';
import { oneBatchRoute } from './one-batch-route';

/** For the batches specs: how long the gateway remembers what it holds (30 days). */
export const HELD_TTL_MS = 30 * 24 * 3600_000;

/** What the batches specs may set beside the backend: the store, the clock, more options. */
export interface BatchApisSetup extends Partial<
  Omit<FilesAndBatchesOptions, 'upstream' | 'store' | 'now'>
> {
  /** Absent: an empty one of 100 entries, 1 MB. */
  readonly store?: MemoryHeldObjectStore;
  /** The records' and billing's clock (Date.now unless given). */
  readonly now?: () => number;
}

/**
 * For the batches specs: the files and batches APIs on oneBatchRoute(), their calls to
 * the backend made on `upstream`, sharing one store, records and billing (no budgets,
 * no holds, usage events dropped unless `setup.publish` keeps them).
 */
export function batchApis(upstream: HeldObjectCalls, setup: BatchApisSetup = {}) {
  const { store: given, now = Date.now, ...more } = setup;
  const config = oneBatchRoute();
  const store = given ?? new MemoryHeldObjectStore({ maxEntries: 100, maxBytes: 1_000_000 });
  const options: FilesAndBatchesOptions = {
    config: () => config,
    upstream,
    store,
    ttlMs: HELD_TTL_MS,
    priceFactor: 0.5,
    publish: () => undefined,
    ...more,
  };
  const records = new HeldRecords(options, now);
  const billing = new BatchBilling(options, records, now);
  return {
    store,
    billing,
    files: new FilesApi(options, records, billing),
    batches: new BatchesApi(options, records, billing),
  };
}

/** For the batches specs' backends: a 200 answer carrying `body` (JSON unless a string). */
export function backendReply(body: unknown, contentType = 'application/json') {
  return {
    status: 200,
    contentType,
    body: Buffer.from(typeof body === 'string' ? body : JSON.stringify(body)),
  };
}
