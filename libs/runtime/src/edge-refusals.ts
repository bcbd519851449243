// Requests Node's HTTP server would answer on its own, before any route: an HTTP/1.1 request
// without `Host` (an empty 400) and an `Expect` other than 100-continue (an empty 417). Those
// bare answers are in no API's error shape and counted by no metric, so the edge lets both
// requests reach the app (`requireHostHeader: false`, a 'checkExpectation' listener) and
// refuses them there, first thing, in the shape of the API their path belongs to.
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { ArgumentsHost, ExceptionFilter } from '@nestjs/common';
import { ExecutionContextHost } from '@nestjs/core/helpers/execution-context-host';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { DataPlaneError, DataPlaneErrorCode } from '@aigw/contracts/data-plane';

export type EdgeRefusalReason = 'missing-host' | 'unmet-expectation';

/** Set on a request Node handed over for an expectation it would have refused. */
const UNMET_EXPECTATION = Symbol('aigw.unmetExpectation');

type MarkedRequest = IncomingMessage & { [UNMET_EXPECTATION]?: true };

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

/**
 * The app's first onRequest hook (Nest's adapter runs its own before it): refuses what
 * `edgeRefusalOf` names through the app's exception filter (its error shape by path,
 * counted in the request metrics), tells `onRefused`, and closes the connection after the
 * answer, as Node's own did: a body the client held back for its expectation would
 * otherwise be read as the next request.
 */
export function edgeRefusalHook(
  filter: ExceptionFilter,
  onRefused?: (reason: EdgeRefusalReason) => void,
): (request: FastifyRequest, reply: FastifyReply, done: () => void) => void {
  return (request, reply, done) => {
    const refusal = edgeRefusalOf(request.raw);
    if (refusal === undefined) {
      done();
      return;
    }
    onRefused?.(refusal.reason);
    void reply.header('connection', 'close');
    const host: ArgumentsHost = new ExecutionContextHost([request, reply]);
    filter.catch(refusal.error, host);
  };
}
