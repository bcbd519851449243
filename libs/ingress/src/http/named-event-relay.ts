import type { ServerResponse } from 'node:http';
import type { DataPlaneError, JsonObject, TokenUsage } from '@aigw/contracts/data-plane';
import { TurnBatchedWriter } from '@aigw/infra/http';
import type { StreamRelay } from './edge-exchange';
import { sseHeaders } from './sse-writer';
import { KeptAlive, type StreamHeartbeats } from './stream-heartbeats';

/** An event of an API whose streams name each event after its `type`. */
export interface NamedEvent {
  readonly type: string;
}

/**
 * The framing of Anthropic's and the Responses API's streams: the event name (equal to
 * its `type`) before each payload.
 */
export function namedEventFrames(events: readonly NamedEvent[]): string {
  let text = '';
  for (const event of events) text += `event: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`;
  return text;
}

/** Turns canonical (OpenAI) chunks into one API's named events. */
export interface NamedEventTranslator {
  /** What goes out as soon as the stream opens, before any chunk (none for most APIs). */
  start?(): readonly NamedEvent[];
  push(chunk: JsonObject): readonly NamedEvent[];
  /** The closing events, once the stream ended cleanly and its usage is known. */
  finish(usage: TokenUsage): readonly NamedEvent[];
}

export interface NamedEventStyle {
  /** What a quiet stream gets now and then, which the API's clients skip. */
  readonly keepAlive: string;
  /** The text that ends a broken stream, so it never looks finished. */
  readonly failure: (error: DataPlaneError) => string;
  /**
   * Work done once the stream ended cleanly, before its closing events go out, which may
   * amend them (the Responses API stores the answer first, so a client that chains on it
   * finds it, and says `store: false` in them when it could not).
   */
  readonly beforeClosing?: (closing: readonly NamedEvent[]) => Promise<readonly NamedEvent[]>;
}

/**
 * Relays canonical chunks to a client of an API with named events (Anthropic Messages,
 * OpenAI Responses): same status and headers as the OpenAI stream, events written in one
 * turn leave in one socket write, and quiet streams get the API's keep-alive.
 */
export class NamedEventRelay implements StreamRelay {
  private readonly out: TurnBatchedWriter;
  private readonly keptAlive: KeptAlive;

  constructor(
    response: ServerResponse,
    private readonly translator: NamedEventTranslator,
    private readonly style: NamedEventStyle,
    heartbeats?: StreamHeartbeats,
  ) {
    this.out = new TurnBatchedWriter(response);
    this.keptAlive = new KeptAlive(response, this.out, style.keepAlive, heartbeats);
  }

  start(headers: Record<string, string>): this {
    this.out.writeHead(200, sseHeaders(headers));
    this.keptAlive.start();
    const opening = this.translator.start?.() ?? [];
    if (opening.length > 0) void this.out.write(namedEventFrames(opening));
    return this;
  }

  async event(chunk: JsonObject): Promise<void> {
    this.keptAlive.wroteSinceBeat = true;
    const events = this.translator.push(chunk);
    if (events.length > 0) await this.out.write(namedEventFrames(events));
  }

  async end(usage: Promise<TokenUsage>): Promise<void> {
    let closing = this.translator.finish(await usage);
    if (this.style.beforeClosing) closing = await this.style.beforeClosing(closing);
    this.out.end(namedEventFrames(closing));
  }

  fail(error: DataPlaneError): void {
    this.out.end(this.style.failure(error)); // a no-op on a response already ended
  }
}
