import type { ServerResponse } from 'node:http';
import {
  chunkFrame,
  DataPlaneError,
  DataPlaneErrorCode,
  encodeWireError,
  endFrame,
  errorFrame,
  rawChunkLine,
  SERVED_BY_HEADER,
  WIRE_JSON,
  WIRE_STREAM,
  WIRE_VERSION,
  WIRE_VERSION_HEADER,
  type GatewayAnswer,
} from '@aigw/contracts/data-plane';
import { TurnBatchedWriter } from '@aigw/infra/http';
import { BODY_HEADER, jsonAnswerMessage } from './relayed-json-body';

// Shared, never mutated by Node: no header object is built per error answer.
const JSON_HEADERS = { 'content-type': WIRE_JSON, [WIRE_VERSION_HEADER]: WIRE_VERSION };

export function asDataPlaneError(error: unknown): DataPlaneError {
  if (error instanceof DataPlaneError) return error;
  return new DataPlaneError(
    DataPlaneErrorCode.Internal,
    'the service failed to handle the request',
    {
      cause: error,
    },
  );
}

/** An error before the first byte as a status and body; after it, as the stream's last frame. */
export function writeWireError(response: ServerResponse, error: DataPlaneError): void {
  if (response.writableEnded || response.destroyed) return;
  if (response.headersSent) {
    response.end(errorFrame(error));
    return;
  }
  response.writeHead(error.httpStatus, JSON_HEADERS);
  response.end(JSON.stringify(encodeWireError(error)));
}

/** A route's error answered in the wire format, Fastify's own reply let go of. */
export function answerWireError(
  reply: { hijack(): void; readonly raw: ServerResponse },
  error: unknown,
): void {
  reply.hijack();
  writeWireError(reply.raw, asDataPlaneError(error));
}

export interface WriteAnswerOptions {
  /** Set when the caller went away: stop writing and let the stream be cancelled. */
  readonly signal: AbortSignal;
  /**
   * Written into every chunk's `model` (the requested name) so a router can relay bytes;
   * a JSON body that names this model is marked as named, so a router relays its text.
   */
  readonly stampModel?: string;
  /** Told once a stream is handed on: its first chunk (or its end) is written. */
  readonly handedOn?: () => void;
}

/** Sends an answer in the wire format, respecting the socket's backpressure. */
export async function writeAnswer(
  response: ServerResponse,
  answer: GatewayAnswer,
  { signal, stampModel, handedOn }: WriteAnswerOptions,
): Promise<void> {
  if (answer.kind === 'json') {
    const { message, bodyHeader } = jsonAnswerMessage(answer, stampModel);
    response.writeHead(200, {
      'content-type': WIRE_JSON,
      [WIRE_VERSION_HEADER]: WIRE_VERSION,
      [BODY_HEADER]: bodyHeader,
    });
    response.end(message);
    return;
  }
  // Chunks that arrive together leave in one socket write, with the headers if first.
  const out = new TurnBatchedWriter(response);
  out.writeHead(200, {
    'content-type': WIRE_STREAM,
    [WIRE_VERSION_HEADER]: WIRE_VERSION,
    [SERVED_BY_HEADER]: encodeURIComponent(JSON.stringify(answer.servedBy)),
  });
  let waiting = handedOn;
  try {
    for await (const chunk of answer.events) {
      if (signal.aborted) break;
      if (stampModel !== undefined) chunk.model = stampModel;
      if (waiting) {
        waiting();
        waiting = undefined;
      }
      await out.write(rawChunkLine(chunk) ?? chunkFrame(chunk));
    }
    if (signal.aborted) return;
    waiting?.();
    out.end(endFrame(await answer.usage));
  } catch (error) {
    // After the chunks still held, so none that reached us is lost before the error.
    if (!signal.aborted && !response.destroyed) out.end(errorFrame(asDataPlaneError(error)));
  }
}
