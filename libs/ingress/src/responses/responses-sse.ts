import type { ServerResponse } from 'node:http';
import type { GatewayRequest, JsonObject } from '@aigw/contracts/data-plane';
import { NamedEventRelay, namedEventFrames } from '../http/named-event-relay';
import type { StreamHeartbeats } from '../http/stream-heartbeats';
import { responsesFacts } from './domain/responses-request';
import type { ResponseContext } from './domain/responses-response';
import { ResponseStreamTranslator } from './domain/responses-stream';

/** An SSE comment: every client skips it (the stream has no `[DONE]` and no ping event). */
const KEEP_ALIVE = ': keep-alive\n\n';

/**
 * Relays canonical chunks to a client of the Responses API as its event stream;
 * response.created goes out as the stream opens, before the first chunk.
 */
export class ResponsesStreamRelay extends NamedEventRelay {
  constructor(response: ServerResponse, context: ResponseContext, heartbeats?: StreamHeartbeats) {
    const translator = new ResponseStreamTranslator(context);
    super(
      response,
      translator,
      {
        keepAlive: KEEP_ALIVE,
        failure: (error) => namedEventFrames(translator.fail(error)),
      },
      heartbeats,
    );
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
