import type { FastifyRequest } from 'fastify';
import {
  callerOwnerKey,
  DataPlaneError,
  DataPlaneErrorCode,
  type GatewayRequest,
  type JsonObject,
} from '@aigw/contracts/data-plane';
import type { EdgeDialect } from '../http/edge-exchange';
import type { IngressPipeline } from '../ingress-pipeline';
import { sendOpenAiError } from '../http/openai-errors';
import { refuseDuplicateItems } from './domain/duplicate-items';
import { conversationParam, translateResponsesRequest } from './domain/responses-request';
import {
  toResponse,
  withoutReasoningBlocks,
  type ResponseContext,
  type ResponseObject,
} from './domain/responses-response';
import { asConversationItems } from './conversations/conversation';
import { conversationNotFound } from './conversations/conversation-state';
import { refuseFileIds, withInputFiles, type InputFileResolver } from './input-files';
import { responseContext, ResponsesStreamRelay } from './responses-sse';
import type { ResponseState } from './state/response-state';
import { normalizedInput, type UnplacedResponse } from './state/stored-response';

type Callers = Pick<IngressPipeline, 'ownerKeyFor' | 'ownerKeysWithoutModel'>;

/**
 * OpenAI's Responses API in front of any backend: requests become canonical chat
 * requests, answers go back as Response objects or the Responses event stream; errors
 * keep OpenAI's format, as on its other endpoints. With `state`, responses are stored
 * (unless `store: false`) and `previous_response_id` brings a stored conversation back:
 * its turns go before this request's input (its instructions do not: OpenAI's rule);
 * `conversation` does the same with a conversation's items, and gets this turn appended.
 * `callers` identifies a continuing caller as the route of the stored response's model
 * does, as GET /v1/responses/{id} does, and a conversation's caller as the Conversations
 * API does (`ownerKeysWithoutModel`), not as this request's route does. With `files` (the
 * Files API), an input_file's `file_id` is the caller's gateway file, identified as
 * reading it is (by the file's model's route), and made into what the backend takes;
 * without, a `file_id` is refused.
 */
