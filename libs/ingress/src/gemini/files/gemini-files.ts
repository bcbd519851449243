import type { FastifyRequest } from 'fastify';
import {
  backendsForModel,
  routeForModel,
  type BackendConfig,
  type GatewayConfig,
} from '@aigw/config';
import {
  DataPlaneError,
  DataPlaneErrorCode,
  modelNotAllowed,
  modelNotServed,
  upstreamTargetOf,
  type BackendCallTarget,
  type CallerContext,
  type JsonObject,
} from '@aigw/contracts/data-plane';
import { fromStore, ttlUntil } from '../../batches/held-api';
import type { StoreAway } from '../../batches/store-away-log';
import { isStoreUnavailable, storeUnavailable } from '../../responses/state/store-unavailable';
import { heldOwnerOf, type HeldObjectStore, type HeldRecord } from '../../batches/held-objects';
import { ownerKeys, recordsOfOwners } from '../../batches/owners-records';
import type { IngressPipeline } from '../../ingress-pipeline';
import { geminiCallerHeaders } from '../gemini-dialect';
import {
  isGeminiFileId,
  newGeminiFileId,
  newUploadToken,
  uploadRecordId,
} from './gemini-file-names';
import { isMultipartUpload, multipartBoundary, MultipartParts } from './gemini-multipart-upload';
import {
  GeminiFileTokens,
  type FileCountFailure,
  type GeminiFileCount,
} from './gemini-file-tokens';

/** What the gateway needs of a Gemini backend's Files API (the provider library's GeminiFilesUpstream). */
export interface GeminiFileCalls {
  start(
    backend: BackendCallTarget,
    start: { metadata: Buffer; contentLength?: string; contentType?: string },
  ): Promise<{ uploadUrl: string }>;
  step(
    backend: BackendCallTarget,
    uploadUrl: string,
    step: {
      command: string;
      offset: string;
      contentLength?: string;
      data: AsyncIterable<Uint8Array>;
    },
  ): Promise<GeminiCallReply>;
  file(backend: BackendCallTarget, method: 'GET' | 'DELETE', id: string): Promise<GeminiCallReply>;
  /** The backend's countTokens of a content holding only the file `id` (its own), for `model`. */
  countTokens(
    backend: BackendCallTarget,
    model: string,
    file: { readonly id: string; readonly mimeType: string },
  ): Promise<GeminiCallReply>;
}

export interface GeminiCallReply {
  readonly status: number;
  readonly uploadStatus?: string;
  readonly sizeReceived?: string;
  readonly body: Buffer;
}

/** A file a generateContent call names: its backend's URI and media type, and its holder. */
export interface HeldGeminiFile {
  readonly uri: string;
  readonly mimeType: string;
  readonly route: string;
  readonly backend: string;
  /** The input tokens the file costs each time a call names it (see gemini-file-tokens). */
  readonly tokens: number;
}

/** How a client's upload ended, for the uploads metric (a fixed set). */
export type GeminiUploadOutcome =
  | 'ok'
  | 'invalid'
  | 'refused'
  | 'not_found'
  | 'too_large'
  | 'aborted'
  | 'upstream_error'
  | 'store_unavailable';

export interface GeminiFilesOptions {
  readonly config: () => GatewayConfig;
  readonly upstream: GeminiFileCalls;
  readonly store: HeldObjectStore;
  /** How long the gateway remembers a file (and who owns it). */
  readonly ttlMs: number;
  /** The most one upload (its declared size, and each step's bytes) may be. */
  readonly maxFileBytes?: number;
  /** A file finalized, or an upload request refused or failed. */
  readonly onUpload?: (outcome: GeminiUploadOutcome) => void;
  /** A call answered 503 for its store of records (logs: its cause, once per call). */
  readonly onStoreAway?: (away: StoreAway) => void;
  /** A file's token count the backend did not give (the hold fell back: see gemini-file-tokens). */
  readonly onCountFailed?: (reason: FileCountFailure) => void;
  /** How long a call waits for a file's first token count (gemini-file-tokens' COUNT_WAIT_MS). */
  readonly countWaitMs?: number;
  /** A failure the client is not told of (a stray file's delete): logged, without secrets. */
  readonly onError?: (what: string, error: unknown) => void;
  readonly now?: () => number;
}

/** Who the callers are, as generateContent identifies them (the pipeline's). */
export type GeminiFileCallers = Pick<
  IngressPipeline,
  'ownerKeyFor' | 'ownerKeyIfIdentified' | 'callerFor' | 'mayUse' | 'ownerKeysWithoutModel'
