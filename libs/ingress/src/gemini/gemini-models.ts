import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { DataPlaneError, DataPlaneErrorCode } from '@aigw/contracts/data-plane';
import { toDataPlaneError } from '../http/openai-errors';
import type { IngressPipeline } from '../ingress-pipeline';
import { geminiCallerHeaders } from './gemini-dialect';
import { sendGeminiError } from './gemini-errors';
import { geminiTarget } from './gemini-paths';

/** A virtual model name as Gemini's models API lists it (what we know of it: its name). */
export function geminiModelEntry(id: string): Record<string, unknown> {
  return {
    name: `models/${id}`,
    displayName: id,
    // Every method is served for every virtual model; its backend decides what it can do.
    supportedGenerationMethods: [
      'generateContent',
      'streamGenerateContent',
      'countTokens',
      'embedContent',
      'batchEmbedContents',
    ],
  };
}

/**
 * Google's SDKs name themselves in `x-goog-api-client` and send their key as
 * `x-goog-api-key`; OpenAI's and Anthropic's clients send neither. Their `/v1/models`
 * (the SDK's default version) is answered in Gemini's shape.
 */
export function wantsGeminiShape(headers: Readonly<Record<string, unknown>>): boolean {
  return (
    typeof headers['x-goog-api-client'] === 'string' ||
    typeof headers['x-goog-api-key'] === 'string'
  );
}

/** `GET /models` in Gemini's shape: one page holding every virtual model. */
export function geminiModelList(ids: readonly string[]): { models: Record<string, unknown>[] } {
  return { models: ids.map(geminiModelEntry) };
}

/**
 * `GET /v1beta/models` and `/v1beta/models/{model}` in Gemini's shape (`client.models.list()`
 * and `.get()` of Google's SDKs): the virtual models this caller may call (a 401 where only
 * JWT routes serve them and no token verifies), as `/v1/models` lists them to OpenAI
 * clients; under `/v1` the same paths serve every API, and Google's clients are told
 * apart by their headers (`wantsGeminiShape`).
 */
export function registerGeminiModels(fastify: FastifyInstance, pipeline: IngressPipeline): void {
  fastify.get('/v1beta/models', async (request, reply) => {
    try {
      // `?key=` too, as Google's REST examples send it (`curl …/v1beta/models?key=$KEY`).
      const headers = geminiCallerHeaders(request);
      const ids = await pipeline.modelsFor(headers);
      void reply.header('x-request-id', request.id).send(geminiModelList(ids));
    } catch (error) {
      sendGeminiError(reply, toDataPlaneError(error), request.id);
    }
  });
  fastify.get('/v1beta/models/*', (request, reply) => sendGeminiModel(request, reply, pipeline));
}

/**
 * `GET .../models/{model}` in Gemini's shape, or Google's 404: for a model not served
 * (or not this caller's to call), or a method (`{model}:generateContent`), called with POST.
 */
export async function sendGeminiModel(
  request: FastifyRequest,
  reply: FastifyReply,
  pipeline: IngressPipeline,
): Promise<void> {
  try {
    const asked = (request.params as { '*': string })['*'];
    if (geminiTarget(asked) !== undefined) {
      throw new DataPlaneError(
        DataPlaneErrorCode.MethodNotAllowed,
        `GET is not allowed on ${request.url.split('?')[0]}; use POST`,
        { headers: { allow: 'POST' } },
      );
    }
    const headers = geminiCallerHeaders(request);
    const id = await pipeline.modelFor(headers, asked.replace(/^models\//, ''));
    void reply.header('x-request-id', request.id).send(geminiModelEntry(id));
  } catch (error) {
    sendGeminiError(reply, toDataPlaneError(error), request.id);
  }
}
