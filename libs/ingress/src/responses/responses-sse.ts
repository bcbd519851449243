import { randomBytes } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import type { GatewayRequest, JsonObject, ServedBy } from '@aigw/contracts/data-plane';
import { NamedEventRelay, namedEventFrames, type NamedEvent } from '../http/named-event-relay';
import type { StreamHeartbeats } from '../http/stream-heartbeats';
import { conversationParam, responsesFacts } from './domain/responses-request';
import type { ResponseContext, ResponseObject } from './domain/responses-response';
import { takesReasoningTextBack } from './domain/reasoning-text-back';
import { ResponseStreamTranslator } from './domain/responses-stream';

/** An SSE comment: every client skips it (the stream has no `[DONE]` and no ping event). */
const KEEP_ALIVE = ': keep-alive\n\n';

/**
 * Relays canonical chunks to a client of the Responses API as its event stream;
 * response.created goes out as the stream opens, before the first chunk. `onFinished`
 * gets the finished Response (with its reasoning blocks) before response.completed (or
 * response.incomplete) goes out, and says whether it was stored: when not, that event's
 * Response says `store: false`. A stream that breaks never reaches it.
 */
export class ResponsesStreamRelay extends NamedEventRelay {
  constructor(
    response: ServerResponse,
    context: ResponseContext,
    heartbeats?: StreamHeartbeats,
    onFinished?: (response: ResponseObject) => Promise<boolean>,
  ) {
    const translator = new ResponseStreamTranslator(context);
    super(
      response,
      translator,
      {
        keepAlive: KEEP_ALIVE,
        failure: (error) => namedEventFrames(translator.fail(error)),
        beforeClosing:
          onFinished &&
          (async (closing) =>
            (await onFinished(translator.finalResponse!)) ? closing : unstored(closing)),
      },
      heartbeats,
    );
  }
}

/** Closing events whose Response was not stored after all: it says `store: false`. */
function unstored(closing: readonly NamedEvent[]): NamedEvent[] {
  return closing.map((event) => {
    const { response } = event as NamedEvent & { response?: ResponseObject };
    return response ? { ...event, response: { ...response, store: false } } : event;
  });
}

/**
 * A Response's id: random, so no client can name (or overwrite) another's stored one, and
 * no two Responses (nor their items, whose ids are made of it) share one, even under an
 * x-request-id a client sends for a whole session.
 */
export function storedResponseId(): string {
  return `resp_${randomBytes(24).toString('hex')}`;
}

/**
 * What every Response object of a request repeats: its settings, model, id and time.
 * `stateful`: the gateway stores responses, so one is stored unless `store` is false.
 * `servedBy`: the backend that answered (whether its reasoning text must come back).
 */
export function responseContext(
  request: GatewayRequest,
  clientBody: unknown,
  stateful = false,
  servedBy?: ServedBy,
): ResponseContext {
  const body = (clientBody ?? {}) as JsonObject;
  const store = stateful && body.store !== false;
  const previous = body.previous_response_id;
  return {
    facts: responsesFacts(body),
    model: request.requestedModel,
    requestId: request.requestId,
    createdAt: Math.floor(Date.now() / 1000),
    responseId: storedResponseId(),
    ...(store && { store }),
    previousResponseId: stateful && typeof previous === 'string' ? previous : null,
    ...(stateful && { conversationId: conversationParam(body.conversation) }),
    ...(takesReasoningTextBack(servedBy) && { reasoningTextBack: true }),
  };
}
