import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { BackendConfig, GatewayConfig } from '@aigw/config';
import type { TokenUsageRecorded } from '@aigw/contracts';
import {
  DataPlaneError,
  DataPlaneErrorCode,
  upstreamTargetOf,
  type BackendCallTarget,
  type CallerContext,
  type JsonObject,
  type Operation,
} from '@aigw/contracts/data-plane';
import type { BudgetAdmission } from '../admission/budget-admission';
import { buildGatewayRequest } from '../domain/request-builder';
import { MultipartForm } from '../forms/multipart-form';
import { sendOpenAiError, toDataPlaneError } from '../http/openai-errors';
import type { IngressPipeline } from '../ingress-pipeline';
import type { RedactionTally } from '../redaction/redactor';
import { screenBatchBody } from './batch-prompt-rules';
import { restoreBatchModels, rewriteBatchInput, sumBatchUsage } from './batch-jsonl';
import { batchUsageEvent } from './batch-settlement';
import { gatewayId, parseGatewayId, type HeldKind } from './gateway-ids';
import { heldBackend, holdingBackendFor } from './held-backend';
import type { HeldObjectStore, HeldRecord } from './held-objects';
import { fileUploadForm } from './upstream-form';

type Headers = Readonly<Record<string, string | string[] | undefined>>;
type Query = Readonly<Record<string, string | string[] | undefined>>;

/** What the gateway needs of a backend call (the provider library's HeldObjectUpstream). */
export interface HeldObjectCalls {
  send(
    backend: BackendCallTarget,
    method: 'GET' | 'POST' | 'DELETE',
    path: string,
    body?: { readonly contentType: string; readonly data: Buffer },
  ): Promise<{ readonly status: number; readonly contentType: string; readonly body: Buffer }>;
}

/** What made the gateway bill a batch: a client's look, the sweeper, or a download. */
export type BillingTrigger = 'client_poll' | 'sweeper' | 'content';

/**
 * What a look at a batch found: billed by this look; still running; finished with nothing
 * for this look to bill (no output, or billed or being billed elsewhere); or finished and
 * its billing failed (the claim given back: the next look tries again).
 */
export type BatchState = 'billed' | 'in_progress' | 'finished' | 'failed';

/** A finished batch's usage, as recorded. */
export interface BatchSettled {
  readonly batch: HeldRecord;
  readonly trigger: BillingTrigger;
  readonly inputTokens: number;
  readonly outputTokens: number;
  readonly dollars: number;
}

export interface FilesAndBatchesOptions {
  readonly config: () => GatewayConfig;
  readonly upstream: HeldObjectCalls;
  readonly store: HeldObjectStore;
  /** How long the gateway remembers a file or batch (and who owns it). */
  readonly ttlMs: number;
  /** The batch price as a share of the synchronous one (0.5: OpenAI's 50% discount). */
  readonly priceFactor: number;
  /** Checks the owner's budgets before a batch is created; absent, every batch is. */
  readonly admission?: BudgetAdmission;
  /** Publishes a finished batch's usage event (budgets and analytics). */
  readonly publish: (event: TokenUsageRecorded) => void;
  /** A batch upload's prompt redaction masked `tally` per detector on `route` (metrics). */
  readonly onRedacted?: (route: string, tally: ReadonlyMap<string, number>) => void;
  /** One per request: which kind, what was done, and how it ended (metrics). */
  readonly onAction?: (kind: HeldKind, action: string, outcome: string) => void;
  readonly onSettled?: (settled: BatchSettled) => void;
  /** A failure the client is not told of (settling a batch): logged, without secrets. */
  readonly onError?: (what: string, error: unknown) => void;
  readonly now?: () => number;
}

const BATCH_ENDPOINTS: ReadonlySet<string> = new Set([
  '/v1/chat/completions',
  '/v1/embeddings',
  '/v1/responses',
]);
/** A batch that ended with some work done: its output is billed. */
const BILLED_STATUSES: ReadonlySet<string> = new Set(['completed', 'cancelled', 'expired']);
/** A batch in one of these will not change again. */
const FINAL_STATUSES: ReadonlySet<string> = new Set([...BILLED_STATUSES, 'failed']);
const MAX_LIST = 100;

