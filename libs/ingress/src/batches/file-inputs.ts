import { extname } from 'node:path';
import {
  backendsForModel,
  routeForModel,
  type BackendConfig,
  type GatewayConfig,
} from '@aigw/config';
import {
  DataPlaneError,
  DataPlaneErrorCode,
  TOKENS_PER_PDF_PAGE,
  type JsonObject,
} from '@aigw/contracts/data-plane';
import { enc, invalid, type Headers, type Who } from './held-api';
import type { HeldRecord } from './held-objects';
import type { HeldRecords } from './held-records';

/**
 * The purposes a model may read a file of as input: OpenAI's `user_data` (its file-inputs
 * guide uploads with it) and `assistants` (what Azure OpenAI, which has no `user_data`,
 * takes). A batch's input or output, a fine-tune's data are not a model's input.
 */
const INPUT_FILE_PURPOSES: ReadonlySet<string> = new Set(['user_data', 'assistants']);

/** The providers whose chat completions take a file part (by id or content). */
const FILE_TAKING_PROVIDERS: ReadonlySet<string> = new Set(['openai', 'azure']);

/**
 * The most of a file sent as content in a request's body: OpenAI's per-request limit on
 * file inputs. A larger one can only go by id, to the backend that holds it.
 */
export const MAX_INLINE_FILE_BYTES = 32 * 1024 * 1024;

/** A file part as the serving backend takes it: chat's `file` object. */
export type ResolvedFile =
  /**
   * The id the holding backend knows it by: every backend that may serve is that one. Its
   * `heldTokens` are what the file may bill in a prompt (fileIdHoldTokens), which a body
   * naming it by id cannot tell the hold; `heldPages` its PDF pages, where it is a PDF.
   */
  | {
      readonly kind: 'id';
      readonly file: JsonObject;
      readonly heldTokens: number;
      readonly heldPages?: number;
    }
  /**
   * Its content as a data URL: another backend may serve the request. A PDF's pages the
   * prompt estimate reads from it; any other file it cannot: its `heldTokens`, a token a
   * byte, as by id.
   */
  | { readonly kind: 'content'; readonly file: JsonObject; readonly heldTokens?: number };

/**
 * A gateway file id in a model call's input, made into what the backend takes. Only the
 * caller's own file (as its model's route identifies callers, as for reading it), of a
 * purpose a model reads, is used; another's, an unknown id or a provider's own id is the
 * same 404. The file lives at one backend: when the request can only be served there it
 * goes by that backend's id; when failover may take it elsewhere its content goes inline
 * (any OpenAI-format backend takes that); a model with no backend that takes files is
 * refused, as chat's file parts are there.
 */
export class FileInputs {
  constructor(
    private readonly config: () => GatewayConfig,
    private readonly records: HeldRecords,
  ) {}

  async resolve(
    id: string,
    param: string,
    requestedModel: string,
    headers: Headers,
    who: Who,
  ): Promise<ResolvedFile> {
    const record = await this.records.ownedRecord('file', id, headers, who, param);
    const purpose = record.object.purpose;
    if (typeof purpose !== 'string' || !INPUT_FILE_PURPOSES.has(purpose)) {
      throw invalid(
        `Invalid value for '${param}': the file ${id.slice(0, 128)} has purpose '${String(purpose).slice(0, 32)}', which a model does not read as input; upload it with purpose 'user_data' (or 'assistants').`,
        param,
      );
    }
    const serving = servingBackends(this.config(), requestedModel);
    if (!serving.some(({ backend }) => FILE_TAKING_PROVIDERS.has(backend.provider))) {
      throw invalid(
        `Invalid value for '${param}': the model "${requestedModel.slice(0, 128)}" has no OpenAI or Azure OpenAI backend, the only ones that take files; send the file's text as input_text instead.`,
        param,
      );
    }
    const onlyHolder = serving.every(
      ({ route, backend }) => route === record.route && backend.name === record.backend,
    );
    if (onlyHolder) {
      return {
        kind: 'id',
        file: { file_id: record.providerId },
        heldTokens: fileIdHoldTokens(record),
        ...(record.pdfPages !== undefined && { heldPages: record.pdfPages }),
      };
    }
    const file = await this.inlined(record, id, param);
    return { kind: 'content', ...file };
  }