>;

/** An answer to send: its status, extra headers and JSON body (none for an upload's step). */
export interface GeminiFileAnswer {
  readonly status: number;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: JsonObject;
}

/** Google's file size limit (2 GB), where AI_GATEWAY_MAX_FILE_BYTES is not set. */
const GEMINI_MAX_FILE_BYTES = 2 * 1024 ** 3;
/** Google keeps an upload session a week; the gateway a day, its record then lapses. */
const UPLOAD_SESSION_MS = 24 * 60 * 60 * 1000;
/** The start's metadata JSON read at most. */
const MAX_METADATA_BYTES = 64 * 1024;
/** A media type the backend is sent as a header's value (the wire takes no other). */
const HEADER_VALUE = /^[\x21-\x7e][\x20-\x7e]{0,254}$/;
/** The files list's page size: Google's default and most. */
const LIST_PAGE = { unset: 10, max: 100 };

/** The header naming the model whose backend holds an uploaded file. */
const GEMINI_FILE_MODEL_HEADER = 'x-ai-gateway-model';

/**
 * Google's Files API on the gateway's Gemini edge. A file is uploaded (Google's resumable
 * protocol, streamed through) to the first backend of the model the client names in
 * `x-ai-gateway-model`, which must be a Gemini backend; the client gets the gateway's own
 * name for it (`files/aigw-…`), and only its owner (as that model's route identifies
 * callers) can read, list, delete or use it. The backend's key and its own names and
 * upload URLs never reach the client.
 */
export class GeminiFiles {
  private readonly now: () => number;
  private readonly tokens: GeminiFileTokens;

  constructor(private readonly options: GeminiFilesOptions) {
    this.now = options.now ?? Date.now;
    this.tokens = new GeminiFileTokens({
      count: (record, model) =>
        options.upstream.countTokens(targetOf(this.holderOf(record)), model, {
          id: record.providerId,
          mimeType: typeof record.object.mimeType === 'string' ? record.object.mimeType : '',
        }),
      remember: (record, tokens) => this.rememberCount(record, tokens),
      ...(options.onCountFailed && { onFailed: options.onCountFailed }),
      ...(options.countWaitMs !== undefined && { waitMs: options.countWaitMs }),
      ...(options.onError && { onError: options.onError }),
    });
  }

  /** `POST /upload/v1beta/files`: a resumable upload's start, or (with upload_id) a step of it. */
  async upload(request: FastifyRequest, callers: GeminiFileCallers): Promise<GeminiFileAnswer> {
    const query = (request.query ?? {}) as Record<string, unknown>;
    const token = typeof query.upload_id === 'string' ? query.upload_id : undefined;
    try {
      if (!token && isMultipartUpload(query, header(request, 'x-goog-upload-protocol'))) {
        const answer = await this.multipart(request, callers);
        this.options.onUpload?.('ok');
        return answer;
      }
      const answer = token
        ? await this.step(request, token, callers)
        : await this.start(request, callers);
      if (answer.headers?.['x-goog-upload-status'] === 'final') this.options.onUpload?.('ok');
      return answer;
    } catch (error) {
      this.options.onUpload?.(uploadOutcome(error, request));
      throw error;
    }
  }

  private async start(
    request: FastifyRequest,
    callers: GeminiFileCallers,
  ): Promise<GeminiFileAnswer> {
    const protocol = header(request, 'x-goog-upload-protocol');
    const command = header(request, 'x-goog-upload-command');
    if (protocol !== 'resumable' || command !== 'start') {
      await drain(request);
      throw invalid(
        "Upload with Google's resumable protocol: start with X-Goog-Upload-Protocol: resumable and X-Goog-Upload-Command: start, then send the bytes to the X-Goog-Upload-URL answered",
      );
    }
    const metadata = await metadataOf(request);
    const uploader = await this.uploader(request, callers);
    const { holder } = uploader;
    const size = header(request, 'x-goog-upload-header-content-length');
    if (size !== undefined && !/^\d{1,16}$/.test(size)) {
      throw invalid('X-Goog-Upload-Header-Content-Length must be a whole number of bytes');
    }
    if (size !== undefined && Number(size) > this.maxBytes) throw tooLarge(this.maxBytes);
    const contentType = header(request, 'x-goog-upload-header-content-type');
    // Checked here, as the split deployment's wire checks it: one 400 in both shapes.
    if (contentType !== undefined && !HEADER_VALUE.test(contentType)) {
      throw invalid(
        'X-Goog-Upload-Header-Content-Type must be a media type of printable ASCII, at most 255 characters',
      );
    }
    const { uploadUrl } = await this.options.upstream.start(targetOf(holder), {
      metadata,
      ...(size === undefined ? {} : { contentLength: size }),
      ...optional('contentType', contentType),
    });
    const token = newUploadToken();
    await this.options.store.put(
      // The backend's upload URL: a capability of its own, never shown to the client.
      this.uploadSession(uploader, uploadRecordId(token), uploadUrl),
      Math.min(this.options.ttlMs, UPLOAD_SESSION_MS),
    );
    return {
      status: 200,
      headers: {
        'x-goog-upload-status': 'active',
        'x-goog-upload-url': gatewayUploadUrl(request, token),
        'x-goog-upload-control-url': gatewayUploadUrl(request, token),
      },
    };
  }

