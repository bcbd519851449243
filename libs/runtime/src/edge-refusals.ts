// Requests Node's HTTP server would answer on its own, before any route: an HTTP/1.1 request
// without `Host` (an empty 400) and an `Expect` other than 100-continue (an empty 417). Those
// bare answers are in no API's error shape and counted by no metric, so the edge lets both
// requests reach the app (`requireHostHeader: false`, a 'checkExpectation' listener) and
// refuses them there, first thing, in the shape of the API their path belongs to. With them
// go two Node serves though HTTP/1.1 forbids them: a second `Host` (joined to the first) and
// a transfer coding other than chunked (its bytes read as if not coded). And a body declared
// past the limit under `Expect: 100-continue` is refused before the client is told to send it.
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { ArgumentsHost, ExceptionFilter } from '@nestjs/common';
import { ExecutionContextHost } from '@nestjs/core/helpers/execution-context-host';
import type { FastifyCorsOptions } from '@fastify/cors';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { DataPlaneError, DataPlaneErrorCode } from '@aigw/contracts/data-plane';

export type EdgeRefusalReason =
  'missing-host' | 'duplicate-host' | 'unknown-transfer-coding' | 'unmet-expectation';

/** Set on a request Node handed over for an expectation it would have refused. */
const UNMET_EXPECTATION = Symbol('aigw.unmetExpectation');
/** Set on a request whose client waits for 100 Continue, not yet sent. */
const AWAITING_CONTINUE = Symbol('aigw.awaitingContinue');

type MarkedRequest = IncomingMessage & {
  [UNMET_EXPECTATION]?: true;
  [AWAITING_CONTINUE]?: true;
};

/**
 * Serves a request whose `Expect` Node cannot meet as any other, marked, where Node would
 * answer it a bare 417 itself (its default without a 'checkExpectation' listener).
 */
export function passUnmetExpectations(server: Server): void {
  server.on('checkExpectation', (request: MarkedRequest, response: ServerResponse) => {
    request[UNMET_EXPECTATION] = true;
    server.emit('request', request, response);
  });
}

/**
 * Serves a request that expects 100-continue without telling the client to go on (Node's
 * default, without a 'checkContinue' listener, tells it at once): the edge's first hook
 * does once the request is not refused, its declared body under the route's limit.
 */
export function holdContinues(server: Server): void {
  server.on('checkContinue', (request: MarkedRequest, response: ServerResponse) => {
    request[AWAITING_CONTINUE] = true;
    server.emit('request', request, response);
  });
}

/**
 * Whether the client still waits for 100 Continue, not sent: its body will not come, so an
 * answer must not wait to read it (a 413 drains an upload it is refusing).
 */
export function awaitsContinue(request: IncomingMessage): boolean {
  return (request as MarkedRequest)[AWAITING_CONTINUE] === true;
}

export interface EdgeRefusal {
  readonly reason: EdgeRefusalReason;
  readonly error: DataPlaneError;
}

/** Why the edge refuses this request before any route, or undefined to serve it. */
export function edgeRefusalOf(request: MarkedRequest): EdgeRefusal | undefined {
  // RFC 9112 §3.2: an HTTP/1.1 request without Host is a 400; HTTP/1.0 had no Host.
  if (request.headers.host === undefined && request.httpVersion === '1.1') {
    return {
      reason: 'missing-host',
      error: new DataPlaneError(
        DataPlaneErrorCode.InvalidRequest,
        'The request has no Host header, which HTTP/1.1 requires',
      ),
    };
  }
  // RFC 9112 §3.2: more than one Host line is a 400. The edge joins them with a comma
  // (joinDuplicateHeaders), which no single host[:port] holds.
  if (request.headers.host?.includes(',') === true) {
    return {
      reason: 'duplicate-host',
      error: new DataPlaneError(
        DataPlaneErrorCode.InvalidRequest,
        'The request has more than one Host header; send exactly one',
      ),
    };
  }
  const transferEncoding = request.headers['transfer-encoding'];
  if (transferEncoding !== undefined && !onlyChunked(transferEncoding)) {
    // RFC 9112 §6.1: a transfer coding the server does not understand is a 501.
    return {
      reason: 'unknown-transfer-coding',
      error: new DataPlaneError(
        DataPlaneErrorCode.NotImplemented,
        `Transfer-Encoding '${transferEncoding.slice(0, 40)}' is not supported: send the body chunked alone, or compress it with Content-Encoding`,
      ),
    };
  }
  if (request[UNMET_EXPECTATION] === true) {
    return {
      reason: 'unmet-expectation',
      error: new DataPlaneError(
        DataPlaneErrorCode.ExpectationFailed,
        "This gateway meets no expectation but '100-continue'; send the request without that Expect header",
      ),
    };
  }
  return undefined;
}