  /** The file's content, read from the backend that holds it, as chat's file_data. */
  private async inlined(
    record: HeldRecord,
    id: string,
    param: string,
  ): Promise<{ file: JsonObject; heldTokens?: number }> {
    const size = record.object.bytes;
    if (typeof size === 'number' && size > MAX_INLINE_FILE_BYTES) throw tooLarge(id, param);
    const answer = await this.records.call(
      record,
      'GET',
      `/files/${enc(record.providerId)}/content`,
    );
    if (answer.body.byteLength > MAX_INLINE_FILE_BYTES) throw tooLarge(id, param);
    const filename = typeof record.object.filename === 'string' ? record.object.filename : '';
    const mediaType = mediaTypeOf(filename, answer.contentType);
    return {
      file: {
        file_data: `data:${mediaType};base64,${answer.body.toString('base64')}`,
        ...(filename !== '' && { filename }),
      },
      // Not a PDF: the estimate reads no pages of it.
      ...(mediaType !== 'application/pdf' && { heldTokens: answer.body.byteLength }),
    };
  }
}

/**
 * What a file named by id may bill in a prompt, from above: a PDF's pages counted at upload,
 * each at TOKENS_PER_PDF_PAGE as an inline PDF's; any other file (or a PDF uploaded before
 * pages were counted, too large to count, or let go for memory: UploadPdfPages) at its size,
 * a token a byte, which bounds the tokens of a text (each takes a byte at least).
 * Settlement bills what the backend reports.
 */
export function fileIdHoldTokens(record: HeldRecord): number {
  if (record.pdfPages !== undefined) return record.pdfPages * TOKENS_PER_PDF_PAGE;
  const bytes = record.object.bytes;
  return typeof bytes === 'number' && Number.isFinite(bytes) && bytes > 0 ? bytes : 0;
}

/** Every backend the router may call for `model`: its own, then a cheaper model's. */
function servingBackends(
  config: GatewayConfig,
  model: string,
): { route: string; backend: BackendConfig }[] {
  const route = routeForModel(config, model);
  if (!route) return [];
  const models = [model];
  const retry = route.retry;
  if (retry?.fallbackStrategy === 'cheaperModel') {
    const position = retry.fallbackOrder.indexOf(model);
    if (position >= 0) models.push(...retry.fallbackOrder.slice(position + 1));
  }
  return models.flatMap((served) =>
    backendsForModel(route, served).map((backend) => ({ route: route.name, backend })),
  );
}

function tooLarge(id: string, param: string): DataPlaneError {
  return new DataPlaneError(
    DataPlaneErrorCode.InvalidRequest,
    `Invalid value for '${param}': the file ${id.slice(0, 128)} is larger than the ${MAX_INLINE_FILE_BYTES / (1024 * 1024)} MB this model's backends can be sent as content (another backend than the one holding it may serve the request).`,
    { param },
  );
}

/** The document types OpenAI's file inputs read, by extension. */
const MEDIA_TYPES: Readonly<Record<string, string>> = {
  '.pdf': 'application/pdf',
  '.txt': 'text/plain',
  '.md': 'text/markdown',
  '.csv': 'text/csv',
  '.json': 'application/json',
  '.html': 'text/html',
  '.xml': 'application/xml',
  '.docx': 'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
  '.pptx': 'application/vnd.openxmlformats-officedocument.presentationml.presentation',
  '.xlsx': 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
};

/**
 * The file's media type: by its name, as backends answer content as octet-stream; else
 * what the backend said.
 */
function mediaTypeOf(filename: string, answered: string): string {
  const byName = MEDIA_TYPES[extname(filename).toLowerCase()];
  if (byName) return byName;
  const said = answered.split(';')[0].trim().toLowerCase();
  return /^[a-z]+\/[a-z0-9.+-]+$/.test(said) ? said : 'application/octet-stream';
}
