import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import {
  type DataPlaneError,
  DataPlaneErrorCode,
  modelNotAllowed,
} from '@aigw/contracts/data-plane';
import { sendOpenAiError, toDataPlaneError } from '../http/openai-errors';
import { sendMessagesError } from '../anthropic/messages-errors';
import type { IngressPipeline } from '../ingress-pipeline';
import { isStoreUnavailable } from '../responses/state/store-unavailable';
import { BatchBilling } from './batch-billing';
import { BatchesApi } from './batches-api';
import { FileInputs } from './file-inputs';
import { FilesApi } from './files-api';
import { MessageBatchesApi } from './message-batches-api';
import type { BatchState, FilesAndBatchesOptions } from './files-and-batches-options';
import type { HeldKind } from './gateway-ids';
import { batchLineScreen } from './batch-line-screen';
import { firstHeader, type Headers } from './held-api';
import type { HeldRecord } from './held-objects';
import { HeldRecords } from './held-records';
import { ownerKeys } from './owners-records';
import { GeminiFiles } from '../gemini/files/gemini-files';
import { geminiFileHandlers } from '../gemini/files/gemini-file-routes';
import { wantsGeminiShape } from '../gemini/gemini-models';
import { DEPLOYMENT_BATCHES, deploymentRoute } from '../azure-edge/azure-paths';

export type {
  BatchSettled,
  BatchState,
  BillingTrigger,
  FilesAndBatchesOptions,
} from './files-and-batches-options';
export type { HeldObjectCalls } from './held-api';

/**
 * OpenAI's Files and Batch APIs through the gateway. A file or batch lives at one
 * OpenAI or Azure OpenAI backend (the first of its model's chain); the client sees the
 * gateway's ids (which say where it lives), its own model names, and only its own
 * objects: another caller gets a 404, as for stored responses. A batch seen finished is
 * billed once, from its output file's usage, at the batch price. Anthropic's Message
 * Batches API is served the same way for models with an Anthropic backend (MessageBatchesApi).
 */
export class FilesAndBatches {
  private readonly billing: BatchBilling;
  private readonly files: FilesApi;
  private readonly batches: BatchesApi;
  private readonly messageBatches: MessageBatchesApi;
  /** Gateway file ids in a model call's input (chat's file parts, Responses' input_file). */
  readonly inputs: FileInputs;
  /** Google's Files API on the Gemini edge, where Gemini backends are called from here. */
  readonly gemini?: GeminiFiles;

  constructor(private readonly options: FilesAndBatchesOptions) {
    const now = options.now ?? Date.now;
    const records = new HeldRecords(options, now);
    this.inputs = new FileInputs(options.config, records);
    this.billing = new BatchBilling(options, records, now);
    this.files = new FilesApi(options, records, this.billing);
    this.batches = new BatchesApi(options, records, this.billing);
    this.messageBatches = new MessageBatchesApi(options, records, this.billing);
    if (options.geminiUpstream) {
      this.gemini = new GeminiFiles({
        config: options.config,
        upstream: options.geminiUpstream,
        store: options.store,
        ttlMs: options.ttlMs,
        maxFileBytes: options.maxFileBytes,
        onUpload: options.onGeminiUpload,
        onCountFailed: options.onGeminiFileCountFailed,
        onStoreAway: options.onStoreAway,
        onError: options.onError,
        now,
      });
    }
  }