  /** Who uploads, for which model, and the backend that will hold the file. */
  private async uploader(request: FastifyRequest, callers: GeminiFileCallers): Promise<Uploader> {
    const headers = geminiCallerHeaders(request);
    const model = header(request, GEMINI_FILE_MODEL_HEADER);
    if (!model) {
      throw invalid(
        `Name the model this file is for in the '${GEMINI_FILE_MODEL_HEADER}' header: the gateway keeps the file at that model's Gemini backend, and generateContent calls of that model can use it`,
      );
    }
    const caller = await callers.callerFor(model, headers);
    if (caller === undefined) throw modelNotServed(model);
    if (!(await callers.mayUse(model, headers))) throw modelNotAllowed(model);
    return { caller, model, holder: geminiHolderFor(this.options.config(), model) };
  }

  /** An upload's record of who uploads what for which backend (`providerId` its upload URL). */
  private uploadSession(
    { caller, model, holder }: Uploader,
    id: string,
    providerId: string,
  ): HeldRecord {
    return {
      id,
      kind: 'gemini_upload',
      ...heldOwnerOf(caller),
      model,
      upstreamModel: model,
      route: holder.route,
      backend: holder.backend.name,
      provider: holder.backend.provider,
      providerId,
      createdAt: this.now(),
      object: {},
    };
  }

  /**
   * Google's simple multipart upload: the metadata part, then the media part streamed to
   * the backend as it arrives. The backend is sent it as a resumable upload of one
   * `upload, finalize` step (the call the gateway already makes for the resumable one).
   */
  private async multipart(
    request: FastifyRequest,
    callers: GeminiFileCallers,
  ): Promise<GeminiFileAnswer> {
    let uploader: Uploader;
    try {
      uploader = await this.uploader(request, callers);
    } catch (error) {
      await drain(request);
      throw error;
    }
    const { holder } = uploader;
    const boundary = multipartBoundary(header(request, 'content-type'));
    if (boundary === undefined) {
      await drain(request);
      throw invalid(
        "A multipart upload's body is 'multipart/related' (or 'multipart/form-data') with a boundary: a JSON metadata part, then the media part",
      );
    }
    // The body: the file within the limit, with its metadata part and framing.
    const parts = new MultipartParts(request.raw, boundary, this.maxUploadBodyBytes);
    let failure: unknown;
    try {
      if (!(await parts.nextPart())) throw invalid('The multipart upload has no metadata part');
      const metadata = displayNameOnly(await parts.text(MAX_METADATA_BYTES, 'metadata'));
      const media = await parts.nextPart();
      if (!media) throw invalid('The multipart upload has no media part after its metadata');
      const contentType = media['content-type'] || undefined;
      // It goes on as a header (X-Goog-Upload-Header-Content-Type): printable ASCII only.
      if (contentType !== undefined && !HEADER_VALUE.test(contentType)) {
        throw invalid("The media part's Content-Type must be printable ASCII");
      }
      const target = targetOf(holder);
      const { uploadUrl } = await this.options.upstream.start(target, {
        metadata,
        ...optional('contentType', contentType),
      });
      const data = (async function* (max: number) {
        try {
          yield* bounded(parts.content(), max);
        } catch (error) {
          failure = error;
          throw error;
        }
      })(this.maxBytes);
      const answer = await this.options.upstream.step(target, uploadUrl, {
        command: 'upload, finalize',
        offset: '0',
        data,
      });
      if (answer.uploadStatus !== 'final') {
        throw new DataPlaneError(
          DataPlaneErrorCode.UpstreamBadResponse,
          'The backend did not finalize the upload',
        );
      }
      const file = fileOf((jsonOf(answer.body) as { file?: unknown } | null)?.file);
      // No session is kept: the one step finalized the upload.
      const session = this.uploadSession(uploader, '', '');
      const record = await this.keep(session, file, newGeminiFileId());
      await drain(request);
      return { status: 200, body: { file: clientFile(record, file, originOf(request)) } };
    } catch (error) {
      await drain(request);
      throw failure ?? error;
    }
  }

