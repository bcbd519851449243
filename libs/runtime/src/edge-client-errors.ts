// What the edge answers when a connection fails before it carries a request we could
// route: a request not received in time, headers past Node's limit, bytes that are not
// HTTP. Fastify's own answer is in Fastify's error shape; clients of the edge read
// OpenAI's.
import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { EdgeRefusalReason } from './edge-refusals';

export type ClientErrorReason =
  'timeout' | 'headers-too-large' | 'malformed' | 'aborted' | EdgeRefusalReason;

export interface ClientErrorAnswer {
  readonly status: number;
  readonly reason: ClientErrorReason;
  /** OpenAI's `error.code`. */
  readonly code: string;
  readonly message: string;
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
