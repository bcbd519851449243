import { Controller, Get, Headers } from '@nestjs/common';
import type { ModelList } from '@aigw/contracts';
import { geminiModelList, wantsGeminiShape } from '../gemini/gemini-models';
import { IngressPipeline } from '../ingress-pipeline';
import { PATH_PREFIXES } from './public-paths';
import {
  anthropicModelList,
  modelList,
  wantsAnthropicShape,
  type AnthropicModelList,
} from './model-entries';

/**
 * The OpenAI-compatible API's cold routes. The model calls (chat completions, completions,
 * embeddings) are plain Fastify routes: see `EdgeRoutes`.
 */
@Controller([...PATH_PREFIXES])
export class OpenAiController {
  constructor(private readonly pipeline: IngressPipeline) {}

  /**
   * In OpenAI's shape, or Anthropic's for the Anthropic SDK (`anthropic-version`), or
   * Gemini's for Google's SDKs (`x-goog-api-client`).
   */
  @Get('models')
  models(@Headers() headers: Record<string, unknown>): ModelList | AnthropicModelList | object {
    const ids = this.pipeline.listModels();
    if (wantsGeminiShape(headers)) return geminiModelList(ids);
    return wantsAnthropicShape(headers) ? anthropicModelList(ids) : modelList(ids);
  }
}