  register(fastify: FastifyInstance, prefix: string, pipeline: IngressPipeline): void {
    // Google's SDKs (v1 by default) share `/v1/files` with OpenAI's: theirs go to Gemini's.
    const gemini = geminiFileHandlers(pipeline, this.gemini);
    const geminiFor: Partial<
      Record<string, (rq: FastifyRequest, rp: FastifyReply) => Promise<unknown>>
    > = {
      list: gemini.list,
      retrieve: gemini.get,
      delete: gemini.delete,
    };
    const on = (
      kind: HeldKind,
      action: string,
      handle: (request: FastifyRequest, reply: FastifyReply) => Promise<unknown>,
    ) => {
      const google = kind === 'file' ? geminiFor[action] : undefined;
      // The reply returned: a streamed answer (a file's content) is still being sent when
      // `serve` returns, and Fastify would otherwise answer a second, empty time.
      return async (request: FastifyRequest, reply: FastifyReply) => {
        if (google && wantsGeminiShape(request.headers)) {
          await google(request, reply);
          return reply;
        }
        await this.serve(kind, action, request, reply, handle);
        return reply;
      };
    };
    const { who, ownerIfIdentified, callerOf, mayUse } = callersOf(pipeline);
    const lister = listerOf(pipeline);
    // A batch's lines never pass `prepare` or the router: the route's rules here.
    const screen = batchLineScreen(pipeline);
    const { files, batches } = this;
    const { maxFileBytes } = this.options;
    fastify.post(
      `${prefix}/files`,
      // Its own limit, read by the form parser: the upload streams, no other body does.
      maxFileBytes === undefined ? {} : { bodyLimit: maxFileBytes },
      on('file', 'create', (rq) => files.createFile(rq, callerOf, mayUse, screen)),
    );
    fastify.get(
      `${prefix}/files`,
      on('file', 'list', (rq) => files.listFiles(rq, lister, ownerIfIdentified)),
    );
    fastify.get(
      `${prefix}/files/:id`,
      on('file', 'retrieve', (rq) => files.retrieveFile(rq, who)),
    );
    fastify.get(
      `${prefix}/files/:id/content`,
      // No automatic HEAD: Fastify answers one by running the GET, which read the whole
      // file from the backend (and billed a finished batch) to send no body.
      { exposeHeadRoute: false },
      on('file', 'content', (rq, reply) => files.fileContent(rq, reply, who)),
    );
    fastify.delete(
      `${prefix}/files/:id`,
      on('file', 'delete', (rq) => files.deleteFile(rq, who)),
    );
    fastify.post(
      `${prefix}/batches`,
      on('batch', 'create', (rq) => batches.createBatch(rq, who, mayUse, callerOf)),
    );
    fastify.get(
      `${prefix}/batches`,
      on('batch', 'list', (rq) => batches.listBatches(rq, lister, ownerIfIdentified)),
    );
    fastify.get(
      `${prefix}/batches/:id`,
      on('batch', 'retrieve', (rq) => batches.retrieveBatch(rq, who)),
    );
    fastify.post(
      `${prefix}/batches/:id/cancel`,
      on('batch', 'cancel', (rq) => batches.cancelBatch(rq, who)),
    );
    this.registerMessageBatches(fastify, prefix, pipeline);
  }

  /** Anthropic's Message Batches API, its errors in Anthropic's shape. */
  private registerMessageBatches(
    fastify: FastifyInstance,
    prefix: string,
    pipeline: IngressPipeline,
  ): void {
    const { who, ownerIfIdentified, callerOf, mayUse } = callersOf(pipeline);
    const lister = listerOf(pipeline);
    const screen = batchLineScreen(pipeline);
    const api = this.messageBatches;
    const on =
      (
        action: string,
        handle: (request: FastifyRequest, reply: FastifyReply) => Promise<unknown>,
      ) =>
      async (request: FastifyRequest, reply: FastifyReply) => {
        await this.serve('message_batch', action, request, reply, handle, sendMessagesError);
        return reply;
      };
    const path = `${prefix}/messages/batches`;
    fastify.post(
      path,
      on('create', (rq) => api.create(rq, callerOf, mayUse, screen)),
    );
    fastify.get(
      path,
      on('list', (rq) => api.list(rq, lister, ownerIfIdentified)),
    );
    fastify.get(
      `${path}/:id`,
      on('retrieve', (rq) => api.retrieve(rq, who)),
    );
    fastify.delete(
      `${path}/:id`,
      on('delete', (rq) => api.delete(rq, who)),
    );
    fastify.post(
      `${path}/:id/cancel`,
      on('cancel', (rq) => api.cancel(rq, who)),
    );
    fastify.get(
      `${path}/:id/results`,
      // No automatic HEAD: it would read (and stream) the whole results to send no body.
      { exposeHeadRoute: false },
      on('results', (rq, reply) => api.results(rq, reply, who)),
    );
  }

