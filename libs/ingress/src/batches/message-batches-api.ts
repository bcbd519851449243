import { pipeline, type Readable } from 'node:stream';
import type { FastifyReply, FastifyRequest } from 'fastify';
import {
  DataPlaneError,
  DataPlaneErrorCode,
  modelNotServed,
  type JsonObject,
} from '@aigw/contracts/data-plane';
import { dropStalledPipeReader } from '@aigw/infra/http';
import type { BatchBilling } from './batch-billing';
import type { FileBytesOutcome, FilesAndBatchesOptions } from './files-and-batches-options';
import {
  enc,
  invalid,
  isGoneAtBackend,
  jsonOf,
  type CallerOf,
  type Lister,
  type MayUse,
  type Query,
  type Screen,
  type Who,
} from './held-api';
import { messageBatchBackendFor } from './held-backend';
import { messageBatchHeaders } from './message-batch-headers';
import { heldOwnerOf, MAX_LISTED, type HeldRecord } from './held-objects';
import type { HeldRecords } from './held-records';
import { JsonlLineTransform } from './jsonl-lines';
import { listedBatches } from './listed-batches';
import { identityOf, MessageBatchBilling } from './message-batch-billing';
import { readMessageBatchRequests, screenMessageBatch, sentTo } from './message-batch-requests';
import { messageBatchResultLine } from './message-batch-results';
import { storeUnavailable } from '../responses/state/store-unavailable';
import { abandonUnkeptBatch } from './unkept-batch';

type MessageBatchesOptions = Pick<
  FilesAndBatchesOptions,
  | 'config'
  | 'store'
  | 'ttlMs'
  | 'defaultMaxOutputTokens'
  | 'onAction'
  | 'onFinished'
  | 'onFileBytes'
  | 'clientSendTimeoutMs'
  | 'onUnkeptBatch'
  | 'onError'
  | 'now'
>;

/** A request's output when it sets no max_tokens (Anthropic's require one: never, in practice). */
const DEFAULT_MAX_OUTPUT_TOKENS = 4096;
/** Anthropic's list `limit`: 1 to 1000, 20 unset. */
const LIST_LIMIT = { max: 1_000, unset: 20 };

/**
 * Anthropic's Message Batches API: a batch runs at the first Anthropic backend of its
 * model's chain, its requests' `params.model` the backend's name for the model, for its
 * creator only (another caller gets the 404 an unknown id gets). It is held against its
 * owner's budgets from creation and billed once when it ends, as an OpenAI batch is.
 */
export class MessageBatchesApi {
  readonly billing: MessageBatchBilling;

  constructor(
    private readonly options: MessageBatchesOptions,
    private readonly records: HeldRecords,
    private readonly batchBilling: BatchBilling,
  ) {
    this.billing = new MessageBatchBilling(options, records, batchBilling);
  }