  /**
   * A step of an upload: its bytes streamed to the backend's upload URL. The token is the
   * capability (as Google's upload URL is); a step that carries a credential must be the
   * owner's. The file is kept once the backend answers `final`.
   */
  private async step(
    request: FastifyRequest,
    token: string,
    callers: GeminiFileCallers,
  ): Promise<GeminiFileAnswer> {
    const session = await fromStore('file', () => this.options.store.get(uploadRecordId(token)));
    if (!session || session.kind !== 'gemini_upload') {
      await drain(request);
      throw new DataPlaneError(
        DataPlaneErrorCode.NotFound,
        'No such upload (it was finalized, cancelled or has expired).',
      );
    }
    const headers = geminiCallerHeaders(request);
    if (carriesCredential(headers)) {
      const asker = await callers.ownerKeyIfIdentified(session.model, headers);
      if (asker !== session.owner) {
        await drain(request);
        throw new DataPlaneError(
          DataPlaneErrorCode.NotFound,
          'No such upload (it was finalized, cancelled or has expired).',
        );
      }
    }
    const command = (header(request, 'x-goog-upload-command') ?? '').toLowerCase();
    const commands = command.split(',').map((word) => word.trim());
    if (commands.includes('cancel')) {
      await drain(request);
      await this.options.store.delete(session);
      return { status: 200, headers: { 'x-goog-upload-status': 'cancelled' } };
    }
    if (!commands.every((word) => word === 'upload' || word === 'finalize') || command === '') {
      await drain(request);
      throw invalid(
        "X-Goog-Upload-Command must be 'upload', 'upload, finalize', 'finalize' or 'cancel'",
      );
    }
    const offset = header(request, 'x-goog-upload-offset') ?? '0';
    if (!/^\d{1,16}$/.test(offset)) {
      await drain(request);
      throw invalid('X-Goog-Upload-Offset must be a whole number of bytes');
    }
    const backend = this.backendOf(session);
    const length = header(request, 'content-length');
    if (length !== undefined && Number(length) + Number(offset) > this.maxBytes) {
      await drain(request);
      throw tooLarge(this.maxBytes);
    }
    // The client's own failure (past the limit, gone) is the answer, not the backend's cut call.
    let failure: unknown;
    const data = (async function* (max: number) {
      try {
        yield* bounded(request.raw, max);
      } catch (error) {
        failure = error;
        throw error;
      }
    })(this.maxBytes - Number(offset));
    let answer: GeminiCallReply;
    try {
      answer = await this.options.upstream.step(
        targetOf({ route: session.route, backend }),
        session.providerId,
        { command, offset, ...optional('contentLength', length), data },
      );
    } catch (error) {
      throw failure ?? error;
    }
    if (answer.uploadStatus !== 'final') {
      return {
        status: 200,
        headers: {
          'x-goog-upload-status': answer.uploadStatus ?? 'active',
          ...(answer.sizeReceived === undefined
            ? {}
            : { 'x-goog-upload-size-received': answer.sizeReceived }),
        },
      };
    }
    const file = fileOf((jsonOf(answer.body) as { file?: unknown } | null)?.file);
    const id = newGeminiFileId();
    const record = await this.keep(session, file, id);
    await this.options.store.delete(session);
    return {
      status: 200,
      headers: { 'x-goog-upload-status': 'final' },
      body: { file: clientFile(record, file, originOf(request)) },
    };
  }