  /**
   * `POST /openai/deployments/{deployment}/batches`: where the AzureOpenAI client built with
   * a deployment creates a batch. Served as `/openai/batches` is: the batch runs on its
   * input file's model, whatever the deployment (Azure reads the model from the file too).
   */
  registerAzureDeploymentBatches(fastify: FastifyInstance, pipeline: IngressPipeline): void {
    const { who, callerOf, mayUse } = callersOf(pipeline);
    fastify.post(deploymentRoute(DEPLOYMENT_BATCHES), async (request, reply) => {
      await this.serve('batch', 'create', request, reply, (rq) =>
        this.batches.createBatch(rq, who, mayUse, callerOf),
      );
      return reply;
    });
  }

  /**
   * The sweeper's look at a pending batch: retrieved as a client's GET retrieves it
   * (through the router and adapter when split) and billed if finished. A backend's
   * error (a 404 among them) is thrown.
   */
  checkBatch(record: HeldRecord): Promise<BatchState> {
    if (record.kind === 'message_batch') return this.messageBatches.billing.check(record);
    return this.billing.checkBatch(record);
  }

  /** Gives back the hold of a batch that will not be billed (the sweeper dropped it). */
  releaseHold(reservationId: string | undefined): Promise<boolean> {
    return this.billing.releaseHold(reservationId);
  }

  private async serve(
    kind: HeldKind,
    action: string,
    request: FastifyRequest,
    reply: FastifyReply,
    handle: (request: FastifyRequest, reply: FastifyReply) => Promise<unknown>,
    sendError: typeof sendOpenAiError = sendOpenAiError,
  ): Promise<void> {
    try {
      const body = await handle(request, reply);
      this.options.onAction?.(kind, action, 'ok');
      if (!reply.sent) void reply.header('x-request-id', request.id).send(body);
    } catch (error) {
      const failure = toDataPlaneError(error);
      const outcome = outcomeOf(failure);
      this.options.onAction?.(kind, action, outcome);
      if (outcome === 'store_unavailable') {
        this.options.onStoreAway?.({ kind, action, requestId: request.id, cause: failure.cause });
      }
      sendError(reply, failure, request.id);
    }
  }
}

/**
 * The owner keys a list reads under. Named no model, every identity a route gives the
 * caller (a JWT user's files are kept under its JWT route's key, whatever the first route
 * trusts).
 */
function listerOf(pipeline: IngressPipeline) {
  return async (headers: Headers): Promise<readonly string[]> => {
    const model = firstHeader(headers, 'x-ai-gateway-model');
    if (!model) return pipeline.ownerKeysWithoutModel(headers);
    return ownerKeys(await pipeline.ownerKeyFor(model, headers));
  };
}

/** The caller as each held-object call asks about it, on the model's route. */
function callersOf(pipeline: IngressPipeline) {
  return {
    // Owner keys: one id named two ways on a route (two JWT providers' alice) is two owners.
    who: (model: string, headers: Headers) => pipeline.ownerKeyFor(model, headers),
    // Whether a listed record is the caller's on its own route: refused there, it is not
    // theirs, and the list is not a refused request (so no identity refusal is counted).
    ownerIfIdentified: (model: string, headers: Headers) =>
      pipeline.ownerKeyIfIdentified(model, headers),
    callerOf: (model: string, headers: Headers) => pipeline.callerFor(model, headers),
    // The tier's allowedModels, which the router checks for calls it routes: a batch
    // runs its lines at the backend without them passing the router.
    mayUse: async (model: string, headers: Headers) => {
      if (!(await pipeline.mayUse(model, headers))) {
        throw modelNotAllowed(model);
      }
    },
  };
}

/** A metric's outcome: ok, or the kind of failure (never its text). */
function outcomeOf(error: DataPlaneError): string {
  const status = error.httpStatus;
  if (status === 404) return 'not_found';
  if (error.code === DataPlaneErrorCode.PromptBlocked) return 'blocked';
  if (status === 429 || error.code === DataPlaneErrorCode.BudgetExceeded) return 'refused';
  if (error.code === DataPlaneErrorCode.BudgetUnavailable) return 'failed'; // a store, not the backend
  // The store of files and batches, named as Responses' and Gemini uploads' counts name it.
  if (isStoreUnavailable(error)) return 'store_unavailable';
  if (status < 500) return 'invalid';
  return 'upstream_error';
}
