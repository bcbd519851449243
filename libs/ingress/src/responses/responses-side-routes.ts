import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { DataPlaneError, DataPlaneErrorCode, type JsonObject } from '@aigw/contracts/data-plane';
import { countedInputTokens } from '../http/countable-model';
import { sendOpenAiError, toDataPlaneError } from '../http/openai-errors';
import type { IngressPipeline } from '../ingress-pipeline';
import { translateResponsesRequest } from './domain/responses-request';
import { refuseFileIds, withInputFiles, type InputFileResolver } from './input-files';

/**
 * The Responses API's other POSTs, which would otherwise fall on `/responses/:id` (a 405
 * naming GET and DELETE) or on no route at all:
 * - `input_tokens`: an estimate by our tokenizer (OpenAI's cl100k), erring high, as
 *   `/v1/messages/count_tokens` and Gemini's `:countTokens` give: the backend's own
 *   tokenizer may count differently. Identity, the model's route and prompt rules apply
 *   as for a create; nothing is routed. An input_file by `file_id` is counted as the
 *   call's hold counts it (`files`, the Files API), or refused where that is not served.
 * - `{id}/cancel`: only background responses can be cancelled, and this gateway runs none.
 * - `compact`: not served.
 * Registered whether or not the response store is on: none of them reads it.
 */
export function registerResponsesSideRoutes(
  fastify: FastifyInstance,
  prefix: string,
  pipeline: IngressPipeline,
  files?: InputFileResolver,
): void {
  fastify.post(`${prefix}/responses/input_tokens`, (request, reply) =>
    countInputTokens(request, reply, pipeline, files),
  );
  fastify.post(`${prefix}/responses/:id/cancel`, (request, reply) =>
    sendOpenAiError(reply, notCancellable(), request.id),
  );
  fastify.post(`${prefix}/responses/compact`, (request, reply) =>
    sendOpenAiError(reply, compactionNotServed(), request.id),
  );
}

/**
 * Earlier turns a count would have to look up: counted from `input` alone they would be
 * an undercount that looks right, so they are refused, naming the field.
 */
const LOOKED_UP_FIELDS = ['previous_response_id', 'conversation'] as const;

async function countInputTokens(
  request: FastifyRequest,
  reply: FastifyReply,
  pipeline: IngressPipeline,
  files: InputFileResolver | undefined,
): Promise<void> {
  try {
    const body = request.body as JsonObject | undefined;
    for (const field of LOOKED_UP_FIELDS) {
      const value = body?.[field];
      if (value === undefined || value === null) continue;
      throw new DataPlaneError(
        DataPlaneErrorCode.InvalidRequest,
        `'${field}' is not supported when counting input tokens: this gateway counts what the request holds; send the whole conversation in 'input'.`,
        { param: field },
      );
    }
    const { chat } = translateResponsesRequest(body, { stateful: false });
    if (!files) refuseFileIds(body);
    // Each file read as the caller who would send it, identified by the file's model's route.
    const who = (model: string, on: typeof request.headers) => pipeline.ownerKeyFor(model, on);
    const inputTokens = await countedInputTokens(
      pipeline,
      chat,
      request.headers,
      request.id,
      files && ((prepared) => withInputFiles(prepared, body, request.headers, files, who)),
    );
    void reply
      .header('x-request-id', request.id)
      .send({ object: 'response.input_tokens', input_tokens: inputTokens });
  } catch (error) {
    sendOpenAiError(reply, toDataPlaneError(error), request.id);
  }
}

function notCancellable(): DataPlaneError {
  return new DataPlaneError(
    DataPlaneErrorCode.InvalidRequest,
    "Only responses created with 'background': true can be cancelled, and this gateway runs no response in the background: it answers while you wait. To stop a response, close its request or stream.",
  );
}

function compactionNotServed(): DataPlaneError {
  return new DataPlaneError(
    DataPlaneErrorCode.UnknownUrl,
    "This gateway does not serve response compaction (POST /v1/responses/compact); send the conversation to keep in 'input'.",
  );
}