function invalid(message: string, param?: string): DataPlaneError {
  return new DataPlaneError(DataPlaneErrorCode.InvalidRequest, message, { param });
}

function notFound(kind: HeldKind, id: string): DataPlaneError {
  const shown = id.slice(0, 128).replace(/[^A-Za-z0-9_-]/g, '?');
  return new DataPlaneError(
    DataPlaneErrorCode.NotFound,
    kind === 'file' ? `No such File object: ${shown}` : `No batch found with id '${shown}'.`,
    { param: 'id' },
  );
}

function jsonOf(reply: { body: Buffer }): JsonObject {
  let parsed: unknown;
  try {
    parsed = JSON.parse(reply.body.toString('utf8'));
  } catch {
    parsed = undefined;
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new DataPlaneError(
      DataPlaneErrorCode.UpstreamBadResponse,
      'The backend answered the files or batches call with something other than a JSON object',
    );
  }
  return parsed as JsonObject;
}

function firstHeader(headers: Headers, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/**
 * OpenAI's Files and Batch APIs through the gateway. A file or batch lives at one
 * OpenAI or Azure OpenAI backend (the first of its model's chain); the client sees the
 * gateway's ids (which say where it lives), its own model names, and only its own
 * objects: another caller gets a 404, as for stored responses. A batch seen finished is
 * billed once, from its output file's usage, at the batch price.
 */
export class FilesAndBatches {
  private readonly now: () => number;

  constructor(private readonly options: FilesAndBatchesOptions) {
    this.now = options.now ?? Date.now;
  }

  register(fastify: FastifyInstance, prefix: string, pipeline: IngressPipeline): void {
    const on = (
      kind: HeldKind,
      action: string,
      handle: (request: FastifyRequest, reply: FastifyReply) => Promise<unknown>,
    ) => {
      return (request: FastifyRequest, reply: FastifyReply) =>
        this.serve(kind, action, request, reply, handle);
    };
    const who = (model: string, headers: Headers) => pipeline.userKeyFor(model, headers);
    // The tier's allowedModels, which the router checks for calls it routes: a batch
    // runs its lines at the backend without them passing the router.
    const mayUse = async (model: string, headers: Headers) => {
      if (!(await pipeline.mayUse(model, headers))) {
        throw new DataPlaneError(
          DataPlaneErrorCode.ModelNotAllowed,
          `your plan does not allow the model "${model.slice(0, 128)}"`,
          { param: 'model' },
        );
      }
    };
    const lister = (headers: Headers) => {
      const model = firstHeader(headers, 'x-ai-gateway-model');
      return model ? pipeline.userKeyFor(model, headers) : pipeline.userKeyWithoutModel(headers);
    };
    // A batch's lines never pass `prepare` or the router: the route's prompt rules here.
    const screen: Screen = (model, operation, body, tally) =>
      pipeline.screenPrompt(model, operation, body, tally);
    fastify.post(
      `${prefix}/files`,
      on('file', 'create', (rq) => this.createFile(rq, who, mayUse, screen)),
    );
    fastify.get(
      `${prefix}/files`,
      on('file', 'list', (rq) => this.listFiles(rq, lister, who)),
    );
    fastify.get(
      `${prefix}/files/:id`,
      on('file', 'retrieve', (rq) => this.retrieveFile(rq, who)),
    );
    fastify.get(
      `${prefix}/files/:id/content`,
      on('file', 'content', (rq, reply) => this.fileContent(rq, reply, who)),
    );
    fastify.delete(
      `${prefix}/files/:id`,
      on('file', 'delete', (rq) => this.deleteFile(rq, who)),
    );
    fastify.post(
      `${prefix}/batches`,
      on('batch', 'create', (rq) =>
        this.createBatch(rq, who, mayUse, (model, headers) => pipeline.callerFor(model, headers)),
      ),
    );
    fastify.get(
      `${prefix}/batches`,
      on('batch', 'list', (rq) => this.listBatches(rq, lister, who)),
    );
    fastify.get(
      `${prefix}/batches/:id`,
      on('batch', 'retrieve', (rq) => this.retrieveBatch(rq, who)),
    );
    fastify.post(
      `${prefix}/batches/:id/cancel`,
      on('batch', 'cancel', (rq) => this.cancelBatch(rq, who)),
    );
  }

  private async serve(
    kind: HeldKind,
    action: string,
    request: FastifyRequest,
    reply: FastifyReply,
    handle: (request: FastifyRequest, reply: FastifyReply) => Promise<unknown>,
  ): Promise<void> {
    try {
      const body = await handle(request, reply);
      this.options.onAction?.(kind, action, 'ok');
      if (!reply.sent) void reply.header('x-request-id', request.id).send(body);
    } catch (error) {
      const failure = toDataPlaneError(error);
      this.options.onAction?.(kind, action, outcomeOf(failure));
      sendOpenAiError(reply, failure, request.id);
    }
  }

  // --- files ---

  private async createFile(
    request: FastifyRequest,
    who: Who,
    mayUse: MayUse,
    screen: Screen,
  ): Promise<JsonObject> {
    const form = request.body;
    if (!(form instanceof MultipartForm)) {
      throw invalid("Upload the file as 'multipart/form-data' with 'file' and 'purpose' fields");
    }
    const field = (name: string) => form.fields.find(([key]) => key === name)?.[1];
    const purpose = field('purpose');
    if (!purpose) throw invalid("Missing required parameter: 'purpose'.", 'purpose');
    const file = form.files.find((part) => part.field === 'file');
    if (!file) throw invalid("Missing required parameter: 'file'.", 'file');
    const model = field('model') || firstHeader(request.headers, 'x-ai-gateway-model');
    if (!model) {
      throw invalid(
        "Name the model this file is for in a 'model' form field or the 'x-ai-gateway-model' header: the gateway keeps a file at an OpenAI or Azure OpenAI backend of that model.",
        'model',
      );
    }
    const owner = await this.ownerOf(model, request.headers, who);
    await mayUse(model, request.headers);
    const holding = holdingBackendFor(this.options.config(), model);
    // Every line under the prompt rules a single call gets; a refused line refuses the upload.
    const tally: RedactionTally = new Map();
    const data =
      purpose === 'batch'
        ? Buffer.from(
            rewriteBatchInput(
              Buffer.from(file.data.buffer, file.data.byteOffset, file.data.byteLength).toString(
                'utf8',
              ),
              model,
              holding.upstreamModel,
              (url, body) =>
                screenBatchBody(url, body, (operation, read) =>
                  screen(model, operation, read, tally),
                ),
            ),
          )
        : file.data;
    if (tally.size > 0) this.options.onRedacted?.(holding.route, tally);
    // Every field but `model` (the gateway's own) goes on: purpose, expires_after[...].
    const fields = form.fields.filter(([name]) => name !== 'model');
    const upload = fileUploadForm(fields, { ...file, data });
    const answer = jsonOf(
      await this.options.upstream.send(targetOf(holding.backend), 'POST', '/files', upload),
    );
    const providerId = answer.id;
    if (typeof providerId !== 'string' || providerId === '') {
      throw new DataPlaneError(
        DataPlaneErrorCode.UpstreamBadResponse,
        'The backend answered the upload without a file id',
      );
    }
    const record = await this.keep({
      kind: 'file',
      owner,
      model,
      upstreamModel: holding.upstreamModel,
      route: holding.route,
      backend: holding.backend,
      providerId,
      object: answer,
    });
    return record.object;
  }

  private async listFiles(request: FastifyRequest, lister: Lister, who: Who): Promise<JsonObject> {
    const query = (request.query ?? {}) as Query;
    const records = await this.listed('file', 1000, request.headers, lister, who);
    const purpose = typeof query.purpose === 'string' ? query.purpose : undefined;
    const kept = purpose ? records.filter((r) => r.object.purpose === purpose) : records;
    return listPage(
      kept.map((r) => r.object),
      query,
    );
  }

  private async retrieveFile(request: FastifyRequest, who: Who): Promise<JsonObject> {
    const record = await this.owned('file', request, who);
    const answer = jsonOf(await this.call(record, 'GET', `/files/${enc(record.providerId)}`));
    return { ...answer, id: record.id };
  }

  private async fileContent(request: FastifyRequest, reply: FastifyReply, who: Who): Promise<void> {
    const record = await this.owned('file', request, who);
    const answer = await this.call(record, 'GET', `/files/${enc(record.providerId)}/content`);
    const purpose = record.object.purpose;
    // A finished batch's output read before any look billed it: billed from these bytes,
    // after the answer (a claim and the event, never the client's wait or error).
    if (purpose === 'batch_output' && record.batchId) {
      const output = answer.body;
      setImmediate(() => void this.billOnDownload(record, output));
    }
    // A batch's input and output files name models: the client's names, not the backend's.
    const body =
      purpose === 'batch' || purpose === 'batch_output'
        ? Buffer.from(restoreBatchModels(answer.body.toString('utf8'), record.model))
        : answer.body;
    void reply
      .header('x-request-id', request.id)
      .header('content-type', answer.contentType)
      .send(body);
  }

  private async deleteFile(request: FastifyRequest, who: Who): Promise<JsonObject> {
    const record = await this.owned('file', request, who);
    await this.call(record, 'DELETE', `/files/${enc(record.providerId)}`);
    await this.options.store.delete(record);
    return { id: record.id, object: 'file', deleted: true };
  }

  // --- batches ---

  private async createBatch(
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
      endpoint,
      completion_window: window,
      metadata,
      output_expires_after: outputExpiry,
    } = body;
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
    const file = await this.ownedRecord('file', fileId, request.headers, who, 'input_file_id');
    await mayUse(file.model, request.headers);
    // The file's owner (just checked) with the tier the route gives them now.
    const tier = (await callerOf(file.model, request.headers))?.tier;
    await this.checkBudget(file, tier);
    const sent: JsonObject = {
      input_file_id: file.providerId,
      endpoint,
      completion_window: window,
      ...(metadata ? { metadata } : {}),
      // When the backend drops the output files (their owners are remembered apart).
      ...(outputExpiry ? { output_expires_after: outputExpiry } : {}),
    };
    const answer = jsonOf(
      await this.call(file, 'POST', '/batches', {
        contentType: 'application/json',
        data: Buffer.from(JSON.stringify(sent)),
      }),
    );
    if (typeof answer.id !== 'string' || answer.id === '') {
      throw new DataPlaneError(
        DataPlaneErrorCode.UpstreamBadResponse,
        'The backend answered the batch without an id',
      );
    }
    const backend = this.backendOf(file);
    const batch = await this.keep({
      kind: 'batch',
      owner: file.owner,
      model: file.model,
      upstreamModel: file.upstreamModel,
      route: file.route,
      backend,
      providerId: answer.id,
      ...(tier !== undefined && { tier }),
      object: {},
    });
    // Indexed until billed, so the sweeper bills it when no client looks again.
    await this.options.store
      .addPending(batch.id, this.options.ttlMs)
      .catch((error: unknown) => this.options.onError?.('indexing a batch to bill', error));
    return (await this.seenBatch(batch, answer, 'client_poll')).shown;
  }

  private async listBatches(
    request: FastifyRequest,
    lister: Lister,
    who: Who,
  ): Promise<JsonObject> {
    const query = (request.query ?? {}) as Query;
    const records = await this.listed('batch', MAX_LIST, request.headers, lister, who);
    const page = listPage(records, query, (record) => record.id);
    // Each as the backend has it now (a batch's status moves); the last seen on failure.
    const data = await Promise.all(
      (page.data as HeldRecord[]).map(async (record) => {
        try {
          const answer = jsonOf(
            await this.call(record, 'GET', `/batches/${enc(record.providerId)}`),
          );
          return (await this.seenBatch(record, answer, 'client_poll')).shown;
        } catch (error) {
          this.options.onError?.('refreshing a listed batch', error);
          return record.object;
        }
      }),
    );
    return { ...page, data, first_id: data[0]?.id ?? null, last_id: data.at(-1)?.id ?? null };
  }

  private async retrieveBatch(request: FastifyRequest, who: Who): Promise<JsonObject> {
    const record = await this.owned('batch', request, who);
    const answer = jsonOf(await this.call(record, 'GET', `/batches/${enc(record.providerId)}`));
    return (await this.seenBatch(record, answer, 'client_poll')).shown;
  }

  /**
   * The sweeper's look at a pending batch: retrieved as a client's GET retrieves it
   * (through the router and adapter when split) and billed if finished. A backend's
   * error (a 404 among them) is thrown.
   */
  async checkBatch(record: HeldRecord): Promise<BatchState> {
    const answer = jsonOf(await this.call(record, 'GET', `/batches/${enc(record.providerId)}`));
    return (await this.seenBatch(record, answer, 'sweeper')).state;
  }

  private async cancelBatch(request: FastifyRequest, who: Who): Promise<JsonObject> {
    const record = await this.owned('batch', request, who);
    const answer = jsonOf(
      await this.call(record, 'POST', `/batches/${enc(record.providerId)}/cancel`),
    );
    return (await this.seenBatch(record, answer, 'client_poll')).shown;
  }

  /**
   * The batch as the client sees it (gateway ids, its model name), remembered for lists;
   * its output and error files become the owner's; a finished batch is billed once.
   */
  private async seenBatch(
    record: HeldRecord,
    answer: JsonObject,
    trigger: BillingTrigger,
  ): Promise<{ shown: JsonObject; state: BatchState }> {
    const fileId = (value: unknown) =>
      typeof value === 'string' && value !== ''
        ? gatewayId('file', { route: record.route, backend: record.backend, providerId: value })
        : value;
    const shown: JsonObject = {
      ...answer,
      id: record.id,
      input_file_id: fileId(answer.input_file_id),
      output_file_id: fileId(answer.output_file_id),
      error_file_id: fileId(answer.error_file_id),
      ...(typeof answer.model === 'string' ? { model: record.model } : {}),
    };
    for (const produced of [answer.output_file_id, answer.error_file_id]) {
      if (typeof produced === 'string' && produced !== '') {
        await this.adoptOutput(record, produced);
      }
    }
    await this.options.store.put({ ...record, object: shown }, this.options.ttlMs);
    const status = typeof answer.status === 'string' ? answer.status : '';
    const output = answer.output_file_id;
    if (BILLED_STATUSES.has(status) && typeof output === 'string' && output !== '') {
      if (record.billed) return { shown, state: 'finished' };
      const read = async () =>
        (await this.call(record, 'GET', `/files/${enc(output)}/content`)).body;
      const state = await this.settle(record, read, trigger);
      return { shown, state };
    }
    if (FINAL_STATUSES.has(status)) {
      // Ended without output (failed, cancelled early): nothing will ever be billed.
      await this.unindex(record.id);
      return { shown, state: 'finished' };
    }
    return { shown, state: 'in_progress' };
  }

  /** A batch output file downloaded: its batch billed from it if no look has yet. */
  private async billOnDownload(file: HeldRecord, output: Buffer): Promise<void> {
    try {
      const batch = await this.options.store.get(file.batchId!);
      const status = batch?.object.status;
      if (!batch || batch.billed || typeof status !== 'string' || !BILLED_STATUSES.has(status)) {
        return;
      }
      if (batch.object.output_file_id !== file.id) return;
      await this.settle(batch, async () => output, 'content');
    } catch (error) {
      this.options.onError?.('billing a batch on its output download', error);
    }
  }

  private async unindex(id: string): Promise<void> {
    await this.options.store
      .removePending(id)
      .catch((error: unknown) => this.options.onError?.('unindexing a billed batch', error));
  }

  /** A file the batch produced, recorded as its owner's (once). */
  private async adoptOutput(batch: HeldRecord, providerId: string): Promise<void> {
    const id = gatewayId('file', { route: batch.route, backend: batch.backend, providerId });
    if (await this.options.store.get(id)) return;
    await this.options.store.put(
      {
        ...batch,
        id,
        kind: 'file',
        providerId,
        batchId: batch.id,
        createdAt: this.now(),
        object: { id, object: 'file', purpose: 'batch_output' },
      },
      this.options.ttlMs,
    );
  }

  /**
   * Bills a finished batch once across replicas and repeated looks: the first to claim
   * it reads the output file and records its usage, and the batch leaves the sweeper's
   * index; a failure gives the claim back (the next look tries again) and is never the
   * client's error.
   */
  private async settle(
    batch: HeldRecord,
    readOutput: () => Promise<Buffer>,
    trigger: BillingTrigger,
  ): Promise<BatchState> {
    const { store } = this.options;
    const key = `settled:${batch.id}`;
    try {
      if (!(await store.claim(key, this.options.ttlMs))) return 'finished';
    } catch (error) {
      this.options.onError?.('claiming a batch to bill', error);
      return 'failed';
    }
    try {
      const usage = sumBatchUsage((await readOutput()).toString('utf8'));
      const { event, dollars } = batchUsageEvent(
        this.options.config(),
        batch,
        usage,
        this.options.priceFactor,
      );
      this.options.publish(event);
      this.options.onAction?.('batch', 'settle', 'ok');
      this.options.onSettled?.({
        batch,
        trigger,
        inputTokens: usage.inputTokens,
        outputTokens: usage.outputTokens,
        dollars,
      });
    } catch (error) {
      this.options.onAction?.('batch', 'settle', 'failed');
      this.options.onError?.('billing a finished batch', error);
      await store.release(key).catch(() => undefined);
      return 'failed';
    }
    await this.markBilled(batch.id);
    await this.unindex(batch.id);
    return 'billed';
  }

  /** Marks the batch's record billed, for as long as it is remembered (not its claim's TTL). */
  private async markBilled(id: string): Promise<void> {
    const { store, ttlMs } = this.options;
    try {
      const latest = await store.get(id);
      if (latest) await store.put({ ...latest, billed: true }, ttlMs);
    } catch (error) {
      this.options.onError?.('marking a batch billed', error);
    }
  }

  /**
   * Refuses a batch when the owner's budgets are spent, their tier's among them (held and
   * at once given back).
   */
  private async checkBudget(file: HeldRecord, tier: string | undefined): Promise<void> {
    const admission = this.options.admission;
    if (!admission) return;
    const probe = buildGatewayRequest(
      'embeddings',
      { model: file.model, input: '' },
      {
        requestId: `batch-admission-${crypto.randomUUID()}`,
        caller: { userKey: file.owner, ...(tier !== undefined && { tier }) },
        allowedModels: [],
        forwardHeaders: {},
      },
    );
    await admission.release(await admission.admit(probe));
  }

  // --- shared ---

  private async keep(
    init: Omit<HeldRecord, 'id' | 'createdAt' | 'provider' | 'backend'> & {
      readonly backend: BackendConfig;
    },
  ): Promise<HeldRecord> {
    const id = gatewayId(init.kind, {
      route: init.route,
      backend: init.backend.name,
      providerId: init.providerId,
    });
    const record: HeldRecord = {
      ...init,
      id,
      backend: init.backend.name,
      provider: init.backend.provider,
      createdAt: this.now(),
      object: { ...init.object, id },
    };
    await this.options.store.put(record, this.options.ttlMs);
    return record;
  }

  /**
   * The caller's records of a kind, newest first. The store lists by owner key, which
   * routes make differently (one may take an unverified header): a record is kept only when
   * its own route identifies the caller as its owner, as reading one by id requires.
   */
  private async listed(
    kind: HeldKind,
    max: number,
    headers: Headers,
    lister: Lister,
    who: Who,
  ): Promise<HeldRecord[]> {
    const owner = await lister(headers);
    if (owner === undefined) return [];
    const records = await this.options.store.list(owner, kind, max);
    const asker = new Map<string, Promise<string | undefined>>();
    const askerOn = (model: string) => {
      let found = asker.get(model);
      if (!found) {
        // Not identified on that route (a JWT route without a token): not the caller's.
        found = Promise.resolve()
          .then(() => who(model, headers))
          .catch(() => undefined);
        asker.set(model, found);
      }
      return found;
    };
    const mine = await Promise.all(
      records.map(async (record) => (await askerOn(record.model)) === record.owner),
    );
    return records.filter((_, at) => mine[at]);
  }

  private async owned(kind: HeldKind, request: FastifyRequest, who: Who): Promise<HeldRecord> {
    const { id } = request.params as { id: string };
    return this.ownedRecord(kind, id, request.headers, who);
  }

  /** The caller's record, or a 404 the same for an unknown id and another's object. */
  private async ownedRecord(
    kind: HeldKind,
    id: string,
    headers: Headers,
    who: Who,
    param?: string,
  ): Promise<HeldRecord> {
    const record = parseGatewayId(kind, id) && (await this.options.store.get(id));
    const asker = record ? await who(record.model, headers) : undefined;
    if (!record || record.kind !== kind || asker === undefined || asker !== record.owner) {
      const error = notFound(kind, id);
      throw param ? new DataPlaneError(error.code, error.message, { param }) : error;
    }
    return record;
  }

  /** The caller as the model's route identifies callers; 404 for a model no route serves. */
  private async ownerOf(model: string, headers: Headers, who: Who): Promise<string> {
    const owner = await who(model, headers);
    if (owner === undefined) {
      throw new DataPlaneError(
        DataPlaneErrorCode.ModelNotFound,
        `The model "${model.slice(0, 128)}" does not exist or is not served by this gateway`,
        { param: 'model' },
      );
    }
    return owner;
  }

  private backendOf(record: HeldRecord): BackendConfig {
    const backend = heldBackend(this.options.config(), record.route, record.backend);
    if (!backend) {
      throw new DataPlaneError(
        DataPlaneErrorCode.NoBackendAvailable,
        `The backend holding this object ("${record.backend}") is no longer configured`,
      );
    }
    return backend;
  }

  private call(
    record: HeldRecord,
    method: 'GET' | 'POST' | 'DELETE',
    path: string,
    body?: { contentType: string; data: Buffer },
  ) {
    return this.options.upstream.send(targetOf(this.backendOf(record)), method, path, body);
  }
}

