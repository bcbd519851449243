import type { FastifyRequest } from 'fastify';
import type { BackendConfig } from '@aigw/config';
import { DataPlaneError, DataPlaneErrorCode, type JsonObject } from '@aigw/contracts/data-plane';
import { shownBatch, type BatchBilling } from './batch-billing';
import { BATCH_ENDPOINTS, canonicalBatchUrl } from './batch-urls';
import type { FilesAndBatchesOptions } from './files-and-batches-options';
import {
  enc,
  invalid,
  jsonOf,
  listPage,
  type CallerOf,
  type Lister,
  type MayUse,
  type Query,
  type Who,
} from './held-api';
import { MAX_LISTED, type HeldRecord } from './held-objects';
import type { HeldRecords } from './held-records';
import { listedBatches } from './listed-batches';
import { storeUnavailable } from '../responses/state/store-unavailable';
import { abandonUnkeptBatch } from './unkept-batch';

type BatchesOptions = Pick<
  FilesAndBatchesOptions,
  'store' | 'ttlMs' | 'onAction' | 'onUnkeptBatch' | 'onError'
>;

/**
 * OpenAI's Batch API: a batch runs at the backend holding its input file, for the file's
 * owner only; every look at one shows it with the gateway's ids and bills it if finished.
 */
export class BatchesApi {
  constructor(
    private readonly options: BatchesOptions,
    private readonly records: HeldRecords,
    private readonly billing: BatchBilling,
  ) {}

  async createBatch(
    request: FastifyRequest,
    who: Who,
    mayUse: MayUse,
    callerOf: CallerOf,
  ): Promise<JsonObject> {
    const body = request.body as JsonObject | undefined;
    if (!body || typeof body !== 'object' || Array.isArray(body)) {
      throw invalid('The request body must be a JSON object');
    }
    const {
      input_file_id: fileId,
      completion_window: window,
      metadata,
      output_expires_after: outputExpiry,
    } = body;
    // Azure's `/chat/completions` is OpenAI's `/v1/chat/completions`, as its file's lines are.
    const endpoint = canonicalBatchUrl(body.endpoint);
    if (typeof fileId !== 'string' || fileId === '') {
      throw invalid("Missing required parameter: 'input_file_id'.", 'input_file_id');
    }
    if (typeof endpoint !== 'string' || !BATCH_ENDPOINTS.has(endpoint)) {
      throw invalid(
        `Invalid value for 'endpoint': this gateway batches ${[...BATCH_ENDPOINTS].join(', ')}.`,
        'endpoint',
      );
    }
    if (window !== '24h') {
      throw invalid(
        "Invalid value for 'completion_window': it must be '24h'.",
        'completion_window',
      );
    }
    if (metadata !== undefined && metadata !== null && typeof metadata !== 'object') {
      throw invalid("Invalid value for 'metadata': it must be an object.", 'metadata');
    }
    if (
      outputExpiry !== undefined &&
      (typeof outputExpiry !== 'object' || Array.isArray(outputExpiry))
    ) {
      throw invalid(
        "Invalid value for 'output_expires_after': it must be an object {anchor, seconds}.",
        'output_expires_after',
      );
    }
    const file = await this.records.ownedRecord(
      'file',
      fileId,
      request.headers,
      who,
      'input_file_id',
    );
    // OpenAI's rule, and the gateway's too: only a batch upload's lines were screened and
    // estimated. The purpose the backend reports is not enough (it may read one the gateway
    // did not take as exactly 'batch'): the gateway's own record must say it read them.
    if (!isScreenedBatchInput(file)) {
      throw invalid(
        `Invalid value for 'input_file_id': the file ${fileId.slice(0, 128)} was not uploaded through this gateway as a batch input file (its lines screened and estimated): a batch's input file must be uploaded with purpose 'batch'; upload it again.`,
        'input_file_id',
      );
    }
    // Its lines were estimated (and screened) as their urls say: a batch running them as
    // another endpoint would be held for the wrong work (chat output as embeddings' none).
    const otherUrl = file.estimate?.urls?.find((url) => url !== endpoint);
    if (otherUrl !== undefined) {
      throw invalid(
        `Invalid value for 'endpoint': every line of the input file must have the url '${endpoint}', and one has '${otherUrl.slice(0, 64)}'.`,
        'endpoint',
      );
    }
    await mayUse(file.model, request.headers);
    // The file's owner (just checked) with the tier the route gives them now.
    const caller = await callerOf(file.model, request.headers);
    const tier = caller?.tier;
    await this.billing.checkBudget(file, caller);
    // The batch is made, remembered and, were it not remembered, cancelled at one backend.
    const backend = this.records.backendOf(file);
    const reservationId = await this.billing.hold(file, tier);
    const sent: JsonObject = {
      input_file_id: file.providerId,
      endpoint,
      completion_window: window,
      ...(metadata ? { metadata } : {}),
      // When the backend drops the output files (their owners are remembered apart).
      ...(outputExpiry ? { output_expires_after: outputExpiry } : {}),
    };
    let submitted: { answer: JsonObject; providerId: string };
    try {
      submitted = await this.submit(file, backend, sent);
    } catch (error) {
      // No batch: the hold goes.
      if (reservationId !== undefined) await this.billing.releaseHold(reservationId);
      throw error;
    }
    const { answer, providerId } = submitted;
    let batch: HeldRecord;
    try {
      batch = await this.remember(file, backend, tier, reservationId, providerId);
    } catch (error) {
      await abandonUnkeptBatch(this.records, this.billing, this.options, {
        kind: 'batch',
        route: file.route,
        backend,
        providerId,
        cancelPath: `/batches/${enc(providerId)}/cancel`,
        reservationId,
        storeError: error,
      });
      throw storeUnavailable('batch', error);
    }
    // Indexed until billed, so the sweeper bills it when no client looks again.
    await this.options.store
      .addPending(batch.id, this.options.ttlMs)
      .catch((error: unknown) => this.options.onError?.('indexing a batch to bill', error));
    try {
      return (await this.billing.seenBatch(batch, answer, 'client_poll')).shown;
    } catch (error) {
      // Remembered (and indexed, unless that failed too): the batch is the client's, and
      // the next look records what this one could not. An error here would have the
      // client's retry make a second batch.
      this.options.onError?.('recording a created batch as first seen', error);
      return shownBatch(batch, answer);
    }
  }

