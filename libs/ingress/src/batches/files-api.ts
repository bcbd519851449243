import { pipeline, type Readable } from 'node:stream';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { DataPlaneError, DataPlaneErrorCode, type JsonObject } from '@aigw/contracts/data-plane';
import { MultipartForm } from '../forms/multipart-form';
import type { RedactionTally } from '../redaction/redactor';
import type { BatchBilling } from './batch-billing';
import { BatchEstimator } from './batch-estimate';
import { BatchUsageTally, downloadedLine, rewriteBatchInputBytes } from './batch-jsonl';
import { screenBatchBody } from './batch-prompt-rules';
import type { FileBytesOutcome, FilesAndBatchesOptions } from './files-and-batches-options';
import {
  enc,
  firstHeader,
  invalid,
  jsonOf,
  listPage,
  targetOf,
  type Lister,
  type MayUse,
  type Query,
  type Screen,
  type Who,
} from './held-api';
import { holdingBackendFor } from './held-backend';
import type { HeldRecords } from './held-records';
import { JsonlLineTransform } from './jsonl-lines';
import { fileUploadForm } from './upstream-form';

type FilesOptions = Pick<
  FilesAndBatchesOptions,
  | 'config'
  | 'upstream'
  | 'store'
  | 'onRedacted'
  | 'defaultMaxOutputTokens'
  | 'onFileBytes'
  | 'onError'
>;

/** A line's output when it sets no max_tokens: admission's default (AI_GATEWAY_DEFAULT_MAX_OUTPUT_TOKENS). */
const DEFAULT_MAX_OUTPUT_TOKENS = 4096;

/**
 * OpenAI's Files API: a file is uploaded to an OpenAI or Azure OpenAI backend of the model
 * it names (a batch input file under the route's prompt rules, its model renamed), and
 * read, listed and deleted only by its owner.
 */
export class FilesApi {
  constructor(
    private readonly options: FilesOptions,
    private readonly records: HeldRecords,
    private readonly billing: BatchBilling,
  ) {}

  async createFile(
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
    const owner = await this.records.ownerOf(model, request.headers, who);
    await mayUse(model, request.headers);
    const holding = holdingBackendFor(this.options.config(), model);
    // Every line under the prompt rules a single call gets; a refused line refuses the upload.
    const tally: RedactionTally = new Map();
    // Each line's worst case, read as it is screened: what a batch of this file is held for.
    const estimator = new BatchEstimator(
      this.options.defaultMaxOutputTokens ?? DEFAULT_MAX_OUTPUT_TOKENS,
    );
    // Rewritten line by line from the upload's bytes: the file never becomes one string.
    const data =
      purpose === 'batch'
        ? rewriteBatchInputBytes(file.data, model, holding.upstreamModel, (url, body) => {
            estimator.add(url, body);
            return screenBatchBody(url, body, (operation, read) =>
              screen(model, operation, read, tally),
            );
          })
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
    const record = await this.records.keep({
      kind: 'file',
      owner,
      model,
      upstreamModel: holding.upstreamModel,
      route: holding.route,
      backend: holding.backend,
      providerId,
      ...(purpose === 'batch' && { estimate: estimator.estimate }),
      object: answer,
    });
    return record.object;
  }

  async listFiles(request: FastifyRequest, lister: Lister, who: Who): Promise<JsonObject> {
    const query = (request.query ?? {}) as Query;
    const records = await this.records.listed('file', 1000, request.headers, lister, who);
    const purpose = typeof query.purpose === 'string' ? query.purpose : undefined;
    const kept = purpose ? records.filter((r) => r.object.purpose === purpose) : records;
    return listPage(
      kept.map((r) => r.object),
      query,
    );
  }

  async retrieveFile(request: FastifyRequest, who: Who): Promise<JsonObject> {
    const record = await this.records.owned('file', request, who);
    const answer = jsonOf(
      await this.records.call(record, 'GET', `/files/${enc(record.providerId)}`),
    );
    return { ...answer, id: record.id };
  }

  /** The file's bytes as the backend streams them (their model names restored), to send. */
  async fileContent(request: FastifyRequest, reply: FastifyReply, who: Who): Promise<Readable> {
    const record = await this.records.owned('file', request, who);
    const answer = await this.records.open(record, `/files/${enc(record.providerId)}/content`);
    const purpose = record.object.purpose;
    if (purpose !== 'batch' && purpose !== 'batch_output') {
      void reply.header('content-type', answer.contentType);
      return answer.body;
    }
    // A finished batch's output read before any look billed it: billed from these lines
    // as they pass, once the whole file has (a client that hangs up leaves it to a look).
    const tally = purpose === 'batch_output' && record.batchId ? new BatchUsageTally() : undefined;
    // A batch's input and output files name models: the client's names, not the backend's.
    const lines = new JsonlLineTransform(downloadedLine(record.model, tally), {
      onEnd: () => {
        if (!tally) return;
        const usage = tally.usage;
        setImmediate(() => void this.billing.billOnDownload(record, usage));
      },
    });
    let began = false;
    pipeline(answer.body, lines, (error) => {
      const outcome = streamOutcome(error);
      this.options.onFileBytes?.('download', outcome, lines.bytesRead);
      // After the answer began only the connection can tell the client: it is cut. Before,
      // the failure is the answer's, logged once below.
      if (outcome === 'failed' && began)
        this.options.onError?.('streaming a batch file to its client', error);
    });
    try {
      // An error before the first bytes (the first line too long) is still the client's error.
      await lines.firstOutput();
    } catch (error) {
      throw this.failedBeforeFirstBytes(error);
    }
    began = true;
    void reply.header('content-type', answer.contentType);
    return lines;
  }

  /**
   * What a download that failed before its first bytes answers: a refusal of ours (a line
   * too long) as it is; the backend's failure as the upstream error it is (not the
   * gateway's own), logged once at warn as this path's other backend failures are.
   */
  private failedBeforeFirstBytes(error: unknown): DataPlaneError {
    const failure =
      error instanceof DataPlaneError
        ? error
        : new DataPlaneError(
            DataPlaneErrorCode.UpstreamError,
            'The backend failed while sending the file',
            { cause: error },
          );
    if (failure.httpStatus >= 500) {
      this.options.onError?.('reading a batch file from its backend', error);
    }
    return failure;
  }

  async deleteFile(request: FastifyRequest, who: Who): Promise<JsonObject> {
    const record = await this.records.owned('file', request, who);
    await this.records.call(record, 'DELETE', `/files/${enc(record.providerId)}`);
    await this.options.store.delete(record);
    return { id: record.id, object: 'file', deleted: true };
  }
}

/** How a streamed batch file ended: read whole, cut by its reader hanging up, or failed. */
function streamOutcome(error: unknown): FileBytesOutcome {
  if (!error) return 'complete';
  return (error as { code?: unknown }).code === 'ERR_STREAM_PREMATURE_CLOSE' ? 'aborted' : 'failed';
}
