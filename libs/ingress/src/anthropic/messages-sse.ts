import type { ServerResponse } from 'node:http';
import type { AnthropicStreamEvent } from '@aigw/contracts';
import type {
  DataPlaneError,
  GatewayRequest,
  JsonObject,
  TokenUsage,
} from '@aigw/contracts/data-plane';
import { TurnBatchedWriter } from '@aigw/infra/http';
import type { StreamRelay } from '../http/edge-exchange';
import { sseHeaders } from '../http/sse-writer';
import { KeptAlive, type StreamHeartbeats } from '../http/stream-heartbeats';
import type { MessagesRequestFacts } from './domain/anthropic-request';
import { MessageStreamTranslator } from './domain/anthropic-stream';
import { messagesErrorEvent } from './messages-errors';

/** Anthropic's SSE framing: the event name (equal to its `type`) before each payload. */
function frame(events: readonly AnthropicStreamEvent[]): string {
  let text = '';
  for (const event of events) text += `event: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`;
  return text;
}

const PING = frame([{ type: 'ping' }]);

/** Relays canonical chunks to a client of the Messages API as Anthropic's event stream. */
export class MessagesStreamRelay implements StreamRelay {
  private readonly translator: MessageStreamTranslator;
  private readonly out: TurnBatchedWriter;
  private readonly keptAlive: KeptAlive;

  constructor(
    response: ServerResponse,
    facts: MessagesRequestFacts,
    requestId: string,
    heartbeats?: StreamHeartbeats,
  ) {
    this.translator = new MessageStreamTranslator(facts, requestId);
    this.out = new TurnBatchedWriter(response);
    // Anthropic's own keep-alive, which its SDK reads and skips.
    this.keptAlive = new KeptAlive(response, this.out, PING, heartbeats);
  }

  start(headers: Record<string, string>): this {
    // Same status and headers as the OpenAI stream; only the framing of events differs.
    this.out.writeHead(200, sseHeaders(headers));
    this.keptAlive.start();
    return this;
  }

  async event(chunk: JsonObject): Promise<void> {
    this.keptAlive.wroteSinceBeat = true;
    const events = this.translator.push(chunk);
    if (events.length > 0) await this.out.write(frame(events));
  }

  async end(usage: Promise<TokenUsage>): Promise<void> {
    this.out.end(frame(this.translator.finish(await usage)));
  }

  fail(error: DataPlaneError): void {
    this.out.end(messagesErrorEvent(error)); // a no-op on a response already ended
  }
}

/** What the answer side needs from a request that came in as a Messages request. */
export function messagesFacts(request: GatewayRequest): MessagesRequestFacts {
  const stop = request.body.stop;
  return {
    model: request.requestedModel,
    stream: request.stream,
    stopSequences: Array.isArray(stop)
      ? stop.filter((s): s is string => typeof s === 'string')
      : [],
  };
}
