import type { ServerResponse } from 'node:http';
import type { DataPlaneError, JsonObject, TokenUsage } from '@aigw/contracts/data-plane';
import { TurnBatchedWriter } from '@aigw/infra/http';
import type { StreamRelay } from '../http/edge-exchange';
import { sseHeaders } from '../http/sse-writer';
import { KeptAlive, type StreamHeartbeats } from '../http/stream-heartbeats';
import type { GeminiRequestFacts } from './domain/gemini-request';
import { geminiError } from './domain/gemini-errors';
import { GeminiStreamTranslator } from './domain/gemini-stream';

/**
 * How a stream is written: `sse` (`?alt=sse`, what Google's SDKs ask for) or `array`,
 * Gemini's default without `alt`: one JSON array whose elements arrive as they are made.
 */
export type GeminiFraming = 'sse' | 'array';

/** Gemini's `alt=sse` framing: data lines only, each event ended by a blank line. */
export function geminiFrames(events: readonly JsonObject[]): string {
  let text = '';
  for (const event of events) text += `data: ${JSON.stringify(event)}\r\n\r\n`;
  return text;
}

/**
 * What a quiet stream gets now and then: a blank line, which ends no event in the SSE
 * framing and is JSON whitespace in the array. Not an SSE comment: Google's Python SDK
 * (google-genai) takes each line that is neither blank nor `data: ` for JSON, and failed
 * the stream on `: keep-alive` (UnknownApiResponseError).
 */
const KEEP_ALIVE = '\r\n';

/**
 * Relays canonical chunks to a client of the Gemini API as its stream: events written in
 * one turn leave in one socket write. A quiet stream gets a blank line (KEEP_ALIVE). A
 * broken stream ends with Google's error object as its last event or element.
 */
export class GeminiStreamRelay implements StreamRelay {
  private readonly out: TurnBatchedWriter;
  private readonly keptAlive: KeptAlive;
  private readonly translator: GeminiStreamTranslator;
  /** Elements written to the array so far (the next needs a comma before it). */
  private elements = 0;

  constructor(
    response: ServerResponse,
    facts: GeminiRequestFacts,
    requestId: string,
    heartbeats?: StreamHeartbeats,
    private readonly framing: GeminiFraming = 'sse',
  ) {
    this.out = new TurnBatchedWriter(response);
    this.keptAlive = new KeptAlive(response, this.out, KEEP_ALIVE, heartbeats);
    this.translator = new GeminiStreamTranslator(facts, requestId);
  }

  start(headers: Record<string, string>): this {
    const sse = sseHeaders(headers);
    this.out.writeHead(
      200,
      this.framing === 'sse' ? sse : { ...sse, 'content-type': 'application/json; charset=utf-8' },
    );
    this.keptAlive.start();
    if (this.framing === 'array') void this.out.write('[');
    return this;
  }

  async event(chunk: JsonObject): Promise<void> {
    this.keptAlive.wroteSinceBeat = true;
    const events = this.translator.push(chunk);
    if (events.length > 0) await this.out.write(this.frames(events));
  }

  async end(usage: Promise<TokenUsage>): Promise<void> {
    const closing = this.frames(this.translator.finish(await usage));
    this.out.end(this.framing === 'sse' ? closing : `${closing}\r\n]`);
  }

  fail(error: DataPlaneError): void {
    const body = geminiError(error).body as unknown as JsonObject;
    // A no-op on a response already ended.
    this.out.end(this.framing === 'sse' ? geminiFrames([body]) : `${this.frames([body])}\r\n]`);
  }

  private frames(events: readonly JsonObject[]): string {
    if (this.framing === 'sse') return geminiFrames(events);
    let text = '';
    for (const event of events) {
      text += `${this.elements === 0 ? '' : ','}\r\n${JSON.stringify(event)}`;
      this.elements += 1;
    }
    return text;
  }
}