  private async keep(session: HeldRecord, file: JsonObject, id: string): Promise<HeldRecord> {
    const name = typeof file.name === 'string' ? file.name : '';
    const providerId = name.startsWith('files/') ? name.slice('files/'.length) : '';
    const providerUri = typeof file.uri === 'string' ? file.uri : '';
    if (providerId === '' || providerUri === '') {
      throw new DataPlaneError(
        DataPlaneErrorCode.UpstreamBadResponse,
        'The backend finalized the upload without a file name and URI',
      );
    }
    const record: HeldRecord = {
      id,
      kind: 'gemini_file',
      owner: session.owner,
      ...(session.userId === undefined ? {} : { userId: session.userId }),
      model: session.model,
      upstreamModel: session.upstreamModel,
      route: session.route,
      backend: session.backend,
      provider: session.provider,
      providerId,
      providerUri,
      createdAt: this.now(),
      object: file,
    };
    try {
      await this.options.store.put(record, this.ttlOf(file));
    } catch (error) {
      // Not remembered, the file is no one's: nobody could read, use or delete it through
      // the gateway. Deleted at its backend (as far as it can be), the client asked to retry.
      await this.deleteUnkept(record);
      throw storeUnavailable('file', error);
    }
    return record;
  }

  /** A finalized file the gateway could not remember, deleted at its backend if it can be. */
  private async deleteUnkept(record: HeldRecord): Promise<void> {
    try {
      await this.options.upstream.file(
        targetOf(this.holderOf(record)),
        'DELETE',
        record.providerId,
      );
    } catch (error) {
      // The backend deletes it in 48 hours regardless; its name (never its upload URL, a
      // capability) lets an operator delete it sooner.
      this.options.onError?.(
        `deleting the unkept file files/${record.providerId} at backend ${record.backend}`,
        error,
      );
    }
  }

  /** A call's failure, as its route answers it: one for its store is logged with its cause. */
  failed(action: string, requestId: string, error: DataPlaneError): void {
    if (!isStoreUnavailable(error)) return;
    this.options.onStoreAway?.({ kind: 'gemini_file', action, requestId, cause: error.cause });
  }

  /**
   * How long the gateway remembers a file: its TTL, cut to the `expirationTime` at which
   * the backend deletes the file (Google keeps one 48 hours), so a file gone there is not
   * listed or sent on for the rest of the TTL.
   */
  private ttlOf(file: JsonObject): number {
    const expires =
      typeof file.expirationTime === 'string' ? Date.parse(file.expirationTime) : Number.NaN;
    return ttlUntil(expires, this.options.ttlMs, this.now());
  }

  /** `GET /v1beta/files/{id}`: the owner's file, as its backend describes it now. */
  async get(request: FastifyRequest, callers: GeminiFileCallers): Promise<GeminiFileAnswer> {
    const record = await this.owned(idOf(request), request, callers);
    const answer = await this.options.upstream.file(
      targetOf(this.holderOf(record)),
      'GET',
      record.providerId,
    );
    const file = fileOf(jsonOf(answer.body));
    // Its state (PROCESSING, ACTIVE) changes: a list shows the last one seen.
    // An answer without its expiry keeps the one first seen.
    await this.options.store.put(
      { ...record, object: file },
      this.ttlOf({ ...record.object, ...file }),
    );
    return { status: 200, body: clientFile(record, file, originOf(request)) };
  }

  /** `DELETE /v1beta/files/{id}`: deleted at its backend, then forgotten. */
  async delete(request: FastifyRequest, callers: GeminiFileCallers): Promise<GeminiFileAnswer> {
    const record = await this.owned(idOf(request), request, callers);
    try {
      await this.options.upstream.file(
        targetOf(this.holderOf(record)),
        'DELETE',
        record.providerId,
      );
    } catch (error) {
      // Gone at the backend already (expired after 48 h): forgotten here too.
      if (!(error instanceof DataPlaneError && error.code === DataPlaneErrorCode.NotFound)) {
        throw error;
      }
    }
    await this.options.store.delete(record);
    return { status: 200, body: {} };
  }

