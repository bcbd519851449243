import type { FastifyRequest } from 'fastify';
import type { ServedBy } from '@aigw/contracts/data-plane';
import type { EdgeDialect } from '../http/edge-exchange';
import { translateGeminiRequest, type GeminiRequestFacts } from './domain/gemini-request';
import { toGeminiResponse } from './domain/gemini-response';
import { sendGeminiError } from './gemini-errors';
import { GeminiStreamRelay, type GeminiFraming } from './gemini-sse';
import { reportUnapplied } from './gemini-unapplied';
import { takesReasoningTextBack } from '../responses/domain/reasoning-text-back';
import type { GeminiFileCallers, GeminiFiles } from './files/gemini-files';
import {
  gatewayFileIdsIn,
  geminiFilesNotServed,
  withHeldGeminiFiles,
} from './files/gemini-held-files';

/** The Files API a generateContent call's `fileData` may name, and who the callers are. */
export interface HeldFilesService {
  readonly files: GeminiFiles;
  readonly callers: Pick<GeminiFileCallers, 'ownerKeyFor'>;
}

/**
 * The headers a Gemini API caller is identified by. Google's SDKs send their key as
 * `x-goog-api-key`, or as `?key=` in the URL; either is the client's credential, as
 * `Authorization` is on the other APIs: it identifies the caller where a route reads
 * `Authorization` (a JWT, a header source) and, like it, is never forwarded upstream.
 */
export function geminiCallerHeaders(http: FastifyRequest): FastifyRequest['headers'] {
  const query = http.query as Record<string, unknown> | undefined;
  const fromQuery = typeof query?.key === 'string' && query.key !== '' ? query.key : undefined;
  const given = http.headers['x-goog-api-key'];
  const key = (Array.isArray(given) ? given[0] : given) ?? fromQuery;
  if (key === undefined || key === '') return http.headers;
  const headers = { ...http.headers, 'x-goog-api-key': key };
  if (headers.authorization === undefined) headers.authorization = `Bearer ${key}`;
  return headers;
}

/**
 * Gemini generateContent requests become canonical chat requests; answers go back as
 * GenerateContentResponse objects, or their `alt=sse` stream. One per call: the model and
 * whether it streams come from the URL, and the answer needs what the request asked for.
 */
export function geminiDialect(
  call: {
    readonly model: string;
    readonly stream: boolean;
    /** How a stream is written: `alt=sse`, or Gemini's default JSON array. */
    readonly framing?: GeminiFraming;
  },
  /** The Files API, whose files `fileData` may name; absent, naming one is refused. */
  held?: HeldFilesService,
): EdgeDialect {
  let facts: GeminiRequestFacts = {
    model: call.model,
    stream: call.stream,
    includeThoughts: false,
  };
  return {
    canonicalBody: (body) => {
      const translated = translateGeminiRequest(body, call);
      facts = translated.facts;
      if (!held && gatewayFileIdsIn(translated.chat)) throw geminiFilesNotServed();
      return translated.chat;
    },
    ...(held && {
      withState: (request, _clientBody, headers) =>
        withHeldGeminiFiles(request, headers, held.files, held.callers),
    }),
    answerBody: (answer, request) => {
      reportUnapplied(answer.servedBy);
      const answered = answeredFacts(facts, answer.servedBy);
      return toGeminiResponse(answer.body, answer.usage, answered, request.requestId);
    },
    openStream: (response, headers, request, _clientBody, servedBy) => {
      if (servedBy) reportUnapplied(servedBy);
      return new GeminiStreamRelay(
        response,
        answeredFacts(facts, servedBy),
        request.requestId,
        undefined,
        call.framing ?? 'sse',
      ).start(headers);
    },
    sendError: sendGeminiError,
    callerHeaders: geminiCallerHeaders,
  };
}

/** The request's facts with what the backend that answered asks of them (reasoning-text-back). */
function answeredFacts(
  facts: GeminiRequestFacts,
  servedBy: ServedBy | undefined,
): GeminiRequestFacts {
  return takesReasoningTextBack(servedBy) ? { ...facts, reasoningTextBack: true } : facts;
}
