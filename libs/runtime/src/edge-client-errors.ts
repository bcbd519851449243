// What the edge answers when a connection fails before it carries a request we could
// route: a request not received in time, headers past Node's limit, bytes that are not
// HTTP, a CONNECT. Fastify's own answer is in Fastify's error shape (Node's, to a CONNECT:
// none); clients of the edge read OpenAI's.
import { STATUS_CODES, type Server } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { EdgeRefusalReason } from './edge-refusals';

export type ClientErrorReason =
  'timeout' | 'headers-too-large' | 'malformed' | 'aborted' | 'connect' | EdgeRefusalReason;

export interface ClientErrorAnswer {
  readonly status: number;
  readonly reason: ClientErrorReason;
  /** OpenAI's `error.code`. */
  readonly code: string;
  readonly message: string;
  /** Header lines beyond the body's own (a 405's `Allow`). */
  readonly headers?: Readonly<Record<string, string>>;
}

export function clientErrorAnswer(error: { code?: string }): ClientErrorAnswer {
  switch (error.code) {
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return {
        status: 408,
        reason: 'timeout',
        code: 'request_timeout',
        message: 'The request was not received in time; send the whole request at once',
      };
    case 'HPE_HEADER_OVERFLOW':
      return {
        status: 431,
        reason: 'headers-too-large',
        code: 'request_headers_too_large',
        message: 'The request headers are larger than this gateway accepts',
      };
    default:
      return {
        status: 400,
        reason: 'malformed',
        code: 'invalid_http',
        message: 'The request is not valid HTTP/1.1',
      };
  }
}

/** The raw HTTP response for an answer; the connection closes after it. */
export function clientErrorResponse(answer: ClientErrorAnswer): string {
  const body = JSON.stringify({
    error: {
      message: answer.message,
      type: 'invalid_request_error',
      param: null,
      code: answer.code,
    },
  });
  return (
    `HTTP/1.1 ${answer.status} ${STATUS_CODES[answer.status] ?? ''}\r\n` +
    Object.entries(answer.headers ?? {})
      .map(([name, value]) => `${name}: ${value}\r\n`)
      .join('') +
    'Content-Type: application/json\r\n' +
    `Content-Length: ${Buffer.byteLength(body)}\r\n` +
    'Connection: close\r\n\r\n' +
    body
  );
}

/** Fastify's `clientErrorHandler` for the edge: counted, answered in OpenAI's shape, closed. */
export function edgeClientErrorHandler(
  onClientError?: (reason: ClientErrorReason) => void,
): (error: Error & { code?: string }, socket: Socket) => void {
  return (error, socket) => {
    // A reset (idle keep-alive connections get them all the time) or a socket already
    // gone: there is no one to answer, and nothing worth counting.
    if (error.code === 'ECONNRESET' || socket.destroyed) return;
    if (error.code === 'HPE_INVALID_EOF_STATE') {
      // The client closed its side halfway through sending a request.
      onClientError?.('aborted');
      socket.destroy();
      return;
    }
    const answer = clientErrorAnswer(error);
    onClientError?.(answer.reason);
    if (socket.writable) socket.write(clientErrorResponse(answer));
    socket.destroy();
  };
}

/** A CONNECT asks for a tunnel, a forward proxy's job: the edge serves its API's methods only. */
export const CONNECT_REFUSAL: ClientErrorAnswer = {
  status: 405,
  reason: 'connect',
  code: 'method_not_allowed',
  message: 'CONNECT is not served: this gateway serves its API, it is not a forward proxy',
  headers: { Allow: 'GET, HEAD, POST, DELETE' },
};

/**
 * Answers every CONNECT on `server` with `CONNECT_REFUSAL`, counted, and closes it: without
 * a 'connect' listener Node closes the connection unanswered, which a client (or an
 * operator reading its logs) sees as the gateway failing, and no metric counts.
 */
export function refuseConnectRequests(
  server: Server,
  onClientError?: (reason: ClientErrorReason) => void,
): void {
  server.on('connect', (_request: unknown, socket: Duplex) => {
    onClientError?.(CONNECT_REFUSAL.reason);
    socket.on('error', () => socket.destroy());
    // Destroyed once the answer is written: the client may never close its side.
    if (socket.writable) socket.end(clientErrorResponse(CONNECT_REFUSAL), () => socket.destroy());
    else socket.destroy();
  });
}
