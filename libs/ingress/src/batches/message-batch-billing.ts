import type { BackendIdentity, JsonObject } from '@aigw/contracts/data-plane';
import type { BatchBilling } from './batch-billing';
import { BatchUsageTally, type BatchUsage } from './batch-jsonl';
import type {
  BatchState,
  BillingTrigger,
  FilesAndBatchesOptions,
} from './files-and-batches-options';
import { enc, jsonOf } from './held-api';
import { heldBackend } from './held-backend';
import type { HeldRecord } from './held-objects';
import type { HeldRecords } from './held-records';
import { forEachLine } from './jsonl-lines';
import { messageBatchResultLine } from './message-batch-results';

type MessageBillingOptions = Pick<
  FilesAndBatchesOptions,
  'config' | 'store' | 'ttlMs' | 'onFinished' | 'onFileBytes' | 'onError'
>;

const isObject = (value: unknown): value is JsonObject =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** A count of a batch's `request_counts` (0 when absent or not a count). */
function requestCount(answer: JsonObject, key: string): number {
  const counts = answer.request_counts;
  const value = isObject(counts) ? counts[key] : undefined;
  return typeof value === 'number' && Number.isFinite(value) && value > 0 ? Math.floor(value) : 0;
}

/** Where a message batch's results are read through the gateway (the SDK joins it to its base URL). */
export function resultsPath(batchId: string): string {
  return `/v1/messages/batches/${enc(batchId)}/results`;
}

/** The backend's message batch as its owner sees it: the gateway's id and results URL. */
export function shownMessageBatch(record: HeldRecord, answer: JsonObject): JsonObject {
  const hasResults = typeof answer.results_url === 'string' && answer.results_url !== '';
  return {
    ...answer,
    id: record.id,
    results_url: hasResults ? resultsPath(record.id) : null,
  };
}

/** What a model named in a batch's results may not tell its owner: the backend's model and host. */
export function identityOf(
  options: Pick<FilesAndBatchesOptions, 'config'>,
  record: HeldRecord,
): BackendIdentity {
  const backend = heldBackend(options.config(), record.route, record.backend);
  return {
    sentModel: record.upstreamModel,
    requestedModel: record.model,
    ...(backend?.baseUrl !== undefined && { baseUrl: backend.baseUrl }),
  };
}

/**
 * An Anthropic message batch's billing, as an OpenAI batch's is (BatchBilling): every look
 * remembers how it is; the first look that sees it ended bills it once, from its results'
 * usage at the batch price; one that ended with no request succeeded gives its hold back.
 */
export class MessageBatchBilling {
  constructor(
    private readonly options: MessageBillingOptions,
    private readonly records: HeldRecords,
    private readonly billing: BatchBilling,
  ) {}

  /** The sweeper's look (or a delete's): retrieved from its backend and billed if ended. */
  async check(record: HeldRecord, trigger: BillingTrigger = 'sweeper'): Promise<BatchState> {
    const answer = jsonOf(
      await this.records.call(record, 'GET', `/messages/batches/${enc(record.providerId)}`),
    );
    return (await this.seen(record, answer, trigger)).state;
  }

  async seen(
    record: HeldRecord,
    answer: JsonObject,
    trigger: BillingTrigger,
  ): Promise<{ shown: JsonObject; state: BatchState }> {
    const shown = shownMessageBatch(record, answer);
    const ended = answer.processing_status === 'ended';
    // Anthropic bills succeeded requests only: a batch without one has nothing to bill.
    const billable = ended && requestCount(answer, 'succeeded') > 0;
    const unbilled = ended && !billable;
    const { reservationId, ...kept } = record;
    // Given back before the record forgets it (as BatchBilling.seenBatch does).
    const released = unbilled && (await this.billing.releaseHold(reservationId));
    const latest = await this.options.store.get(record.id);
    await this.countFinished(record, latest, answer);
    const billed = record.billed === true || latest?.billed === true;
    const outputGone = record.outputGone === true || latest?.outputGone === true;
    await this.options.store.put(
      {
        ...(released ? kept : record),
        ...(billed && { billed }),
        ...(outputGone && { outputGone }),
        object: shown,
      },
      this.options.ttlMs,
    );
    if (billable) {
      if (billed || outputGone) return { shown, state: 'finished' };
      const state = await this.billing.settle(record, () => this.readUsage(record), trigger);
      return { shown, state };
    }
    if (unbilled) {
      if (released) await this.billing.unindex(record.id);
      return { shown, state: 'finished' };
    }
    return { shown, state: 'in_progress' };
  }

  /** Whether the batch still owes its bill: ended with requests that succeeded, not billed. */
  owesBill(record: HeldRecord): boolean {
    return (
      record.billed !== true &&
      record.outputGone !== true &&
      record.object.processing_status === 'ended' &&
      requestCount(record.object, 'succeeded') > 0
    );
  }

  /** A message batch ended, counted once across looks and replicas (metrics). */
  private async countFinished(
    record: HeldRecord,
    latest: HeldRecord | undefined,
    answer: JsonObject,
  ): Promise<void> {
    const { onFinished, store, ttlMs } = this.options;
    if (!onFinished || answer.processing_status !== 'ended') return;
    if ((latest ?? record).object.processing_status === 'ended') return;
    try {
      if (!(await store.claim(`finished:${record.id}`, ttlMs))) return;
    } catch (error) {
      this.options.onError?.('counting a finished message batch', error);
      return;
    }
    // Named as OpenAI's batch statuses are: cancelled when its owner cancelled it, expired
    // when its window ended with requests unrun, else completed.
    const expired = requestCount(answer, 'expired');
    const status =
      typeof answer.cancel_initiated_at === 'string'
        ? 'cancelled'
        : expired > 0
          ? 'expired'
          : 'completed';
    onFinished({
      status,
      completedRequests: requestCount(answer, 'succeeded'),
      failedRequests: requestCount(answer, 'errored') + expired,
    });
  }

  /** The usage of the batch's results, summed as they stream from the backend. */
  private async readUsage(record: HeldRecord): Promise<BatchUsage> {
    const answer = await this.records.open(
      record,
      `/messages/batches/${enc(record.providerId)}/results`,
    );
    const tally = new BatchUsageTally();
    const line = messageBatchResultLine(identityOf(this.options, record), tally);
    let bytes = 0;
    const counted = async function* (source: AsyncIterable<Uint8Array>) {
      for await (const chunk of source) {
        bytes += chunk.length;
        yield chunk;
      }
    };
    try {
      await forEachLine(counted(answer.body), (text) => void line(text));
      this.options.onFileBytes?.('billing', 'complete', bytes);
      return tally.usage;
    } catch (error) {
      this.options.onFileBytes?.('billing', 'failed', bytes);
      throw error;
    } finally {
      answer.body.destroy();
    }
  }
}
