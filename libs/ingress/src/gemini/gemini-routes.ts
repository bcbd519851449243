import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { GatewayEndpoint } from '@aigw/contracts';
import {
  DataPlaneError,
  DataPlaneErrorCode,
  type GatewayRequest,
  type JsonObject,
} from '@aigw/contracts/data-plane';
import type { EdgeExchange } from '../http/edge-exchange';
import { countedInputTokens } from '../http/countable-model';
import { toDataPlaneError } from '../http/openai-errors';
import type { IngressPipeline } from '../ingress-pipeline';
import { translateGeminiRequest } from './domain/gemini-request';
import { geminiCallerHeaders, geminiDialect, type HeldFilesService } from './gemini-dialect';
import {
  gatewayFileIdsIn,
  geminiFilesNotServed,
  withHeldGeminiFiles,
} from './files/gemini-held-files';
import { geminiEmbedDialect } from './gemini-embed-dialect';
import { sendGeminiError } from './gemini-errors';
import { registerGeminiModels } from './gemini-models';
import {
  collectionModel,
  GEMINI_MODEL_COLLECTIONS,
  GEMINI_PREFIXES,
  geminiTarget,
} from './gemini-paths';
import { registerGeminiFileRoutes } from './files/gemini-file-routes';
import type { GeminiFiles } from './files/gemini-files';

/**
 * Google's Gemini API in front of any backend: `POST /v1beta/models/{model}:generateContent`,
 * `:streamGenerateContent?alt=sse`, `:countTokens`, and the embeddings `:embedContent` and
 * `:batchEmbedContents` (also under `/v1` and no prefix), `{model}` the gateway's virtual model. The calls go through the edge exchange as every
 * other API's do (identity, budgets, cache, routing, metering); errors take Google's shape.
 */
export function registerGeminiRoutes(
  fastify: FastifyInstance,
  exchange: EdgeExchange,
  pipeline: IngressPipeline,
  /** Google's Files API, where this edge serves it (the all-in-one gateway). */
  files?: GeminiFiles,
): void {
  const held = files && { files, callers: pipeline };
  const serve = async (
    collection: string,
    request: FastifyRequest,
    reply: FastifyReply,
  ): Promise<void> => {
    const named = (request.params as { '*': string })['*'];
    const target = geminiTarget(collectionModel(collection, named));
    if (!target) {
      const path = request.url.split('?')[0];
      sendGeminiError(
        reply,
        new DataPlaneError(
          DataPlaneErrorCode.UnknownUrl,
          `No Gemini API method at ${path}: use models/{model}:generateContent, :streamGenerateContent?alt=sse, :countTokens, :embedContent or :batchEmbedContents`,
        ),
        request.id,
      );
      return;
    }
    const { model, method } = target;
    if (method === 'countTokens') return countTokens(request, reply, model, pipeline, held);
    if (method === 'embedContent' || method === 'batchEmbedContents') {
      const batch = method === 'batchEmbedContents';
      const endpoint = batch
        ? GatewayEndpoint.GeminiBatchEmbedContents
        : GatewayEndpoint.GeminiEmbedContent;
      // The same operation as `/v1/embeddings`: its prompt rules, budgets, routing, billing.
      await exchange.serve(
        { endpoint, operation: 'embeddings' },
        request,
        reply,
        geminiEmbedDialect({ model, batch }),
      );
      return;
    }
    const stream = method === 'streamGenerateContent';
    // Google's SDKs ask for server-sent events; without `alt`, Gemini streams a JSON array.
    const alt = (request.query as Record<string, unknown> | undefined)?.alt;
    if (stream && alt !== undefined && alt !== 'sse' && alt !== 'json') {
      sendGeminiError(
        reply,
        new DataPlaneError(
          DataPlaneErrorCode.InvalidRequest,
          `Invalid value for alt: '${typeof alt === 'string' ? alt.slice(0, 32) : 'a list'}'; use alt=sse (server-sent events) or leave it out (a JSON array)`,
          { param: 'alt' },
        ),
        request.id,
      );
      return;
    }
    const endpoint = stream
      ? GatewayEndpoint.GeminiStreamGenerateContent
      : GatewayEndpoint.GeminiGenerateContent;
    await exchange.serve(
      { endpoint, operation: 'chat' },
      request,
      reply,
      geminiDialect({ model, stream, framing: alt === 'sse' ? 'sse' : 'array' }, held),
    );
  };
  for (const prefix of GEMINI_PREFIXES) {
    for (const collection of GEMINI_MODEL_COLLECTIONS) {
      fastify.post(`${prefix}/${collection}/*`, (request, reply) =>
        serve(collection, request, reply),
      );
    }
  }
  registerGeminiModels(fastify, pipeline);
  registerGeminiFileRoutes(fastify, pipeline, files);
}

/**
 * An estimate by our tokenizer (OpenAI's cl100k), as `/v1/messages/count_tokens` gives:
 * the backend's own tokenizer may count differently. Identity and prompt rules apply;
 * nothing is routed. The body is a request's fields, or `{generateContentRequest}`.
 */
async function countTokens(
  request: FastifyRequest,
  reply: FastifyReply,
  model: string,
  pipeline: IngressPipeline,
  /** The Files API whose files `fileData` may name (counted as a call's hold counts them). */
  held?: HeldFilesService,
): Promise<void> {
  try {
    const body = request.body as JsonObject | undefined;
    const wrapped = body?.generateContentRequest;
    const asked = typeof wrapped === 'object' && wrapped !== null ? wrapped : body;
    const { chat } = translateGeminiRequest(asked, { model, stream: false });
    const headers = geminiCallerHeaders(request);
    if (!held && gatewayFileIdsIn(chat)) throw geminiFilesNotServed();
    const withFiles =
      held &&
      ((asked: GatewayRequest) => withHeldGeminiFiles(asked, headers, held.files, held.callers));
    const totalTokens = await countedInputTokens(pipeline, chat, headers, request.id, withFiles);
    void reply.header('x-request-id', request.id).send({ totalTokens });
  } catch (error) {
    sendGeminiError(reply, toDataPlaneError(error), request.id);
  }
}