/** Node reads a body whose last coding is chunked; any coding before it would be ignored. */
function onlyChunked(transferEncoding: string): boolean {
  return transferEncoding.split(',').every((coding) => coding.trim().toLowerCase() === 'chunked');
}

/**
 * The 413 for a client that waits for 100 Continue with a body declared past `limit`, or
 * undefined: told before it sends, it is spared the upload (which Node would read, to
 * be thrown away, once it had sent 100 Continue).
 */
function declaredTooLarge(request: IncomingMessage, limit: number): DataPlaneError | undefined {
  const declared = Number(request.headers['content-length']);
  if (!(declared > limit)) return undefined;
  return new DataPlaneError(
    DataPlaneErrorCode.BodyTooLarge,
    'The request body is larger than this gateway accepts',
  );
}

/**
 * The app's first onRequest hook (Nest's adapter runs its own before it): refuses what
 * `edgeRefusalOf` names through the app's exception filter (its error shape by path,
 * counted in the request metrics), tells `onRefused`, and closes the connection after the
 * answer, as Node's own did: a body the client held back for its expectation would
 * otherwise be read as the next request. A client waiting for 100 Continue (holdContinues)
 * is refused 413 the same way when its declared body is past the route's limit, and is
 * otherwise told to continue here, once.
 */
export function edgeRefusalHook(
  filter: ExceptionFilter,
  maxBodyBytes: number,
  onRefused?: (reason: EdgeRefusalReason) => void,
): (request: FastifyRequest, reply: FastifyReply, done: () => void) => void {
  const refuse = (error: DataPlaneError, request: FastifyRequest, reply: FastifyReply) => {
    void reply.header('connection', 'close');
    const host: ArgumentsHost = new ExecutionContextHost([request, reply]);
    filter.catch(error, host);
  };
  return (request, reply, done) => {
    const raw: MarkedRequest = request.raw;
    const refusal = edgeRefusalOf(raw);
    if (refusal !== undefined) {
      onRefused?.(refusal.reason);
      refuse(refusal.error, request, reply);
      return;
    }
    if (raw[AWAITING_CONTINUE] === true) {
      // The route's own limit where it has one (file uploads stream past the JSON limit).
      const tooLarge = declaredTooLarge(raw, request.routeOptions.bodyLimit ?? maxBodyBytes);
      if (tooLarge !== undefined) {
        refuse(tooLarge, request, reply);
        return;
      }
      delete raw[AWAITING_CONTINUE];
      reply.raw.writeContinue();
    }
    done();
  };
}

/**
 * CORS options for `@fastify/cors` that offer no CORS to a request the edge refuses, so that
 * a preflight without Host (say) reaches the refusal: the CORS hook runs before the edge's
 * (Nest's adapter adds it first) and would answer the preflight 204.
 */
export function corsUnlessRefused(options: FastifyCorsOptions): FastifyCorsOptions {
  const none: FastifyCorsOptions = { origin: false };
  return {
    delegator: (request, callback) =>
      callback(null, edgeRefusalOf(request.raw) === undefined ? options : none),
  };
}
