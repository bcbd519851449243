import { Controller, HttpCode, Post, Req } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { countedInputTokens } from '../http/countable-model';
import { PATH_PREFIXES } from '../http/public-paths';
import { IngressPipeline } from '../ingress-pipeline';
import { translateMessagesRequest } from './domain/anthropic-request';
import { messagesBodyOptions } from './messages-betas';

/**
 * Anthropic's Messages API in front of any backend: requests are translated to the
 * gateway's canonical OpenAI chat format at the edge, so routing, failover, budgets and
 * every provider adapter apply unchanged. `POST /v1/messages` itself is a plain Fastify
 * route (see `EdgeRoutes`, `MESSAGES_DIALECT`); this controller serves the cold routes.
 */
@Controller(PATH_PREFIXES.map((prefix) => `${prefix}/messages`))
export class MessagesController {
  constructor(private readonly pipeline: IngressPipeline) {}

  /**
   * An estimate by our tokenizer (OpenAI's cl100k), erring high: the backend's own
   * tokenizer may count differently. Identity and prompt rules apply; nothing is routed.
   */
  @Post('count_tokens')
  @HttpCode(200)
  async countTokens(@Req() request: FastifyRequest): Promise<{ input_tokens: number }> {
    const { chat } = translateMessagesRequest(request.body, {
      ...messagesBodyOptions(request.headers),
      requireMaxTokens: false,
    });
    return {
      input_tokens: await countedInputTokens(this.pipeline, chat, request.headers, request.id),
    };
  }
}
