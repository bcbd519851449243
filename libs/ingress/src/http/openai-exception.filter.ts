import { Catch, HttpException, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { DataPlaneError, DataPlaneErrorCode } from '@aigw/contracts/data-plane';
import { awaitsContinue } from '@aigw/runtime';
import { isMessagesPath, sendMessagesError } from '../anthropic/messages-errors';
import { sendGeminiError } from '../gemini/gemini-errors';
import { isGeminiPath } from '../gemini/gemini-paths';
import { sendOpenAiError, toDataPlaneError } from './openai-errors';
import { endpointAt, methodsAllowedAt } from './public-paths';

/** Told of each request the filter answers (a body that failed to parse, an unknown path). */
export type RefusalListener = (route: string, status: number) => void;

/**
 * The methods a path served by another module mounted on the same app is asked with (the
 * analytics API on the all-in-one gateway), or undefined for a path it does not serve.
 */
export type MountedMethodsAt = (url: string) => readonly string[] | undefined;

/** The route label of a refused request on no model call's path. */
export const OTHER_ROUTE = 'other';

type ErrorRenderer = (reply: FastifyReply, error: DataPlaneError, requestId?: string) => void;

/**
 * The public API a URL belongs to decides the shape of its errors: Google's for `/v1beta`
 * (only the Gemini API is served there). A URL the router could not decode is judged by its
 * part before the first %-escape (`/v1/messages%ZZ` is the Messages API's).
 */
function rendererFor(url: string): ErrorRenderer {
  const readable = decodablePart(url);
  if (isGeminiPath(url) || /^\/v1beta(?:[/?]|$)/.test(readable)) return sendGeminiError;
  return isMessagesPath(readable) ? sendMessagesError : sendOpenAiError;
}

function decodablePart(url: string): string {
  try {
    decodeURI(url);
    return url;
  } catch {
    return url.slice(0, url.indexOf('%'));
  }
}

/**
 * Every error a handler throws leaves with the right status, as an OpenAI-style body
 * (or an Anthropic-style one on the Messages API's paths, a Google-style one on the
 * Gemini API's). The model calls answer their
 * own errors; what reaches this filter failed before their handler ran (a body that is not
 * JSON or too large, a path or method not served) or on a cold route, and is counted here
 * under the model call's route, or `other`, so bad input shows in the request metrics.
 */
@Catch()
export class OpenAiExceptionFilter implements ExceptionFilter {
  constructor(
    private readonly onUnexpected: (error: unknown) => void,
    private readonly onRefused: RefusalListener = () => undefined,
    /** Paths beside the public API's, mounted only on some edges: their own table. */
    private readonly mountedMethodsAt?: MountedMethodsAt,
  ) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const reply = http.getResponse<FastifyReply>();
    const request = http.getRequest<FastifyRequest>();
    const mapped =
      exception instanceof HttpException && exception.getStatus() === 404
        ? noRoute(request.method, request.url, this.mountedMethodsAt)
        : toDataPlaneError(exception);
    if (mapped.code === DataPlaneErrorCode.Internal) this.onUnexpected(exception);
    this.onRefused(endpointAt(request.url) ?? OTHER_ROUTE, mapped.httpStatus);
    const send = rendererFor(request.url);
    if (
      mapped.code === DataPlaneErrorCode.BodyTooLarge &&
      !request.raw.complete &&
      !awaitsContinue(request.raw)
    ) {
      // Read the rest of an oversized upload before answering: a client still sending
      // would otherwise see a reset connection instead of our 413. (One waiting for 100
      // Continue sends nothing until told.)
      drainThen(request.raw, () => send(reply, mapped, request.id));
      return;
    }
    send(reply, mapped, request.id);
  }
}

/**
 * No route for this method and path: a 405 if the path is served with other methods. The
 * message names the path alone: Nest's own ("Cannot GET <url>") keeps the query, which may
 * carry the caller's key (Google's `?key=`).
 */
function noRoute(method: string, url: string, mounted?: MountedMethodsAt): DataPlaneError {
  const allowed = methodsAllowedAt(url) ?? mounted?.(url);
  const path = url.split('?')[0];
  // Listed but with no route on this edge (a store built without conversations): a 404.
  if (!allowed || allowed.includes(method)) {
    return new DataPlaneError(DataPlaneErrorCode.UnknownUrl, `Cannot ${method} ${path}`);
  }
  return new DataPlaneError(
    DataPlaneErrorCode.MethodNotAllowed,
    `${method} is not allowed on ${path}; use ${allowed.join(' or ')}`,
    { headers: { allow: allowed.join(', ') } },
  );
}

/** Past this much we stop reading and let the connection close. */
const MAX_DRAIN_BYTES = 64 * 1024 * 1024;

function drainThen(stream: FastifyRequest['raw'], then: () => void): void {
  let drained = 0;
  let finished = false;
  const finish = () => {
    if (finished) return;
    finished = true;
    stream.off('data', onData);
    then();
  };
  const onData = (chunk: Buffer) => {
    drained += chunk.length;
    if (drained > MAX_DRAIN_BYTES) finish();
  };
  stream.on('data', onData);
  stream.once('end', finish);
  stream.once('error', finish);
  stream.resume();
}