  /**
   * `GET /v1beta/files`: the caller's own files, newest first, as last seen. They are read
   * under the caller's key on the model's route (`x-ai-gateway-model`), else under its key
   * on every route that identifies it; a file is listed only when its own route identifies
   * the caller as its owner.
   */
  async list(request: FastifyRequest, callers: GeminiFileCallers): Promise<GeminiFileAnswer> {
    const query = (request.query ?? {}) as Record<string, unknown>;
    const pageSize = pageSizeOf(query.pageSize);
    const headers = geminiCallerHeaders(request);
    const model = header(request, GEMINI_FILE_MODEL_HEADER);
    const owners = model
      ? ownerKeys(await callers.ownerKeyFor(model, headers))
      : await callers.ownerKeysWithoutModel(headers);
    const records = await fromStore('file', () =>
      recordsOfOwners(this.options.store, owners, 'gemini_file', 1_000),
    );
    const askers = new Map<string, Promise<string | undefined>>();
    const askerOn = (recordModel: string) => {
      let asker = askers.get(recordModel);
      if (!asker) {
        asker = callers.ownerKeyIfIdentified(recordModel, headers);
        askers.set(recordModel, asker);
      }
      return asker;
    };
    const mine = await Promise.all(records.map(async (r) => (await askerOn(r.model)) === r.owner));
    const owned = records.filter((_, at) => mine[at]);
    const token = typeof query.pageToken === 'string' ? query.pageToken : '';
    const start = token === '' ? 0 : owned.findIndex((r) => r.id === pageTokenId(token)) + 1;
    if (start === 0 && token !== '') throw invalid('Invalid pageToken: no such page of your files');
    const page = owned.slice(start, start + pageSize);
    const origin = originOf(request);
    return {
      status: 200,
      body: {
        ...(page.length === 0 ? {} : { files: page.map((r) => clientFile(r, r.object, origin)) }),
        ...(start + pageSize < owned.length
          ? { nextPageToken: Buffer.from(page.at(-1)!.id).toString('base64url') }
          : {}),
      },
    };
  }

  /**
   * The caller's files a generateContent call names (`fileData.fileUri`, the gateway's
   * ids): each must be the caller's own (as its model's route identifies callers; another
   * caller's is the same 404 as an unknown one) and held by one of the called model's own
   * backends, all by the same one: the router calls that backend alone (load balancing
   * and cooldowns aside). Answers each id's backend URI and holder.
   */
  async heldFiles(
    ids: ReadonlySet<string>,
    model: string,
    headers: Readonly<Record<string, string | string[] | undefined>>,
    callers: Pick<GeminiFileCallers, 'ownerKeyFor'>,
  ): Promise<Map<string, HeldGeminiFile>> {
    const route = routeForModel(this.options.config(), model);
    const serving = route ? backendsForModel(route, model) : [];
    const found = new Map<string, HeldRecord>();
    for (const id of ids) {
      const record = await this.ownedRecord(id, headers, callers);
      if (
        !route ||
        record.route !== route.name ||
        !serving.some((backend) => backend.name === record.backend)
      ) {
        throw invalid(
          `The file files/${id} is held by a backend of model "${record.model.slice(0, 128)}", which does not serve "${model.slice(0, 128)}": call a model that backend serves`,
        );
      }
      const other = [...found.values()].find((file) => file.backend !== record.backend);
      if (other) {
        throw invalid(
          'The files this request names are held by different backends, and no one backend can read them all: name files uploaded for the same model',
        );
      }
      found.set(id, record);
    }
    // Counted together: a call waits for its files' first counts once, not once a file.
    // What the holder runs: its own model, or a wildcard backend's, the one called.
    const holderModel = (record: HeldRecord) =>
      serving.find((backend) => backend.name === record.backend)?.model ?? model;
    const tokens = await Promise.all(
      [...found.values()].map((record) => this.tokens.of(record, holderModel(record))),
    );
    return new Map(
      [...found.entries()].map(([id, record], at) => [
        id,
        {
          uri: record.providerUri ?? '',
          mimeType: typeof record.object.mimeType === 'string' ? record.object.mimeType : '',
          route: record.route,
          backend: record.backend,
          tokens: tokens[at],
        },
      ]),
    );
  }

  /**
   * A file's count, kept with its record as the store has it by then: the record read
   * before the count may since have been deleted, or updated by a GET (its state, its
   * videoMetadata), and putting that one back would undo either. The store has no
   * compare-and-set; reading again narrows the window from the count's seconds to a read.
   */
  private async rememberCount(read: HeldRecord, tokens: GeminiFileCount): Promise<void> {
    const current = await this.options.store.get(read.id);
    if (!current || current.kind !== 'gemini_file') return;
    await this.options.store.put({ ...current, geminiTokens: tokens }, this.ttlOf(current.object));
  }

  private async owned(
    id: string,
    request: FastifyRequest,
    callers: Pick<GeminiFileCallers, 'ownerKeyFor'>,
  ): Promise<HeldRecord> {
    return this.ownedRecord(id, geminiCallerHeaders(request), callers);
  }

