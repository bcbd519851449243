import type { BackendIdentity, JsonObject } from '@aigw/contracts/data-plane';
import { requestCount, type BatchBilling } from './batch-billing';
import { BatchUsageTally, type BatchUsage } from './batch-jsonl';
import type {
  BatchFinished,
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

type MessageBillingOptions = Pick<FilesAndBatchesOptions, 'config'>;

/**
 * A message batch ended, as operators count it, in OpenAI's batch statuses: cancelled when
 * its owner cancelled it, expired when its window ended with requests unrun, else completed.
 */
function finishedMessageBatch(answer: JsonObject): BatchFinished {
  const expired = requestCount(answer, 'expired');
  return {
    status:
      typeof answer.cancel_initiated_at === 'string'
        ? 'cancelled'
        : expired > 0
          ? 'expired'
          : 'completed',
    completedRequests: requestCount(answer, 'succeeded'),
    failedRequests: requestCount(answer, 'errored') + expired,
  };
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
    const state = await this.billing.looked(
      record,
      {
        shown,
        // Anthropic bills succeeded requests only: a batch without one has nothing to bill.
        ending: !ended
          ? 'running'
          : requestCount(answer, 'succeeded') > 0
            ? 'billable'
            : 'unbilled',
        readUsage: () => this.readUsage(record),
        finished: ended ? finishedMessageBatch(answer) : undefined,
        endedIn: (object) => object.processing_status === 'ended',
      },
      trigger,
    );
    return { shown, state };
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

  /**
   * Whether a look at its backend may still find the batch changed or owing: not seen
   * ended, ended owing its bill, or ended with nothing to bill and its hold not yet given
   * back. One ended and settled is as last seen.
   */
  awaitsLook(record: HeldRecord): boolean {
    if (record.object.processing_status !== 'ended') return true;
    if (requestCount(record.object, 'succeeded') > 0) return this.owesBill(record);
    return record.reservationId !== undefined;
  }

  /** The usage of the batch's succeeded results, summed as they stream from the backend. */
  private async readUsage(record: HeldRecord): Promise<BatchUsage> {
    const identity = identityOf(this.options, record);
    const path = `/messages/batches/${enc(record.providerId)}/results`;
    return await this.billing.usageOf(record, path, async (body) => {
      const tally = new BatchUsageTally();
      const line = messageBatchResultLine(identity, tally);
      await forEachLine(body, (text) => void line(text));
      return tally.usage;
    });
  }
}
