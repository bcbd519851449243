import type { ServerResponse } from 'node:http';
import type { GatewayRequest } from '@aigw/contracts/data-plane';
import { NamedEventRelay, namedEventFrames } from '../http/named-event-relay';
import type { StreamHeartbeats } from '../http/stream-heartbeats';
import type { MessagesRequestFacts } from './domain/anthropic-request';
import { MessageStreamTranslator } from './domain/anthropic-stream';
import { messagesErrorEvent } from './messages-errors';

/** Anthropic's own keep-alive, which its SDK reads and skips. */
const PING = namedEventFrames([{ type: 'ping' }]);

/** Relays canonical chunks to a client of the Messages API as Anthropic's event stream. */
export class MessagesStreamRelay extends NamedEventRelay {
  constructor(
    response: ServerResponse,
    facts: MessagesRequestFacts,
    requestId: string,
    heartbeats?: StreamHeartbeats,
  ) {
    super(
      response,
      new MessageStreamTranslator(facts, requestId),
      { keepAlive: PING, failure: messagesErrorEvent },
      heartbeats,
    );
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