  /** The batch created at the file's backend: its answer and the backend's id for it. */
  private async submit(
    file: HeldRecord,
    backend: BackendConfig,
    sent: JsonObject,
  ): Promise<{ answer: JsonObject; providerId: string }> {
    const answer = jsonOf(
      await this.records.refusalsNamed(
        file,
        this.records.callAt(backend, file.route, 'POST', '/batches', {
          contentType: 'application/json',
          data: Buffer.from(JSON.stringify(sent)),
        }),
      ),
    );
    if (typeof answer.id !== 'string' || answer.id === '') {
      throw new DataPlaneError(
        DataPlaneErrorCode.UpstreamBadResponse,
        'The backend answered the batch without an id',
      );
    }
    return { answer, providerId: answer.id };
  }

  /** The created batch remembered as its owner's, with its hold. */
  private async remember(
    file: HeldRecord,
    backend: BackendConfig,
    tier: string | undefined,
    reservationId: string | undefined,
    providerId: string,
  ): Promise<HeldRecord> {
    return await this.records.keep({
      kind: 'batch',
      owner: file.owner,
      // The user id its bill names, kept apart where the owner key is qualified.
      ...(file.userId !== undefined && { userId: file.userId }),
      model: file.model,
      upstreamModel: file.upstreamModel,
      route: file.route,
      backend,
      providerId,
      ...(tier !== undefined && { tier }),
      ...(reservationId !== undefined && { reservationId }),
      object: {},
    });
  }

  async listBatches(request: FastifyRequest, lister: Lister, who: Who): Promise<JsonObject> {
    const query = (request.query ?? {}) as Query;
    // The whole index, not one page's worth: `after` pages on past the newest hundred.
    const records = await this.records.listed('batch', MAX_LISTED, request.headers, lister, who);
    const page = listPage(records, query, (record) => record.id);
    // Those whose status may still move as the backend has them now, a few per list.
    const data = await listedBatches(
      page.data as HeldRecord[],
      (record) => this.billing.awaitsLook(record),
      async (record) => {
        const answer = jsonOf(
          await this.records.call(record, 'GET', `/batches/${enc(record.providerId)}`),
        );
        return (await this.billing.seenBatch(record, answer, 'client_poll')).shown;
      },
      (error) => this.options.onError?.('refreshing a listed batch', error),
    );
    return { ...page, data, first_id: data[0]?.id ?? null, last_id: data.at(-1)?.id ?? null };
  }

  async retrieveBatch(request: FastifyRequest, who: Who): Promise<JsonObject> {
    const record = await this.records.owned('batch', request, who);
    const answer = jsonOf(
      await this.records.call(record, 'GET', `/batches/${enc(record.providerId)}`),
    );
    return (await this.billing.seenBatch(record, answer, 'client_poll')).shown;
  }

  async cancelBatch(request: FastifyRequest, who: Who): Promise<JsonObject> {
    const record = await this.records.owned('batch', request, who);
    const answer = jsonOf(
      await this.records.call(record, 'POST', `/batches/${enc(record.providerId)}/cancel`),
    );
    return (await this.billing.seenBatch(record, answer, 'client_poll')).shown;
  }
}

/**
 * A file the gateway itself read as a batch upload: its purpose exactly 'batch' at upload,
 * so every line was screened and estimated (the estimate is kept only then); not a batch's
 * output or error file.
 */
function isScreenedBatchInput(file: HeldRecord): boolean {
  return (
    file.kind === 'file' &&
    file.estimate !== undefined &&
    file.batchId === undefined &&
    file.object.purpose === 'batch'
  );
}
