import type { GatewayRequest, JsonObject } from '@aigw/contracts/data-plane';
import type { EdgeDialect } from '../http/edge-exchange';
import { sendOpenAiError } from '../http/openai-errors';
import { translateResponsesRequest } from './domain/responses-request';
import {
  toResponse,
  withoutReasoningBlocks,
  type ResponseContext,
  type ResponseObject,
} from './domain/responses-response';
import { responseContext, ResponsesStreamRelay } from './responses-sse';
import type { ResponseState } from './state/response-state';
import { normalizedInput, type StoredResponse } from './state/stored-response';

/**
 * OpenAI's Responses API in front of any backend: requests become canonical chat
 * requests, answers go back as Response objects or the Responses event stream; errors
 * keep OpenAI's format, as on its other endpoints. With `state`, responses are stored
 * (unless `store: false`) and `previous_response_id` brings a stored conversation back:
 * its turns go before this request's input (its instructions do not: OpenAI's rule).
 */
export function responsesDialect(state?: ResponseState): EdgeDialect {
  const stateful = state !== undefined;
  /** The chain each chained request continues, by its client body (kept with its record). */
  const chains = new WeakMap<object, readonly string[]>();

  const shown = (context: ResponseContext, response: ResponseObject): ResponseObject =>
    context.facts.encryptedReasoning
      ? response
      : { ...response, output: withoutReasoningBlocks(response.output) };

  const save = (request: GatewayRequest, clientBody: unknown, response: ResponseObject) => {
    const body = (clientBody ?? {}) as JsonObject;
    const record: StoredResponse = {
      id: response.id,
      owner: request.caller.userKey,
      model: request.requestedModel,
      ancestors: chains.get(body) ?? [],
      input: normalizedInput(body.input, response.id),
      response,
    };
    return state!.save(record);
  };

  return {
    canonicalBody: (body) => translateResponsesRequest(body, { stateful }).chat,
    ...(state && {
      withState: async (request: GatewayRequest, clientBody: unknown) => {
        const body = clientBody as JsonObject;
        const previous = body.previous_response_id;
        if (typeof previous !== 'string') return request;
        const { items, ids } = await state.history(request.caller.userKey, previous);
        const input =
          typeof body.input === 'string' ? [{ role: 'user', content: body.input }] : body.input;
        const { chat } = translateResponsesRequest(
          { ...body, previous_response_id: null, input: [...items, ...(input as unknown[])] },
          { stateful },
        );
        chains.set(body, ids);
        return { ...request, body: chat };
      },
    }),
    answerBody: (answer, request, clientBody) => {
      const context = responseContext(request, clientBody, stateful);
      const response = toResponse(answer.body, answer.usage, context);
      if (!context.store) return response;
      // Not kept (store down, or too large): the client must not count on it being there.
      return save(request, clientBody, response).then((stored) =>
        shown(context, stored ? response : { ...response, store: false }),
      );
    },
    openStream: (response, headers, request, clientBody) => {
      const context = responseContext(request, clientBody, stateful);
      const onFinished = context.store
        ? (finished: ResponseObject) => save(request, clientBody, finished)
        : undefined;
      return new ResponsesStreamRelay(response, context, undefined, onFinished).start(headers);
    },
    sendError: sendOpenAiError,
  };
}

/** The stateless dialect: nothing stored, `previous_response_id` refused. */
export const RESPONSES_DIALECT: EdgeDialect = responsesDialect();
