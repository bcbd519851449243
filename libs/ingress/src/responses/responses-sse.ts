import type { ServerResponse } from 'node:http';
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
import { responsesFacts } from './domain/responses-request';
import type { ResponseContext } from './domain/responses-response';
import { ResponseStreamTranslator, type ResponseStreamEvent } from './domain/responses-stream';

/** The Responses API's SSE framing: the event name (equal to its `type`) before each payload. */
function frame(events: readonly ResponseStreamEvent[]): string {
  let text = '';
  for (const event of events) text += `event: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`;
  return text;
}

/** An SSE comment: every client skips it (the stream has no `[DONE]` and no ping event). */
const KEEP_ALIVE = ': keep-alive\n\n';

/** Relays canonical chunks to a client of the Responses API as its event stream. */
export class ResponsesStreamRelay implements StreamRelay {
  private readonly translator: ResponseStreamTranslator;
  private readonly out: TurnBatchedWriter;
  private readonly keptAlive: KeptAlive;

  constructor(response: ServerResponse, context: ResponseContext, heartbeats?: StreamHeartbeats) {
    this.translator = new ResponseStreamTranslator(context);
    this.out = new TurnBatchedWriter(response);
    this.keptAlive = new KeptAlive(response, this.out, KEEP_ALIVE, heartbeats);
  }

  /** Sends the status, the headers and response.created at once, before the first chunk. */
  start(headers: Record<string, string>): this {
    this.out.writeHead(200, sseHeaders(headers));
    this.keptAlive.start();
    void this.out.write(frame(this.translator.start()));
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
    this.out.end(frame(this.translator.fail(error))); // a no-op on a response already ended
  }
}

/** What every Response object of a request repeats: its settings, model, id and time. */
export function responseContext(request: GatewayRequest, clientBody: unknown): ResponseContext {
  return {
    facts: responsesFacts((clientBody ?? {}) as JsonObject),
    model: request.requestedModel,
    requestId: request.requestId,
    createdAt: Math.floor(Date.now() / 1000),
  };
}
