import { Controller, Get, Headers } from '@nestjs/common';
import type { ModelList } from '@aigw/contracts';
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

  /** In OpenAI's shape, or Anthropic's for the Anthropic SDK (`anthropic-version`). */
  @Get('models')
  models(@Headers() headers: Record<string, unknown>): ModelList | AnthropicModelList {
    const ids = this.pipeline.listModels();
    return wantsAnthropicShape(headers) ? anthropicModelList(ids) : modelList(ids);
  }
}
