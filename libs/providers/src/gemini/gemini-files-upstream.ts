import { Readable } from 'node:stream';
import { request as undiciRequest } from 'undici';
import {
  DataPlaneError,
  DataPlaneErrorCode,
  textWithoutBackendIdentity,
  type BackendCallTarget,
} from '@aigw/contracts/data-plane';
import { timedOut } from '@aigw/infra/http';
import { transportError, upstreamHttpError } from '../core/upstream-failure';
import { GEMINI_BASE_URL, modelUrlPath } from './gemini.adapter';

// Google's Files API (ai.google.dev/api/files) at a Gemini backend, with the backend's own
// key: the resumable upload (a `start` at /upload/v1beta/files, then `upload` and
// `upload, finalize` steps at the upload URL it answers), and a file's get and delete.

/** A backend's answer: its status, the upload's status (`x-goog-upload-*`), its body. */
export interface GeminiFileReply {
  readonly status: number;
  /** `x-goog-upload-status`: `active` (send more) or `final` (the body holds the file). */
  readonly uploadStatus?: string;
  /** `x-goog-upload-size-received`, when the backend says. */
  readonly sizeReceived?: string;
  readonly body: Buffer;
}

/** What a resumable upload's start tells the backend (the client's X-Goog-Upload-Header-*). */
export interface GeminiUploadStart {
  /** The `{file: {displayName, ...}}` metadata as JSON, or empty. */
  readonly metadata: Buffer;
  readonly contentLength?: string;
  readonly contentType?: string;
}

/** One step of a resumable upload: its command, offset and bytes (streamed). */
export interface GeminiUploadStep {
  readonly command: string;
  readonly offset: string;
  /** The client's Content-Length, when it sent one (the bytes go on as they come). */
  readonly contentLength?: string;
  readonly data: AsyncIterable<Uint8Array>;
}

/** The error answers' text read at most (it is cut to 500 characters anyway). */
const MAX_ERROR_BYTES = 64 * 1024;

/** The Gemini API's base (`…/v1beta`) of a backend, without a trailing slash. */
function apiBase(backend: Pick<BackendCallTarget, 'baseUrl'>): URL {
  return new URL((backend.baseUrl ?? GEMINI_BASE_URL).replace(/\/+$/, ''));
}

/** Where a resumable upload starts: `/upload` before the API's path (Google's media URL). */
export function geminiUploadStartUrl(backend: Pick<BackendCallTarget, 'baseUrl'>): string {
  const base = apiBase(backend);
  return `${base.origin}/upload${base.pathname.replace(/\/+$/, '')}/files`;
}

/** A file's URL: `{base}/files/{id}`, the id one encoded segment. */
export function geminiFileUrl(backend: Pick<BackendCallTarget, 'baseUrl'>, id: string): string {
  return `${apiBase(backend).toString().replace(/\/+$/, '')}/files/${encodeURIComponent(id)}`;
}

/**
 * Calls a Gemini backend's Files API. The backend's key goes only to its own origin: an
 * upload URL it answers elsewhere is refused, never called with the key.
 */
export class GeminiFilesUpstream {
  /** Starts a resumable upload; the backend's upload URL for the steps that follow. */
  async start(
    backend: BackendCallTarget,
    start: GeminiUploadStart,
  ): Promise<{ uploadUrl: string }> {
    const headers: Record<string, string> = {
      ...this.keyOf(backend),
      'x-goog-upload-protocol': 'resumable',
      'x-goog-upload-command': 'start',
      'content-type': 'application/json',
    };
    if (start.contentLength !== undefined) {
      headers['x-goog-upload-header-content-length'] = start.contentLength;
    }
    if (start.contentType !== undefined) {
      headers['x-goog-upload-header-content-type'] = start.contentType;
    }
    const reply = await this.call(backend, geminiUploadStartUrl(backend), 'POST', headers, [
      start.metadata.byteLength > 0 ? start.metadata : Buffer.from('{}'),
    ]);
    const uploadUrl = reply.headers['x-goog-upload-url'];
    const url = Array.isArray(uploadUrl) ? uploadUrl[0] : uploadUrl;
    if (!url || !sameOrigin(url, backend)) {
      throw new DataPlaneError(
        DataPlaneErrorCode.UpstreamBadResponse,
        `backend "${backend.backendName}" started the upload without an upload URL of its own`,
      );
    }
    return { uploadUrl: url };
  }

  /** Sends one step of the upload to the backend's upload URL, its bytes as they come. */
  async step(
    backend: BackendCallTarget,
    uploadUrl: string,
    step: GeminiUploadStep,
  ): Promise<GeminiFileReply> {
    if (!sameOrigin(uploadUrl, backend)) {
      throw new DataPlaneError(
        DataPlaneErrorCode.NoBackendAvailable,
        'The upload URL is not at its backend any more (was the backend moved?)',
      );
    }
    const headers: Record<string, string> = {
      ...this.keyOf(backend),
      'x-goog-upload-command': step.command,
      'x-goog-upload-offset': step.offset,
    };
    if (step.contentLength !== undefined) headers['content-length'] = step.contentLength;
    const reply = await this.call(backend, uploadUrl, 'POST', headers, step.data);
    return replyOf(reply);
  }

