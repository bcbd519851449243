import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { DataPlaneError, DataPlaneErrorCode, type JsonObject } from '@aigw/contracts/data-plane';
import { sendOpenAiError, toDataPlaneError } from '../http/openai-errors';
import type { IngressPipeline } from '../ingress-pipeline';
import { withoutReasoningBlocks, type ResponseObject } from './domain/responses-response';
import type { ResponseState, WhoAsks } from './state/response-state';
import type { StoredResponse } from './state/stored-response';

type Query = Readonly<Record<string, string | string[] | undefined>>;

function invalid(param: string, message: string): DataPlaneError {
  return new DataPlaneError(DataPlaneErrorCode.InvalidRequest, message, { param });
}

/** `include` asks for the reasoning items' blocks (`?include=…` or `?include[]=…`). */
export function wantsReasoningBlocks(query: Query): boolean {
  const include = query.include ?? query['include[]'];
  const values = Array.isArray(include) ? include : [include];
  return values.includes('reasoning.encrypted_content');
}

/** One page of `input_items`: `limit` 1-100 (20), `order` asc or desc (desc), `after` an id. */
export function inputItemsPage(
  items: readonly JsonObject[],
  query: Query,
  holder: 'response' | 'conversation' = 'response',
): JsonObject {
  const limitText = typeof query.limit === 'string' ? query.limit : undefined;
  const limit = limitText === undefined ? 20 : Number(limitText);
  if (!Number.isInteger(limit) || limit < 1 || limit > 100) {
    throw invalid('limit', "Invalid value for 'limit': it must be a whole number from 1 to 100.");
  }
  const order = query.order ?? 'desc';
  if (order !== 'asc' && order !== 'desc') {
    throw invalid('order', "Invalid value for 'order': it must be 'asc' or 'desc'.");
  }
  const ordered = order === 'asc' ? [...items] : [...items].reverse();
  let start = 0;
  if (typeof query.after === 'string' && query.after !== '') {
    const at = ordered.findIndex((item) => item.id === query.after);
    if (at === -1) {
      throw invalid(
        'after',
        `Invalid value for 'after': no ${holder === 'response' ? 'input item' : 'item'} '${query.after.slice(0, 128)}' in this ${holder}.`,
      );
    }
    start = at + 1;
  }
  const data = ordered.slice(start, start + limit);
  return {
    object: 'list',
    data,
    first_id: data[0]?.id ?? null,
    last_id: data.at(-1)?.id ?? null,
    has_more: start + limit < ordered.length,
  };
}

/**
 * `stream=true` on `GET /v1/responses/{id}` (OpenAI's resumable stream of a background
 * response) is a 400, whatever the id: this gateway runs no response in the background,
 * and a JSON answer to it reads to the client's SDK as an event stream with no events.
 */
export function refuseStreamedRetrieval(query: Query): void {
  if (query.stream === 'true') {
    throw invalid(
      'stream',
      "Streaming a stored response is only for background responses, and this gateway runs none in the background; retrieve it without 'stream'.",
    );
  }
}

/** A stored Response as `GET /v1/responses/{id}` answers it: reasoning blocks only when asked. */
export function retrievedResponse(record: StoredResponse, query: Query): ResponseObject {
  const output = record.response.output;
  return {
    ...record.response,
    output: wantsReasoningBlocks(query) ? output : withoutReasoningBlocks(output),
  };
}

/**
 * `GET /v1/responses/{id}`, `DELETE /v1/responses/{id}` and
 * `GET /v1/responses/{id}/input_items`: a caller's stored responses, identified as the
 * POST that stored them was (by the route of the response's model); every other caller,
 * like an unknown or expired id, gets a 404.
 */
export class StoredResponsesRoutes {
  constructor(
    private readonly state: ResponseState,
    private readonly pipeline: IngressPipeline,
  ) {}

  register(fastify: FastifyInstance, prefix: string): void {
    const path = `${prefix}/responses/:id`;
    fastify.get(path, (request, reply) =>
      this.serve(request, reply, retrievedResponse, refuseStreamedRetrieval),
    );
    fastify.get(`${path}/input_items`, (request, reply) =>
      this.serve(request, reply, async (record, query, whoAsks) =>
        inputItemsPage(
          await this.state.inputItems(record, whoAsks, wantsReasoningBlocks(query)),
          query,
        ),
      ),
    );
    fastify.delete(path, (request, reply) =>
      this.serve(request, reply, async (record) => {
        await this.state.remove(record);
        return { id: record.id, object: 'response', deleted: true };
      }),
    );
  }

  private async serve(
    request: FastifyRequest,
    reply: FastifyReply,
    answer: (record: StoredResponse, query: Query, whoAsks: WhoAsks) => unknown,
    check?: (query: Query) => void,
  ): Promise<void> {
    try {
      check?.((request.query ?? {}) as Query);
      const { id } = request.params as { id: string };
      const whoAsks: WhoAsks = (found) => this.pipeline.ownerKeyFor(found.model, request.headers);
      const record = await this.state.lookup(id, whoAsks);
      const body = await answer(record, (request.query ?? {}) as Query, whoAsks);
      void reply.header('x-request-id', request.id).send(body);
    } catch (error) {
      sendOpenAiError(reply, toDataPlaneError(error), request.id);
    }
  }
}
