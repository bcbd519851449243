import type { AnthropicMessagesResponse } from '@aigw/contracts';
import type { EdgeDialect } from '../http/edge-exchange';
import { translateMessagesRequest } from './domain/anthropic-request';
import { toAnthropicMessage } from './domain/anthropic-response';
import { messagesBodyOptions } from './messages-betas';
import { sendMessagesError } from './messages-errors';
import { MESSAGES_REQUEST_ID_HEADER } from './messages-request-id';
import { messagesFacts, MessagesStreamRelay } from './messages-sse';

/** Messages requests become canonical chat requests; answers go back as messages. */
export const MESSAGES_DIALECT: EdgeDialect = {
  canonicalBody: (body, headers) =>
    translateMessagesRequest(body, messagesBodyOptions(headers ?? {})).chat,
  answerBody: (answer, request): AnthropicMessagesResponse =>
    toAnthropicMessage(answer.body, answer.usage, messagesFacts(request), request.requestId),
  openStream: (response, headers, request) =>
    new MessagesStreamRelay(response, messagesFacts(request), request.requestId).start({
      ...headers,
      [MESSAGES_REQUEST_ID_HEADER]: request.requestId,
    }),
  sendError: sendMessagesError,
};
