import { Controller, Get, Req, Res } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { sendMessagesError } from '../anthropic/messages-errors';
import { sendGeminiError } from '../gemini/gemini-errors';
import { geminiCallerHeaders } from '../gemini/gemini-dialect';
import { geminiModelList, wantsGeminiShape } from '../gemini/gemini-models';
import { IngressPipeline } from '../ingress-pipeline';
import { sendOpenAiError, toDataPlaneError } from './openai-errors';
import { PATH_PREFIXES } from './public-paths';
import { anthropicModelList, modelList, wantsAnthropicShape } from './model-entries';

/**
 * The OpenAI-compatible API's cold routes. The model calls (chat completions, completions,
 * embeddings) are plain Fastify routes: see `EdgeRoutes`.
 */
@Controller([...PATH_PREFIXES])
export class OpenAiController {
  constructor(private readonly pipeline: IngressPipeline) {}

  /**
   * The models this caller may call (IngressPipeline.modelsFor), in OpenAI's shape, or
   * Anthropic's for the Anthropic SDK (`anthropic-version`), or Gemini's for Google's SDKs
   * (`x-goog-api-client`); a refusal (401 on a JWT-only gateway) in that API's error shape.
   */
  @Get('models')
  async models(@Req() request: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    // A Gemini caller's `?key=` as its x-goog-api-key (and so Gemini's shape), as on /v1beta.
    const headers = geminiCallerHeaders(request);
    try {
      const ids = await this.pipeline.modelsFor(headers);
      // The id every SDK reports as the answer's (`_request_id`, `sdkHttpResponse`).
      void reply.header('x-request-id', request.id);
      if (wantsGeminiShape(headers)) return void reply.send(geminiModelList(ids));
      void reply.send(wantsAnthropicShape(headers) ? anthropicModelList(ids) : modelList(ids));
    } catch (error) {
      const send = wantsGeminiShape(headers)
        ? sendGeminiError
        : wantsAnthropicShape(headers)
          ? sendMessagesError
          : sendOpenAiError;
      send(reply, toDataPlaneError(error), request.id);
    }
  }
}