  /** A file's GET or DELETE (`id` the backend's own, after `files/`). */
  async file(
    backend: BackendCallTarget,
    method: 'GET' | 'DELETE',
    id: string,
  ): Promise<GeminiFileReply> {
    const reply = await this.call(backend, geminiFileUrl(backend, id), method, this.keyOf(backend));
    return replyOf(reply);
  }

  /**
   * The tokens a file held here costs `model` as a prompt: countTokens on a content of that
   * file alone (free, and what Google bills for it: a video's frames and sound by its
   * length, a PDF's pages). Its answer's body, `{totalTokens}`.
   */
  async countTokens(
    backend: BackendCallTarget,
    model: string,
    file: { readonly id: string; readonly mimeType: string },
  ): Promise<GeminiFileReply> {
    const url = `${apiBase(backend).toString().replace(/\/+$/, '')}/${modelUrlPath(model)}:countTokens`;
    const fileData = {
      fileUri: geminiFileUrl(backend, file.id),
      ...(file.mimeType === '' ? {} : { mimeType: file.mimeType }),
    };
    const body = Buffer.from(
      JSON.stringify({ contents: [{ role: 'user', parts: [{ fileData }] }] }),
    );
    const headers = { ...this.keyOf(backend), 'content-type': 'application/json' };
    return replyOf(await this.call(backend, url, 'POST', headers, [body]));
  }

  private keyOf(backend: BackendCallTarget): Record<string, string> {
    if (!backend.credential) return {};
    const { headerName, headerPrefix, apiKey } = backend.credential;
    return { [headerName]: headerPrefix + apiKey.reveal() };
  }

  /**
   * One call: a body sent as it is made, the backend's timeout armed once it is sent (a
   * slow client is not the backend's fault); a non-2xx answer thrown as a model call's is.
   */
  private async call(
    backend: BackendCallTarget,
    url: string,
    method: 'GET' | 'POST' | 'DELETE',
    headers: Record<string, string>,
    body?: AsyncIterable<Uint8Array> | readonly Buffer[],
  ): Promise<{
    status: number;
    headers: Record<string, string | string[] | undefined>;
    body: Buffer;
  }> {
    const controller = new AbortController();
    let timer: NodeJS.Timeout | undefined;
    const arm = () => {
      timer = setTimeout(() => controller.abort(timedOut()), backend.requestTimeoutMs);
    };
    async function* sent(source: AsyncIterable<Uint8Array> | readonly Buffer[]) {
      for await (const chunk of source) yield chunk;
      arm();
    }
    if (!body) arm();
    try {
      const answer = await undiciRequest(url, {
        method,
        headers,
        body: body ? Readable.from(sent(body), { objectMode: false }) : undefined,
        signal: controller.signal,
        headersTimeout: 0,
        bodyTimeout: backend.requestTimeoutMs,
      });
      const ok = answer.statusCode >= 200 && answer.statusCode < 300;
      const data = ok
        ? Buffer.from(await answer.body.arrayBuffer())
        : await cappedBody(answer.body, MAX_ERROR_BYTES);
      if (!ok) throw failure(backend, answer.statusCode, data.toString('utf8'), answer.headers);
      return { status: answer.statusCode, headers: answer.headers, body: data };
    } catch (error) {
      throw transportError(backend.backendName, error, new AbortController().signal);
    } finally {
      clearTimeout(timer);
    }
  }
}

function replyOf(reply: {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}): GeminiFileReply {
  const header = (name: string) => {
    const value = reply.headers[name];
    return Array.isArray(value) ? value[0] : value;
  };
  const uploadStatus = header('x-goog-upload-status');
  const sizeReceived = header('x-goog-upload-size-received');
  return {
    status: reply.status,
    ...(uploadStatus === undefined ? {} : { uploadStatus }),
    ...(sizeReceived === undefined ? {} : { sizeReceived }),
    body: reply.body,
  };
}

function sameOrigin(url: string, backend: Pick<BackendCallTarget, 'baseUrl'>): boolean {
  try {
    return new URL(url).origin === apiBase(backend).origin;
  } catch {
    return false;
  }
}

async function cappedBody(body: AsyncIterable<Uint8Array> & { destroy?: () => void }, max: number) {
  const parts: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of body) {
    parts.push(chunk);
    size += chunk.length;
    if (size >= max) break;
  }
  return Buffer.concat(parts).subarray(0, max);
}

/** A 404 kept a 404 (the file is gone at Google); any other as a model call's error. */
function failure(
  backend: BackendCallTarget,
  status: number,
  text: string,
  headers: Record<string, string | string[] | undefined>,
): DataPlaneError {
  if (status === 404) {
    return new DataPlaneError(DataPlaneErrorCode.NotFound, 'No such file at the backend.', {
      upstreamStatus: 404,
    });
  }
  // As a model call's refusal reaches the client: without the backend's project number or
  // host (Google's quota refusals name the account's project as their consumer).
  const shown = textWithoutBackendIdentity(text, {
    sentModel: '',
    requestedModel: '',
    ...(backend.baseUrl !== undefined && { baseUrl: backend.baseUrl }),
  });
  return upstreamHttpError(backend.backendName, status, shown, headers, backend.credential?.apiKey);
}
