import type { EdgeDialect } from '../http/edge-exchange';
import { sendOpenAiError } from '../http/openai-errors';
import { translateResponsesRequest } from './domain/responses-request';
import { toResponse, type ResponseObject } from './domain/responses-response';
import { responseContext, ResponsesStreamRelay } from './responses-sse';

/**
 * OpenAI's Responses API in front of any backend: requests become canonical chat
 * requests, answers go back as Response objects or the Responses event stream; errors
 * keep OpenAI's format, as on its other endpoints.
 */
export const RESPONSES_DIALECT: EdgeDialect = {
  canonicalBody: (body) => translateResponsesRequest(body).chat,
  answerBody: (answer, request, clientBody): ResponseObject =>
    toResponse(answer.body, answer.usage, responseContext(request, clientBody)),
  openStream: (response, headers, request, clientBody) =>
    new ResponsesStreamRelay(response, responseContext(request, clientBody)).start(headers),
  sendError: sendOpenAiError,
};
