import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline, type Readable } from 'node:stream';
import type { FastifyReply, FastifyRequest } from 'fastify';
import {
  DataPlaneError,
  DataPlaneErrorCode,
  type BackendIdentity,
  type JsonObject,
} from '@aigw/contracts/data-plane';
import { dropStalledPipeReader } from '@aigw/infra/http';
import { FormStream } from '../forms/multipart-stream';
import { DEFAULT_UPLOAD_SPOOL_BYTES, UploadSpool } from '../forms/upload-spool';
import type { RedactionTally } from '../redaction/redactor';
import type { BatchBilling } from './batch-billing';
import { BatchEstimator } from './batch-estimate';
import { batchInputLineRewriter, BatchUsageTally, downloadedLine } from './batch-jsonl';
import { screenBatchBody } from './batch-prompt-rules';
import type { FileBytesOutcome, FilesAndBatchesOptions } from './files-and-batches-options';
import {
  enc,
  firstHeader,
  invalid,
  isGoneAtBackend,
  jsonOf,
  listPage,
  targetOf,
  type CallerOf,
  type Lister,
  type MayUse,
  type Query,
  type Screen,
  type Who,
} from './held-api';
import { heldBackend, holdingBackendFor } from './held-backend';
import type { HeldRecord } from './held-objects';
import type { HeldRecords } from './held-records';
import { rewrittenBatchInput } from './batch-input-stream';
import { JsonlLineTransform, MAX_BATCH_LINE_BYTES } from './jsonl-lines';
import {
  describedFile,
  lacksFileFields,
  OUTPUT_FILES_RETRIEVED_PER_LIST,
  outputFileObject,
} from './output-files';
import { storeUnavailable } from '../responses/state/store-unavailable';
import { PdfCountMemory } from './pdf-count-memory';
import { UploadPdfPages } from './upload-pdf-pages';
import { readUploadForm, type Field, type UploadForm } from './upload-form';
import { streamedUploadForm } from './upstream-form';

type FilesOptions = Pick<
  FilesAndBatchesOptions,
  | 'config'
  | 'upstream'
  | 'store'
  | 'onRedacted'
  | 'defaultMaxOutputTokens'
  | 'onFileBytes'
  | 'onUploadPdfUncounted'
  | 'clientSendTimeoutMs'
  | 'onError'
  | 'uploadSpool'
>;