  async create(
    request: FastifyRequest,
    callerOf: CallerOf,
    mayUse: MayUse,
    screen: Screen,
  ): Promise<JsonObject> {
    const { headers } = request;
    const read = readMessageBatchRequests(request.body);
    const { model } = read;
    const caller = await callerOf(model, headers);
    if (caller === undefined) throw modelNotServed(model);
    await mayUse(model, headers);
    const holding = messageBatchBackendFor(this.options.config(), model);
    const sentHeaders = messageBatchHeaders(headers, holding.stripHeaders);
    const { requests, estimate } = screenMessageBatch(
      model,
      read.requests,
      headers,
      screen,
      this.options.defaultMaxOutputTokens ?? DEFAULT_MAX_OUTPUT_TOKENS,
    );
    const { backend, route, upstreamModel } = holding;
    const tier = caller.tier;
    // What its budget checks, hold and bill read: a record not yet kept.
    const draft: HeldRecord = {
      id: '',
      kind: 'message_batch',
      ...heldOwnerOf(caller),
      model,
      upstreamModel,
      route,
      backend: backend.name,
      provider: backend.provider,
      providerId: '',
      createdAt: 0,
      object: {},
      estimate,
      ...(tier !== undefined && { tier }),
    };
    await this.batchBilling.checkBudget(draft, caller);
    const reservationId = await this.batchBilling.hold(draft, tier);
    let answer: JsonObject;
    try {
      answer = jsonOf(
        await this.records.refusalsNamed(
          draft,
          this.records.callAt(
            backend,
            route,
            'POST',
            '/messages/batches',
            {
              contentType: 'application/json',
              data: Buffer.from(JSON.stringify({ requests: sentTo(requests, upstreamModel) })),
            },
            sentHeaders,
          ),
        ),
      );
    } catch (error) {
      // No batch: the hold goes.
      await this.batchBilling.releaseHold(reservationId);
      throw error;
    }
    if (typeof answer.id !== 'string' || answer.id === '') {
      await this.batchBilling.releaseHold(reservationId);
      throw new DataPlaneError(
        DataPlaneErrorCode.UpstreamBadResponse,
        'The backend answered the message batch without an id',
      );
    }
    const providerId = answer.id;
    const { id: _id, createdAt: _at, provider: _provider, ...init } = draft;
    let batch: HeldRecord;
    try {
      batch = await this.records.keep({
        ...init,
        kind: 'message_batch',
        backend,
        providerId,
        ...(reservationId !== undefined && { reservationId }),
      });
    } catch (error) {
      await abandonUnkeptBatch(this.records, this.batchBilling, this.options, {
        kind: 'message_batch',
        route,
        backend,
        providerId,
        cancelPath: `/messages/batches/${enc(providerId)}/cancel`,
        reservationId,
        storeError: error,
      });
      throw storeUnavailable('batch', error);
    }
    // Indexed until billed, so the sweeper bills it when no client looks again.
    await this.options.store
      .addPending(batch.id, this.options.ttlMs)
      .catch((error: unknown) => this.options.onError?.('indexing a message batch to bill', error));
    try {
      return (await this.billing.seen(batch, answer, 'client_poll')).shown;
    } catch (error) {
      this.options.onError?.('recording a created message batch as first seen', error);
      return { ...answer, id: batch.id };
    }
  }

  async retrieve(request: FastifyRequest, who: Who): Promise<JsonObject> {
    const record = await this.records.owned('message_batch', request, who);
    return (await this.billing.seen(record, await this.fetched(record), 'client_poll')).shown;
  }

  async cancel(request: FastifyRequest, who: Who): Promise<JsonObject> {
    const record = await this.records.owned('message_batch', request, who);
    const answer = jsonOf(
      await this.records.call(record, 'POST', `/messages/batches/${enc(record.providerId)}/cancel`),
    );
    return (await this.billing.seen(record, answer, 'client_poll')).shown;
  }

  /**
   * The caller's batches, newest first: those still running or owing their bill as their
   * backend has them now (a few per list, listedBatches), the others as last seen.
   */
  async list(request: FastifyRequest, lister: Lister, who: Who): Promise<JsonObject> {
    const query = (request.query ?? {}) as Query;
    const records = await this.records.listed(
      'message_batch',
      MAX_LISTED,
      request.headers,
      lister,
      who,
    );
    const { page, hasMore } = pageOf(records, query);
    const data = await listedBatches(
      page,
      (record) => this.billing.awaitsLook(record),
      async (record) =>
        (await this.billing.seen(record, await this.fetched(record), 'client_poll')).shown,
      (error) => this.options.onError?.('refreshing a listed message batch', error),
    );
    return {
      data,
      has_more: hasMore,
      first_id: data[0]?.id ?? null,
      last_id: data.at(-1)?.id ?? null,
    };
  }

  /**
   * Deleted at its backend (which deletes ended batches only) and forgotten. Billed first
   * when it still owes its bill: once deleted, its results are gone, and it never could be.
   * A look that fails (its backend away) refuses the delete: the batch may have ended since
   * it was last seen, and its backend would delete it unbilled.
   */
  async delete(request: FastifyRequest, who: Who): Promise<JsonObject> {
    const record = await this.records.owned('message_batch', request, who);
    if (record.billed !== true && record.outputGone !== true) {
      try {
        await this.billing.check(record, 'delete');
      } catch (error) {
        this.options.onError?.('billing a message batch before it is deleted', error);
        // Gone at its backend: nothing is left to bill, and its DELETE answers for it.
        if (!isGoneAtBackend(error)) throw stillOwed(record.id);
      }
      const latest = await this.options.store.get(record.id);
      if (latest && this.billing.owesBill(latest)) throw stillOwed(record.id);
    }
    try {
      await this.records.call(record, 'DELETE', `/messages/batches/${enc(record.providerId)}`);
    } catch (error) {
      // Gone at its backend already (deleted there, past its retention): its 404 is the
      // answer, and the gateway forgets it too, else it stays listed with no way to remove it.
      if (isGoneAtBackend(error)) await this.forgetGone(record);
      throw error;
    }
    await this.forget(record);
    return { id: record.id, type: 'message_batch_deleted' };
  }

