import type { ServerResponse } from 'node:http';
import type { DataPlaneError, JsonObject, TokenUsage } from '@aigw/contracts/data-plane';
import { TurnBatchedWriter } from '@aigw/infra/http';
import type { StreamRelay } from '../http/edge-exchange';
import { sseHeaders } from '../http/sse-writer';
import { KeptAlive, type StreamHeartbeats } from '../http/stream-heartbeats';
import type { GeminiRequestFacts } from './domain/gemini-request';
import { GeminiStreamTranslator } from './domain/gemini-stream';
import { geminiErrorEvent } from './gemini-errors';

/** Gemini's framing (`alt=sse`): data lines only, each event ended by a blank line. */
export function geminiFrames(events: readonly JsonObject[]): string {
  let text = '';
  for (const event of events) text += `data: ${JSON.stringify(event)}\r\n\r\n`;
  return text;
}

/**
 * Relays canonical chunks to a client of the Gemini API as its `alt=sse` stream: events
 * written in one turn leave in one socket write, and a quiet stream gets an SSE comment,
 * which Google's SDKs skip (they read `data:` events only).
 */
export class GeminiStreamRelay implements StreamRelay {
  private readonly out: TurnBatchedWriter;
  private readonly keptAlive: KeptAlive;
  private readonly translator: GeminiStreamTranslator;

  constructor(
    response: ServerResponse,
    facts: GeminiRequestFacts,
    requestId: string,
    heartbeats?: StreamHeartbeats,
  ) {
    this.out = new TurnBatchedWriter(response);
    this.keptAlive = new KeptAlive(response, this.out, ': keep-alive\r\n\r\n', heartbeats);
    this.translator = new GeminiStreamTranslator(facts, requestId);
  }

  start(headers: Record<string, string>): this {
    this.out.writeHead(200, sseHeaders(headers));
    this.keptAlive.start();
    return this;
  }

  async event(chunk: JsonObject): Promise<void> {
    this.keptAlive.wroteSinceBeat = true;
    const events = this.translator.push(chunk);
    if (events.length > 0) await this.out.write(geminiFrames(events));
  }

  async end(usage: Promise<TokenUsage>): Promise<void> {
    this.out.end(geminiFrames(this.translator.finish(await usage)));
  }

  fail(error: DataPlaneError): void {
    this.out.end(geminiErrorEvent(error)); // a no-op on a response already ended
  }
}