/** OpenAI's files list: `limit` from 1 to 10,000, all of them (10,000) when unset. */
const FILE_LIST_LIMITS = { max: 10_000, unset: 10_000 };

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
    callerOf: CallerOf,
    mayUse: MayUse,
    screen: Screen,
  ): Promise<JsonObject> {
    const form = request.body;
    if (!(form instanceof FormStream)) {
      throw invalid("Upload the file as 'multipart/form-data' with 'file' and 'purpose' fields");
    }
    try {
      return await this.uploaded(form, request, callerOf, mayUse, screen);
    } catch (error) {
      // Refused before the client finished sending: the rest is read so the answer reaches it.
      await form.drain();
      throw error;
    }
  }

  /** Where a file sent before its purpose waits for it: given, else under the OS's tmpdir. */
  private get spool(): UploadSpool {
    this.ownSpool ??=
      this.options.uploadSpool ??
      new UploadSpool(join(tmpdir(), 'aigw-upload-spool'), DEFAULT_UPLOAD_SPOOL_BYTES);
    return this.ownSpool;
  }

  private ownSpool?: UploadSpool;

  /** What the PDF uploads being counted keep in memory, all of them at once. */
  private readonly pdfCountMemory = new PdfCountMemory();

  private async uploaded(
    formStream: FormStream,
    request: FastifyRequest,
    callerOf: CallerOf,
    mayUse: MayUse,
    screen: Screen,
  ): Promise<JsonObject> {
    const headerModel = firstHeader(request.headers, 'x-ai-gateway-model');
    // Streamed when what decides how to read the file came first; else spooled to disk
    // until it has come, then read back as if it had come first.
    const form = await readUploadForm(
      formStream,
      (fields) => !!fieldOf(fields, 'purpose') && !!(fieldOf(fields, 'model') || headerModel),
      this.spool,
    );
    try {
      return await this.uploadedForm(
        form,
        formStream,
        request,
        headerModel,
        callerOf,
        mayUse,
        screen,
      );
    } finally {
      await form.discard();
    }
  }

  private async uploadedForm(
    form: UploadForm,
    formStream: FormStream,
    request: FastifyRequest,
    /** The `x-ai-gateway-model` header, read once by `uploaded`. */
    headerModel: string | undefined,
    callerOf: CallerOf,
    mayUse: MayUse,
    screen: Screen,
  ): Promise<JsonObject> {
    const purpose = fieldOf(form.fields, 'purpose');
    if (!purpose) throw invalid("Missing required parameter: 'purpose'.", 'purpose');
    const file = form.file;
    if (!file) throw invalid("Missing required parameter: 'file'.", 'file');
    const model = fieldOf(form.fields, 'model') || headerModel;
    if (!model) {
      throw invalid(
        "Name the model this file is for in a 'model' form field or the 'x-ai-gateway-model' header: the gateway keeps a file at an OpenAI or Azure OpenAI backend of that model.",
        'model',
      );
    }
    const owner = await this.records.ownerOf(model, request.headers, callerOf);
    await mayUse(model, request.headers);
    const holding = holdingBackendFor(this.options.config(), model);
    // Every line under the prompt rules a single call gets; a refused line refuses the upload.
    const tally: RedactionTally = new Map();
    // Each line's worst case, read as it is screened: what a batch of this file is held for.
    const estimator = new BatchEstimator(
      this.options.defaultMaxOutputTokens ?? DEFAULT_MAX_OUTPUT_TOKENS,
    );
    // A model's input file that is a PDF: its pages, counted as it passes, for the holds
    // of the calls that name it by id (a batch's input never passes it: none counted).
    const pdfPages = new UploadPdfPages(this.pdfCountMemory, this.options.onUploadPdfUncounted);
    // Rewritten line by line as the upload's bytes arrive: one line in memory at a time.
    const content =
      purpose === 'batch'
        ? rewrittenBatchInput(
            file.content,
            batchInputLineRewriter(model, holding.upstreamModel, (url, body) => {
              estimator.add(url, body);
              return screenBatchBody(url, body, (operation, read) =>
                screen(model, operation, read, tally),
              );
            }),
            () => {
              if (tally.size > 0) this.options.onRedacted?.(holding.route, tally);
            },
            // A line is one call: no larger than the body limit a single call has (it is
            // parsed and screened whole), however large the file may be.
            Math.min(MAX_BATCH_LINE_BYTES, formStream.maxHeldBytes),
          )
        : pdfPages.passing(file.content);
    // Every field but `model` (the gateway's own) goes on: purpose, expires_after[...].
    const upload = streamedUploadForm(
      form.fields.filter(([name]) => name !== 'model'),
      // A spooled file goes as one sent after its fields does: checked as it is sent.
      { ...file, content },
      fieldsAfterFile(form.after, model),
    );
    const target = targetOf(holding.backend, holding.route);
    const answer = await this.sentUpload(target, upload, form).catch((error: unknown) => {
      // Cut on the way: its kept bytes go back to what all uploads being counted may keep.
      pdfPages.release();
      throw error;
    });
    // Passed whole: counted now, its bytes given back whatever follows.
    const counted = pagesOf(pdfPages);
    const providerId = answer.id;
    if (typeof providerId !== 'string' || providerId === '') {
      throw new DataPlaneError(
        DataPlaneErrorCode.UpstreamBadResponse,
        'The backend answered the upload without a file id',
      );
    }
    try {
      const record = await this.records.keep({
        kind: 'file',
        ...owner,
        model,
        upstreamModel: holding.upstreamModel,
        route: holding.route,
        backend: holding.backend,
        providerId,
        ...(purpose === 'batch' && { estimate: estimator.estimate }),
        ...counted,
        object: answer,
      });
      return record.object;
    } catch (error) {
      // Not remembered, the file is no one's: nobody could read, use or delete it through
      // the gateway, and a client retrying would leave one more at the backend each time.
      // Logged once, with the 503 it is answered.
      await this.deleteStray(target, answer);
      throw storeUnavailable('file', error);
    }
  }

  /**
   * The upload sent to its backend as it is read: a failure on the way (a refused line,
   * the body limit, the client gone) aborts the backend's call and is the answer; were a
   * file made anyway (a backend that answered before the whole form came), it is deleted.
   */
  private async sentUpload(
    target: ReturnType<typeof targetOf>,
    upload: ReturnType<typeof streamedUploadForm>,
    form: UploadForm,
  ): Promise<JsonObject> {
    const { upstream } = this.options;
    let failure: Error | undefined;
    let whole = false;
    const data = (async function* () {
      try {
        yield* upload.body;
        whole = true;
      } catch (error) {
        failure = error as Error;
        throw error;
      }
    })();
    const body = { contentType: upload.contentType, data };
    let answer: JsonObject;
    try {
      answer = jsonOf(
        upstream.upload
          ? await upstream.upload(target, '/files', body)
          : await upstream.send(target, 'POST', '/files', {
              contentType: body.contentType,
              data: await gathered(data),
            }),
      );
    } catch (error) {
      const thrown = failure ?? error;
      this.options.onFileBytes?.('upload', uploadOutcome(thrown, failure), form.fileBytes());
      throw thrown;
    }
    if (failure !== undefined || !whole) {
      await this.deleteStray(target, answer);
      const thrown =
        failure ??
        new DataPlaneError(
          DataPlaneErrorCode.UpstreamBadResponse,
          'The backend answered the upload before the whole file was sent',
        );
      this.options.onFileBytes?.('upload', uploadOutcome(thrown, failure), form.fileBytes());
      throw thrown;
    }
    this.options.onFileBytes?.('upload', 'complete', form.fileBytes());
    return answer;
  }

  /** A file the backend made of an upload the gateway refused: deleted, so none is left. */
  private async deleteStray(
    target: ReturnType<typeof targetOf>,
    answer: JsonObject,
  ): Promise<void> {
    if (typeof answer.id !== 'string' || answer.id === '') return;
    try {
      await this.options.upstream.send(target, 'DELETE', `/files/${enc(answer.id)}`);
    } catch (error) {
      this.options.onError?.('deleting the backend file of a refused upload', error);
    }
  }

  async listFiles(request: FastifyRequest, lister: Lister, who: Who): Promise<JsonObject> {
    const query = (request.query ?? {}) as Query;
    const records = await this.records.listed('file', 1000, request.headers, lister, who);
    const purpose = typeof query.purpose === 'string' ? query.purpose : undefined;
    const kept = purpose ? records.filter((r) => r.object.purpose === purpose) : records;
    const order = query.order ?? 'desc';
    if (order !== 'asc' && order !== 'desc') {
      throw invalid("Invalid value for 'order': it must be 'asc' or 'desc'.", 'order');
    }
    // Listed newest first; `after` pages on in the order asked.
    const ordered = order === 'asc' ? kept.slice().reverse() : kept;
    return listPage(await this.withFileFields(ordered), query, undefined, FILE_LIST_LIMITS);
  }

  /**
   * The listed files' objects, every one with the fields OpenAI requires: a batch's output
   * or error file recorded before its backend described it is asked again (a few per
   * list, kept once answered); what is still missing is filled from what the gateway knows.
   */
  private async withFileFields(records: readonly HeldRecord[]): Promise<JsonObject[]> {
    const lacking = records
      .filter((r) => r.batchId !== undefined && lacksFileFields(r.object))
      .slice(0, OUTPUT_FILES_RETRIEVED_PER_LIST);
    const described = new Map<string, JsonObject>();
    await Promise.all(
      lacking.map(async (record) => {
        const answer = await describedFile(
          this.records,
          record,
          record.providerId,
          this.options.onError,
        );
        if (!answer) return;
        const object = outputFileObject(record, answer);
        described.set(record.id, object);
        await this.options.store
          .put({ ...record, object }, this.records.fileTtl(object))
          .catch((error: unknown) =>
            this.options.onError?.("keeping a batch output file's object", error),
          );
      }),
    );
    return records.map((record) => {
      const object = described.get(record.id) ?? record.object;
      return record.batchId !== undefined && lacksFileFields(object)
        ? outputFileObject(record, object)
        : object;
    });
  }

  async retrieveFile(request: FastifyRequest, who: Who): Promise<JsonObject> {
    const record = await this.records.owned('file', request, who);
    const answer = jsonOf(
      await this.records.call(record, 'GET', `/files/${enc(record.providerId)}`),
    );
    return { ...answer, id: record.id };
  }

  /**
   * The file's bytes as the backend streams them (their model names restored), to send;
   * a client that stops reading them is dropped after the send timeout (dropStalledPipeReader).
   */
  async fileContent(request: FastifyRequest, reply: FastifyReply, who: Who): Promise<Readable> {
    const content = await this.contentStream(request, reply, who);
    dropStalledPipeReader(content, reply.raw, this.options.clientSendTimeoutMs);
    return content;
  }

  private async contentStream(
    request: FastifyRequest,
    reply: FastifyReply,
    who: Who,
  ): Promise<Readable> {
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
    const lines = new JsonlLineTransform(downloadedLine(this.identityOf(record), tally), {
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
   * What a held file's lines may not tell its owner about the backend that holds it: the
   * model it runs, and its host (its account ids are always hidden).
   */
  private identityOf(record: HeldRecord): BackendIdentity {
    const backend = heldBackend(this.options.config(), record.route, record.backend);
    return {
      sentModel: record.upstreamModel,
      requestedModel: record.model,
      ...(backend?.baseUrl !== undefined && { baseUrl: backend.baseUrl }),
    };
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
    // A batch's output is billed from before it goes: once deleted it never could be.
    await this.billing.billBeforeOutputDeleted(record);
    try {
      await this.records.call(record, 'DELETE', `/files/${enc(record.providerId)}`);
    } catch (error) {
      // Gone at the backend already (expired there, deleted there): its 404 is the answer,
      // and the gateway forgets it too, else it stays listed with no way to remove it.
      if (isGoneAtBackend(error)) await this.options.store.delete(record);
      throw error;
    }
    await this.options.store.delete(record);
    return { id: record.id, object: 'file', deleted: true };
  }
}

/** A form field's first value. */
function fieldOf(fields: readonly Field[], name: string): string | undefined {
  return fields.find(([key]) => key === name)?.[1];
}

/** How a streamed batch file ended: read whole, cut by its reader hanging up, or failed. */
function streamOutcome(error: unknown): FileBytesOutcome {
  if (!error) return 'complete';
  return (error as { code?: unknown }).code === 'ERR_STREAM_PREMATURE_CLOSE' ? 'aborted' : 'failed';
}

/**
 * The fields after a streamed file: a `model` there (the gateway's own) is not sent on, and
 * may only repeat the one already read (from the header), by which the file was read.
 */
async function* fieldsAfterFile(after: AsyncIterable<Field>, model: string): AsyncGenerator<Field> {
  for await (const [name, value] of after) {
    if (name !== 'model') yield [name, value];
    else if (value !== model) {
      throw invalid(
        "Send the 'model' form field before 'file' (or only the 'x-ai-gateway-model' header): the file was read for the header's model",
        'model',
      );
    }
  }
}

/** A body made as it is read, gathered whole (a hop that takes only whole bodies). */
async function gathered(body: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const parts: Uint8Array[] = [];
  for await (const part of body) parts.push(part);
  return Buffer.concat(parts);
}

/**
 * How an upload that failed ended: refused (a line, a field, the body limit: the client's
 * error), aborted (the client gone), or failed (the backend).
 */
function uploadOutcome(thrown: unknown, ownFailure: unknown): FileBytesOutcome {
  if (ownFailure === undefined) return 'failed';
  if (thrown instanceof DataPlaneError && thrown.httpStatus < 500) return 'refused';
  return (thrown as { code?: unknown }).code === 'ERR_STREAM_PREMATURE_CLOSE' ||
    (thrown as { code?: unknown }).code === 'ECONNRESET'
    ? 'aborted'
    : 'failed';
}

/** The record's `pdfPages` for an upload that was a PDF counted whole; nothing otherwise. */
function pagesOf(counted: UploadPdfPages): { pdfPages?: number } {
  const pages = counted.pages();
  return pages === undefined ? {} : { pdfPages: pages };
}
