import { Controller, Get } from '@nestjs/common';
import type { ModelList } from '@aigw/contracts';
import { IngressPipeline } from '../ingress-pipeline';
import { modelList } from './model-entries';

/**
 * The OpenAI-compatible API's cold routes. The model calls (chat completions, completions,
 * embeddings) are plain Fastify routes: see `EdgeRoutes`.
 */
@Controller('v1')
export class OpenAiController {
  constructor(private readonly pipeline: IngressPipeline) {}

  @Get('models')
  models(): ModelList {
    return modelList(this.pipeline.listModels());
  }
}
