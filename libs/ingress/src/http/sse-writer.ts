import type { ServerResponse } from 'node:http';
import { rawChunkJson, type DataPlaneError, type JsonObject } from '@aigw/contracts/data-plane';
import { TurnBatchedWriter } from '@aigw/infra/http';
import { KeptAlive, type StreamHeartbeats } from './stream-heartbeats';

/** The status and headers of every event stream the edge sends. */
export function sseHeaders(headers: Record<string, string>): Record<string, string> {
  return {
    ...headers,
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache',
    connection: 'keep-alive',
    'x-accel-buffering': 'no',
  };
}

/**
 * Writes OpenAI-style server-sent events, respecting the socket's backpressure; events
 * written in one turn of the event loop leave in one socket write (`TurnBatchedWriter`),
 * and a quiet stream gets a comment now and then (`StreamHeartbeats`).
 */
export class SseWriter {
  private readonly out: TurnBatchedWriter;
  private readonly keptAlive: KeptAlive;

  constructor(response: ServerResponse, heartbeats?: StreamHeartbeats) {
    this.out = new TurnBatchedWriter(response);
    // An SSE comment: every client skips it.
    this.keptAlive = new KeptAlive(response, this.out, ': keep-alive\n\n', heartbeats);
  }

  start(headers: Record<string, string>): void {
    this.out.writeHead(200, sseHeaders(headers));
    this.keptAlive.start();
  }

  event(data: JsonObject): Promise<void> {
    this.keptAlive.wroteSinceBeat = true;
    // A chunk relayed untouched from the router (split deployment) is sent as its JSON text.
    return this.out.write(`data: ${rawChunkJson(data) ?? JSON.stringify(data)}\n\n`);
  }

  /** A clean end: the `[DONE]` sentinel OpenAI clients wait for. */
  done(): void {
    this.out.end('data: [DONE]\n\n');
  }

  /** A clean end without the sentinel, for a stream whose last event says it is done. */
  close(): void {
    this.out.end('');
  }

  /** An explicit error event, so a broken stream never looks like a finished one. */
  fail(error: DataPlaneError): void {
    this.out.end(`data: ${JSON.stringify(error.toOpenAiBody())}\n\n`);
  }
}