  /** The caller's file, or a 404 the same for an unknown id and another caller's file. */
  private async ownedRecord(
    id: string,
    headers: Readonly<Record<string, string | string[] | undefined>>,
    callers: Pick<GeminiFileCallers, 'ownerKeyFor'>,
  ): Promise<HeldRecord> {
    const record = isGeminiFileId(id)
      ? await fromStore('file', () => this.options.store.get(id))
      : undefined;
    const asker = record ? await callers.ownerKeyFor(record.model, headers) : undefined;
    if (!record || record.kind !== 'gemini_file' || asker === undefined || asker !== record.owner) {
      throw new DataPlaneError(
        DataPlaneErrorCode.NotFound,
        `File files/${id.slice(0, 64).replace(/[^a-z0-9-]/g, '?')} was not found, or you may not use it.`,
      );
    }
    return record;
  }

  private holderOf(record: HeldRecord): Holder {
    return { route: record.route, backend: this.backendOf(record) };
  }

  /** The backend a record names, if the configuration still has it as a Gemini backend. */
  private backendOf(record: HeldRecord): BackendConfig {
    const route = this.options.config().routes.find((r) => r.name === record.route);
    const backend = route?.backends.find(
      (b) => b.name === record.backend && b.provider === GEMINI_PROVIDER,
    );
    if (!backend) {
      throw new DataPlaneError(
        DataPlaneErrorCode.NoBackendAvailable,
        `The backend holding this file ("${record.backend}") is no longer configured`,
      );
    }
    return backend;
  }

  private get maxBytes(): number {
    return this.options.maxFileBytes ?? GEMINI_MAX_FILE_BYTES;
  }

  /** The most an upload request's body may be: the file, with a multipart upload's metadata. */
  get maxUploadBodyBytes(): number {
    return this.maxBytes + MAX_METADATA_BYTES;
  }
}

const GEMINI_PROVIDER = 'google-gemini';

interface Holder {
  readonly route: string;
  readonly backend: BackendConfig;
}

/** Who uploads a file, for which model, and the backend that will hold it. */
interface Uploader {
  readonly caller: CallerContext;
  readonly model: string;
  readonly holder: Holder;
}

/**
 * The backend a model's files are uploaded to: the first of its chain (by priority),
 * which must be a Gemini backend. A generateContent naming the file later goes to that
 * backend whatever the chain's order then (the router's held-file pin).
 */
function geminiHolderFor(config: GatewayConfig, model: string): Holder {
  const route = routeForModel(config, model);
  if (!route) throw modelNotServed(model);
  const first = backendsForModel(route, model)[0];
  if (!first || first.provider !== GEMINI_PROVIDER) {
    throw invalid(
      `The model "${model.slice(0, 128)}" is not served first by a Gemini backend: files are kept at a Gemini backend, the first of the model's chain`,
    );
  }
  return { route: route.name, backend: first };
}

function targetOf(holder: Holder): BackendCallTarget {
  return upstreamTargetOf(holder.backend, holder.backend.model ?? '', holder.route);
}

/** The file as the client sees it: the gateway's name and URI, no backend URL of its own. */
function clientFile(record: HeldRecord, file: JsonObject, origin: string): JsonObject {
  const { downloadUri: _download, ...rest } = file;
  return {
    ...rest,
    name: `files/${record.id}`,
    uri: `${origin}/v1beta/files/${record.id}`,
  };
}

function fileOf(value: unknown): JsonObject {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw noFileObject();
  return value as JsonObject;
}

function noFileObject(): DataPlaneError {
  return new DataPlaneError(
    DataPlaneErrorCode.UpstreamBadResponse,
    'The backend answered the files call without a File object',
  );
}

function jsonOf(body: Buffer): unknown {
  try {
    return JSON.parse(body.toString('utf8'));
  } catch {
    throw noFileObject();
  }
}

/** The start's `{file: {displayName}}`: only the display name goes on (the gateway names files). */
async function metadataOf(request: FastifyRequest): Promise<Buffer> {
  const parts: Buffer[] = [];
  let size = 0;
  // Not destroyed when left past the limit: the 400 is answered on the open connection.
  for await (const chunk of request.raw.iterator({ destroyOnReturn: false })) {
    size += (chunk as Buffer).length;
    if (size > MAX_METADATA_BYTES) {
      await drain(request);
      throw invalid('The upload start body (the file metadata) is too large');
    }
    parts.push(chunk as Buffer);
  }
  return displayNameOnly(Buffer.concat(parts).toString('utf8'));
}