  private async forget(record: HeldRecord): Promise<void> {
    await this.options.store
      .delete(record)
      .catch((error: unknown) =>
        this.options.onError?.('forgetting a deleted message batch', error),
      );
    await this.batchBilling.unindex(record.id);
  }

  /**
   * A batch its backend no longer has, forgotten: never billed now, its hold is given back
   * as the sweeper gives back one it drops (a billed batch's was replaced by its bill; one
   * whose results were found gone keeps its to lapse, as billing left it).
   */
  private async forgetGone(record: HeldRecord): Promise<void> {
    const latest = (await this.options.store.get(record.id).catch(() => undefined)) ?? record;
    await this.forget(record);
    if (latest.billed !== true && latest.outputGone !== true) {
      await this.batchBilling.releaseHold(latest.reservationId);
    }
  }

  /**
   * The batch's results (JSONL) streamed from its backend, each line with the client's
   * model name; an error before the first bytes is still the client's error answer. A
   * client that stops reading them is dropped after the send timeout, as a file download is.
   */
  async results(request: FastifyRequest, reply: FastifyReply, who: Who): Promise<Readable> {
    const record = await this.records.owned('message_batch', request, who);
    const answer = await this.records.open(
      record,
      `/messages/batches/${enc(record.providerId)}/results`,
    );
    const lines = new JsonlLineTransform(messageBatchResultLine(identityOf(this.options, record)));
    let began = false;
    pipeline(answer.body, lines, (error) => {
      const outcome = streamOutcome(error);
      this.options.onFileBytes?.('download', outcome, lines.bytesRead);
      if (outcome === 'failed' && began) {
        this.options.onError?.('streaming message batch results to their client', error);
      }
    });
    await lines.firstOutput();
    began = true;
    void reply.header('content-type', answer.contentType);
    dropStalledPipeReader(lines, reply.raw, this.options.clientSendTimeoutMs);
    return lines;
  }

  private async fetched(record: HeldRecord): Promise<JsonObject> {
    return jsonOf(
      await this.records.call(record, 'GET', `/messages/batches/${enc(record.providerId)}`),
    );
  }
}

/**
 * One page of the caller's batches (newest first) as Anthropic pages: `limit`, and
 * `after_id` (older than it) or `before_id` (newer than it).
 */
function pageOf(
  records: readonly HeldRecord[],
  query: Query,
): { page: HeldRecord[]; hasMore: boolean } {
  const text = (name: string) => (typeof query[name] === 'string' ? query[name] : undefined);
  const limitText = text('limit');
  const limit = limitText === undefined ? LIST_LIMIT.unset : Number(limitText);
  if (!Number.isInteger(limit) || limit < 1 || limit > LIST_LIMIT.max) {
    throw invalid(`limit: must be a whole number from 1 to ${LIST_LIMIT.max}`, 'limit');
  }
  const at = (param: string, id: string) => {
    const found = records.findIndex((record) => record.id === id);
    if (found === -1) throw invalid(`${param}: no such id in your list`, param);
    return found;
  };
  const after = text('after_id');
  const before = text('before_id');
  if (before) {
    const end = at('before_id', before);
    const start = Math.max(0, end - limit);
    return { page: records.slice(start, end), hasMore: start > 0 };
  }
  const start = after ? at('after_id', after) + 1 : 0;
  return {
    page: records.slice(start, start + limit),
    hasMore: start + limit < records.length,
  };
}

/** Seconds a refused delete of an unbilled batch asks the client to wait. */
const DELETE_RETRY_SECONDS = 30;

/** A delete refused: the batch may still owe its bill, which a look just now could not settle. */
function stillOwed(batchId: string): DataPlaneError {
  return new DataPlaneError(
    DataPlaneErrorCode.NoBackendAvailable,
    `The message batch ${batchId} has not been billed yet: the gateway could not read it or its results from its backend to bill it. Try again later.`,
    { upstreamCode: 'batch_output_unbilled', retryAfterMs: DELETE_RETRY_SECONDS * 1000 },
  );
}

/** How a streamed results file ended: read whole, cut by its reader hanging up, or failed. */
function streamOutcome(error: unknown): FileBytesOutcome {
  if (!error) return 'complete';
  return (error as { code?: unknown }).code === 'ERR_STREAM_PREMATURE_CLOSE' ? 'aborted' : 'failed';
}