type Who = (model: string, headers: Headers) => string | undefined | Promise<string | undefined>;
/** The caller (user key, tier) on the route serving `model` (IngressPipeline.callerFor). */
type CallerOf = (
  model: string,
  headers: Headers,
) => CallerContext | undefined | Promise<CallerContext | undefined>;
/** Refuses (403) a model the caller's tier may not use. */
type MayUse = (model: string, headers: Headers) => Promise<void>;
/** A body under the prompt rules of the route serving `model` (IngressPipeline.screenPrompt). */
type Screen = (
  model: string,
  operation: Operation,
  body: JsonObject,
  tally: RedactionTally,
) => JsonObject;
type Lister = (headers: Headers) => string | undefined | Promise<string | undefined>;

/**
 * How a backend is called: its URL and its own credential (the client's is never sent).
 * In the split deployment the key is held by the provider-adapter: only the backend's
 * name crosses, and the adapter adds the key.
 */
function targetOf(backend: BackendConfig): BackendCallTarget {
  return upstreamTargetOf(backend, backend.model ?? '');
}

const enc = encodeURIComponent;

/** `limit` (1-100, 20) and `after` (an id of the list) over items newest first. */
function listPage<T>(
  items: readonly T[],
  query: Query,
  idOf: (item: T) => unknown = (item) => (item as JsonObject).id,
): JsonObject {
  const limitText = typeof query.limit === 'string' ? query.limit : undefined;
  const limit = limitText === undefined ? 20 : Number(limitText);
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIST) {
    throw invalid(
      `Invalid value for 'limit': it must be a whole number from 1 to ${MAX_LIST}.`,
      'limit',
    );
  }
  let start = 0;
  if (typeof query.after === 'string' && query.after !== '') {
    start = items.findIndex((item) => idOf(item) === query.after) + 1;
    if (start === 0) throw invalid("Invalid value for 'after': no such id in your list.", 'after');
  }
  const data = items.slice(start, start + limit) as unknown as JsonObject[];
  return {
    object: 'list',
    data,
    first_id: (data[0] as JsonObject | undefined)?.id ?? null,
    last_id: data.at(-1)?.id ?? null,
    has_more: start + limit < items.length,
  };
}

/** A metric's outcome: ok, or the kind of failure (never its text). */
function outcomeOf(error: DataPlaneError): string {
  const status = error.httpStatus;
  if (status === 404) return 'not_found';
  if (error.code === DataPlaneErrorCode.PromptBlocked) return 'blocked';
  if (status === 429 || error.code === DataPlaneErrorCode.BudgetExceeded) return 'refused';
  if (status < 500) return 'invalid';
  return 'upstream_error';
}