export function responsesDialect(kept?: {
  state?: ResponseState;
  callers: Callers;
  files?: InputFileResolver;
}): EdgeDialect {
  const state = kept?.state;
  const files = kept?.files;
  const stateful = state !== undefined;
  /** The chain each chained request continues, by its client body (kept with its record). */
  const chains = new WeakMap<object, readonly string[]>();
  /** Whose conversation each request adds to, by its client body, as withState found it. */
  const conversationOwners = new WeakMap<object, string>();

  const shown = (context: ResponseContext, response: ResponseObject): ResponseObject =>
    context.facts.encryptedReasoning
      ? response
      : { ...response, output: withoutReasoningBlocks(response.output) };

  const save = (request: GatewayRequest, clientBody: unknown, response: ResponseObject) => {
    const body = (clientBody ?? {}) as JsonObject;
    const record: UnplacedResponse = {
      id: response.id,
      // Its owner key: on a route identifying users two ways, two providers' `alice`s differ.
      owner: callerOwnerKey(request.caller),
      model: request.requestedModel,
      input: normalizedInput(body.input, response.id),
      response,
    };
    return state!.save(record, chains.get(body));
  };

  /**
   * A finished response's state, before it goes out: stored unless `store` is false (says
   * whether it was kept), and its input and output appended to its conversation when
   * it completed: OpenAI appends them "after this response completes", so a response
   * cut short (incomplete) or failed adds nothing, and the client can send that turn again.
   */
  const finish = async (
    request: GatewayRequest,
    clientBody: unknown,
    context: ResponseContext,
    response: ResponseObject,
  ): Promise<boolean> => {
    const conversation = context.conversationId;
    const body = (clientBody ?? {}) as JsonObject;
    const owner = conversationOwners.get(body);
    if (conversation !== undefined && owner !== undefined && response.status === 'completed') {
      const items = [
        ...asConversationItems(normalizedInput(body.input, response.id)),
        ...(response.output as unknown as JsonObject[]),
      ];
      await state!.conversations!.appendTurn(owner, conversation, items);
    }
    // Not kept (store down, or too large): the client must not count on it being there.
    return context.store ? save(request, clientBody, response) : false;
  };

  /** The request with the earlier turns `previous_response_id` or `conversation` bring back. */
  const withHistory = async (
    state: ResponseState,
    callers: Callers,
    request: GatewayRequest,
    clientBody: unknown,
    headers: FastifyRequest['headers'],
  ): Promise<GatewayRequest> => {
    const body = clientBody as JsonObject;
    const previous = body.previous_response_id;
    const conversation = conversationParam(body.conversation);
    const input =
      typeof body.input === 'string' ? [{ role: 'user', content: body.input }] : body.input;
    const sent: unknown[] = Array.isArray(input) ? (input as unknown[]) : [];
    if (typeof previous !== 'string' && conversation === undefined) {
      // A stored one's input_items must page; an unstored one's is the client's business.
      if (body.store !== false) refuseDuplicateItems(sent);
      return request;
    }
    let earlier: JsonObject[];
    if (conversation !== undefined) {
      const conversations = state.conversations;
      if (!conversations) {
        throw new DataPlaneError(
          DataPlaneErrorCode.InvalidRequest,
          "'conversation' is not supported: this gateway keeps no conversations.",
          { param: 'conversation' },
        );
      }
      // Its owner as the Conversations API made it, which this request's route may
      // identify differently (an unverified header where that one takes a JWT).
      const owners = await callers.ownerKeysWithoutModel(headers);
      if (owners.length === 0) throw conversationNotFound(conversation, 'conversation');
      const owner = await conversations.ownerAmong(owners, conversation, 'conversation');
      const inputBytes = Buffer.byteLength(JSON.stringify(input));
      earlier = await conversations.forResponse(owner, conversation, inputBytes);
      conversationOwners.set(body, owner);
    } else {
      const { items, ids } = await state.history(
        (record) => callers.ownerKeyFor(record.model, headers),
        previous as string,
      );
      chains.set(body, ids);
      earlier = items;
    }
    refuseDuplicateItems(sent, earlier);
    // The whole input, before budgets, redaction, the cache and the router see it.
    const { chat } = translateResponsesRequest(
      {
        ...body,
        previous_response_id: null,
        conversation: null,
        input: [...earlier, ...(input as unknown[])],
      },
      { stateful },
    );
    return { ...request, body: chat };
  };

  return {
    canonicalBody: (body) => {
      const { chat } = translateResponsesRequest(body, { stateful });
      if (!files) refuseFileIds(body);
      return chat;
    },
    ...((state || files) && {
      withState: async (request, clientBody, headers) => {
        const callers = kept.callers;
        const whole = state
          ? await withHistory(state, callers, request, clientBody, headers)
          : request;
        if (!files) return whole;
        // Identified as reading the file is: by its own model's route.
        const who = (model: string, on: typeof headers) => callers.ownerKeyFor(model, on);
        return withInputFiles(whole, clientBody, headers, files, who);
      },
    }),
    answerBody: (answer, request, clientBody) => {
      const context = responseContext(request, clientBody, stateful, answer.servedBy);
      const response = toResponse(answer.body, answer.usage, context);
      if (!context.store && context.conversationId === undefined) return response;
      return finish(request, clientBody, context, response).then((stored) =>
        shown(context, stored ? response : { ...response, store: false }),
      );
    },
    openStream: (response, headers, request, clientBody, servedBy) => {
      const context = responseContext(request, clientBody, stateful, servedBy);
      const onFinished =
        context.store || context.conversationId !== undefined
          ? (finished: ResponseObject) => finish(request, clientBody, context, finished)
          : undefined;
      return new ResponsesStreamRelay(response, context, undefined, onFinished).start(headers);
    },
    sendError: sendOpenAiError,
  };
}

/** The stateless dialect: nothing stored, `previous_response_id` refused. */
export const RESPONSES_DIALECT: EdgeDialect = responsesDialect();