/** Metadata JSON as the backend is sent it: `{file: {displayName}}` only, or nothing. */
function displayNameOnly(json: string): Buffer {
  const text = json.trim();
  if (text === '') return Buffer.alloc(0);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw invalid('The upload start body must be JSON: {"file": {"displayName": "..."}}');
  }
  const file = (parsed as { file?: unknown } | null)?.file;
  const displayName =
    typeof file === 'object' && file !== null
      ? ((file as JsonObject).displayName ?? (file as JsonObject).display_name)
      : undefined;
  if (typeof displayName !== 'string') return Buffer.alloc(0);
  return Buffer.from(JSON.stringify({ file: { displayName: displayName.slice(0, 512) } }));
}

/** The request's bytes as they come, cut with a 413 past `max`. */
async function* bounded(
  source: AsyncIterable<Uint8Array>,
  max: number,
): AsyncGenerator<Uint8Array> {
  let size = 0;
  for await (const chunk of source) {
    size += chunk.length;
    if (size > max) throw tooLarge(max);
    yield chunk;
  }
}

/**
 * What of a refused upload's body is read, at most, before its answer: enough that a
 * client still sending a small body reads the answer (a declared length ends the read
 * sooner), never an endless or slow body's all. Past it the answer closes the connection
 * (`Connection: close`, see gemini-file-routes), so nothing reads the rest.
 */
const REFUSED_BODY_READ = { maxBytes: 1024 * 1024, maxMs: 2_000 } as const;

/** Reads what is left of a refused request, within REFUSED_BODY_READ, so the answer reaches the client. */
async function drain(request: FastifyRequest): Promise<void> {
  const raw = request.raw;
  if (raw.readableEnded || raw.destroyed) return;
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, REFUSED_BODY_READ.maxMs);
  });
  const read = (async () => {
    let size = 0;
    try {
      // Not destroyed when left: the socket stays open until the answer is written.
      for await (const chunk of raw.iterator({ destroyOnReturn: false })) {
        size += (chunk as Buffer).length;
        if (size >= REFUSED_BODY_READ.maxBytes) break;
      }
    } catch {
      // a client gone: nothing to answer
    }
  })();
  try {
    await Promise.race([read, late]);
  } finally {
    clearTimeout(timer);
  }
}

function header(request: FastifyRequest, name: string): string | undefined {
  const value = request.headers[name];
  const first = Array.isArray(value) ? value[0] : value;
  return first === undefined || first === '' ? undefined : first;
}

function carriesCredential(headers: Readonly<Record<string, unknown>>): boolean {
  return headers['x-goog-api-key'] !== undefined || headers.authorization !== undefined;
}

/** Where the upload's steps go: the path its start came to, with the upload's token. */
function gatewayUploadUrl(request: FastifyRequest, token: string): string {
  const path = request.url.split('?')[0];
  return `${originOf(request)}${path}?upload_id=${token}&upload_protocol=resumable`;
}

/** The origin the client reached the gateway at (the upload URL and file URIs name it). */
function originOf(request: FastifyRequest): string {
  return `${request.protocol}://${request.host}`;
}

function idOf(request: FastifyRequest): string {
  return (request.params as { id: string }).id;
}

function pageSizeOf(value: unknown): number {
  if (value === undefined || value === '') return LIST_PAGE.unset;
  const size = Number(value);
  if (!Number.isInteger(size) || size < 1) {
    throw invalid('Invalid pageSize: it must be a whole number of at least 1');
  }
  return Math.min(size, LIST_PAGE.max);
}

function pageTokenId(token: string): string {
  return Buffer.from(token, 'base64url').toString('utf8');
}

function optional<K extends string>(key: K, value: string | undefined): { [P in K]?: string } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: string };
}

function invalid(message: string): DataPlaneError {
  return new DataPlaneError(DataPlaneErrorCode.InvalidRequest, message);
}

function tooLarge(max: number): DataPlaneError {
  return new DataPlaneError(
    DataPlaneErrorCode.BodyTooLarge,
    `The file is larger than the ${max} bytes this gateway takes`,
  );
}

/** A metric's outcome for a failed upload request (never its text). */
function uploadOutcome(error: unknown, request: FastifyRequest): GeminiUploadOutcome {
  if (request.raw.destroyed && !request.raw.readableEnded) return 'aborted';
  if (!(error instanceof DataPlaneError)) return 'upstream_error';
  if (isStoreUnavailable(error)) return 'store_unavailable';
  if (error.code === DataPlaneErrorCode.BodyTooLarge) return 'too_large';
  if (error.httpStatus === 404) return 'not_found';
  if (error.httpStatus === 401 || error.httpStatus === 403 || error.httpStatus === 429) {
    return 'refused';
  }
  if (error.httpStatus < 500) return 'invalid';
  return 'upstream_error';
}
