import type { Socket } from 'node:net';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { DataPlaneError, DataPlaneErrorCode } from '@aigw/contracts/data-plane';
import { toDataPlaneError } from '../../http/openai-errors';
import { sendGeminiError } from '../gemini-errors';
import type { GeminiFileAnswer, GeminiFileCallers, GeminiFiles } from './gemini-files';

/**
 * The Files API's paths on the Gemini edge: Google's SDKs use v1 (@google/genai 3) or
 * v1beta. `/v1/files` is also OpenAI's Files API: there a Google SDK's calls (its
 * `x-goog-api-key` or `x-goog-api-client`) are handed here by the OpenAI routes.
 */
const GEMINI_UPLOAD_PATHS = ['/upload/v1beta/files', '/upload/v1/files'] as const;
const GEMINI_FILES_PATH = '/v1beta/files';

type Handler = (request: FastifyRequest, reply: FastifyReply) => Promise<FastifyReply>;

/** The Files API's handlers, each answering in Google's shape. */
export interface GeminiFileHandlers {
  readonly upload: Handler;
  readonly list: Handler;
  readonly get: Handler;
  readonly delete: Handler;
}

/**
 * Google's Files API: the resumable upload at `/upload/v1beta/files`, a file's get and
 * delete at `/v1beta/files/{id}`, the caller's list at `/v1beta/files`. Without `files`
 * (a deployment whose edge holds no backend keys) each answers that it is not served.
 * Registered in a scope of their own: an upload's body (any media type) is read by its
 * handler as it arrives, never by the app's JSON parser or held whole.
 */
export function registerGeminiFileRoutes(
  fastify: FastifyInstance,
  callers: GeminiFileCallers,
  files?: GeminiFiles,
): void {
  const handlers = geminiFileHandlers(callers, files);
  void fastify.register(async (scope) => {
    // The upload's bytes stay unread until the handler streams them to the backend.
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', (_request, _payload, done) => done(null, undefined));
    // The handler holds the body to this itself; declared, the edge reads it too (a client
    // waiting for 100 Continue is refused before it sends only past the file's limit).
    const limit = files === undefined ? {} : { bodyLimit: files.maxUploadBodyBytes };
    for (const path of GEMINI_UPLOAD_PATHS) scope.post(path, limit, handlers.upload);
  });
  fastify.get(GEMINI_FILES_PATH, handlers.list);
  fastify.get(`${GEMINI_FILES_PATH}/:id`, handlers.get);
  fastify.delete(`${GEMINI_FILES_PATH}/:id`, handlers.delete);
}

/** The handlers of the Files API (without `files`, each answers that it is not served). */
export function geminiFileHandlers(
  callers: GeminiFileCallers,
  files?: GeminiFiles,
): GeminiFileHandlers {
  const serve =
    (
      action: string,
      handle: (files: GeminiFiles, request: FastifyRequest) => Promise<GeminiFileAnswer>,
    ) =>
    async (request: FastifyRequest, reply: FastifyReply) => {
      // A refused upload's body is read only so far (REFUSED_BODY_READ): one not received
      // whole by the answer closes its connection, so no slow or endless body holds it.
      const closeUnreceived = () => {
        if (!request.raw.complete) closeAfterAnswer(request, reply);
      };
      try {
        if (!files) throw notServed();
        const answer = await handle(files, request);
        closeUnreceived();
        void reply.code(answer.status).header('x-request-id', request.id);
        for (const [name, value] of Object.entries(answer.headers ?? {})) {
          void reply.header(name, value);
        }
        if (answer.body === undefined) await reply.send();
        else
          await reply.header('content-type', 'application/json; charset=utf-8').send(answer.body);
      } catch (error) {
        closeUnreceived();
        const failure = toDataPlaneError(error);
        files?.failed(action, request.id, failure);
        sendGeminiError(reply, failure, request.id);
      }
      return reply;
    };
  return {
    upload: serve('upload', (f, rq) => f.upload(rq, callers)),
    list: serve('list', (f, rq) => f.list(rq, callers)),
    get: serve('get', (f, rq) => f.get(rq, callers)),
    delete: serve('delete', (f, rq) => f.delete(rq, callers)),
  };
}

/**
 * How long a closing upload's connection still takes the client's bytes once its answer is
 * sent: a socket closed with bytes unread resets the connection, and a client still
 * sending may lose the answer it was sent. Bounded, so no body holds the connection.
 */
const CLOSE_LINGER_MS = 1_000;

/**
 * The answer sent with `Connection: close`, and then the connection closed as a lingering
 * close: the answer and a FIN first, the client's further bytes read and dropped for
 * CLOSE_LINGER_MS at most, then the socket ended. Node closes a `Connection: close`
 * socket at once when the answer is written (its `destroySoon`), which this one replaces.
 */
function closeAfterAnswer(request: FastifyRequest, reply: FastifyReply): void {
  void reply.header('connection', 'close');
  const socket = request.raw.socket as Socket | null;
  if (!socket) return;
  socket.destroySoon = () => {
    const timer = setTimeout(() => socket.destroy(), CLOSE_LINGER_MS);
    socket.once('close', () => clearTimeout(timer));
    socket.end();
    request.raw.resume();
  };
}

function notServed(): DataPlaneError {
  return new DataPlaneError(
    DataPlaneErrorCode.UnknownUrl,
    "The Gemini Files API is served by the all-in-one gateway, which holds the backends' keys; this deployment does not serve it",
  );
}
