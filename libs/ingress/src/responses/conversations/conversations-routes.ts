import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { DataPlaneError, DataPlaneErrorCode, type JsonObject } from '@aigw/contracts/data-plane';
import { sendOpenAiError, toDataPlaneError } from '../../http/openai-errors';
import type { IngressPipeline } from '../../ingress-pipeline';
import { withoutReasoningBlocks, type OutputItem } from '../domain/responses-response';
import { inputItemsPage, wantsReasoningBlocks } from '../stored-responses-routes';
import { conversationItems, conversationMetadata, conversationObject } from './conversation';
import type { ConversationState } from './conversation-state';

type Query = Readonly<Record<string, string | string[] | undefined>>;
type Params = { id: string; item_id: string };

interface Call {
  readonly owner: string;
  readonly params: Params;
  readonly query: Query;
  readonly body: JsonObject;
}

function shown(items: readonly JsonObject[], query: Query): JsonObject[] {
  if (wantsReasoningBlocks(query)) return [...items];
  return withoutReasoningBlocks(items as unknown as OutputItem[]) as unknown as JsonObject[];
}

/** A list of items in OpenAI's shape (what adding items answers). */
function itemList(items: readonly JsonObject[]): JsonObject {
  return {
    object: 'list',
    data: [...items],
    first_id: items[0]?.id ?? null,
    last_id: items.at(-1)?.id ?? null,
    has_more: false,
  };
}

/**
 * OpenAI's Conversations API: `POST /v1/conversations`, `GET`/`POST`/`DELETE
 * /v1/conversations/{id}`, `GET`/`POST /v1/conversations/{id}/items` and `GET`/`DELETE
 * /v1/conversations/{id}/items/{item_id}`. These name no model, so the caller is identified
 * as every route identifies callers (IngressPipeline.ownerKeysWithoutModel); a
 * conversation is its creator's, and a 404 to every other caller.
 */
export class ConversationsRoutes {
  constructor(
    private readonly state: ConversationState,
    private readonly pipeline: IngressPipeline,
  ) {}

  register(fastify: FastifyInstance, prefix: string): void {
    const base = `${prefix}/conversations`;
    const one = `${base}/:id`;
    const state = this.state;
    fastify.post(base, (request, reply) =>
      this.serve(request, reply, async ({ owner, body }) => {
        const metadata = conversationMetadata(body.metadata);
        const items = conversationItems(body.items, false);
        return conversationObject(await state.create(owner, metadata, items));
      }),
    );
    fastify.get(one, (request, reply) =>
      this.serve(request, reply, async ({ owner, params }) =>
        conversationObject(await state.header(owner, params.id)),
      ),
    );
    fastify.post(one, (request, reply) =>
      this.serve(request, reply, async ({ owner, params, body }) => {
        if (!('metadata' in body)) {
          throw invalid('metadata', "Missing required parameter: 'metadata'.");
        }
        const metadata = conversationMetadata(body.metadata);
        return conversationObject(await state.setMetadata(owner, params.id, metadata));
      }),
    );
    fastify.delete(one, (request, reply) =>
      this.serve(request, reply, async ({ owner, params }) => {
        await state.delete(owner, params.id);
        return { id: params.id, object: 'conversation.deleted', deleted: true };
      }),
    );
    fastify.get(`${one}/items`, (request, reply) =>
      this.serve(request, reply, async ({ owner, params, query }) => {
        const { items } = await state.read(owner, params.id);
        return inputItemsPage(shown(items, query), query, 'conversation');
      }),
    );
    fastify.post(`${one}/items`, (request, reply) =>
      this.serve(request, reply, async ({ owner, params, query, body }) => {
        const items = conversationItems(body.items, true);
        return itemList(shown(await state.add(owner, params.id, items), query));
      }),
    );
    fastify.get(`${one}/items/:item_id`, (request, reply) =>
      this.serve(request, reply, async ({ owner, params, query }) => {
        const [item] = shown([await state.item(owner, params.id, params.item_id)], query);
        return item;
      }),
    );
    fastify.delete(`${one}/items/:item_id`, (request, reply) =>
      this.serve(request, reply, async ({ owner, params }) =>
        conversationObject(await state.deleteItem(owner, params.id, params.item_id)),
      ),
    );
  }

  private async serve(
    request: FastifyRequest,
    reply: FastifyReply,
    answer: (call: Call) => Promise<unknown>,
  ): Promise<void> {
    try {
      const body = request.body ?? {};
      if (typeof body !== 'object' || Array.isArray(body)) {
        throw new DataPlaneError(
          DataPlaneErrorCode.InvalidRequest,
          'The request body must be a JSON object',
        );
      }
      const owners = await this.pipeline.ownerKeysWithoutModel(request.headers);
      if (owners.length === 0) {
        throw new DataPlaneError(
          DataPlaneErrorCode.NotFound,
          'This gateway has no route, so it keeps no conversations.',
        );
      }
      const params = request.params as Params;
      // A new one is made under the strongest key; one named is reached under any.
      const owner = params.id ? await this.state.ownerAmong(owners, params.id) : owners[0];
      const result = await answer({
        owner,
        params,
        query: (request.query ?? {}) as Query,
        body: body as JsonObject,
      });
      void reply.header('x-request-id', request.id).send(result);
    } catch (error) {
      sendOpenAiError(reply, toDataPlaneError(error), request.id);
    }
  }
}

function invalid(param: string, message: string): DataPlaneError {
  return new DataPlaneError(DataPlaneErrorCode.InvalidRequest, message, { param });
}
