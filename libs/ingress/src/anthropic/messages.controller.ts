import { Controller, HttpCode, Inject, Optional, Post, Req, Res } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { AnthropicMessagesResponse } from '@aigw/contracts';
import { countPromptTokens } from '@aigw/contracts/data-plane';
import { BudgetAdmission } from '../admission/budget-admission';
import { ResponseReuse } from '../cache/response-reuse';
import { EdgeExchange, type EdgeDialect } from '../http/edge-exchange';
import { IngressPipeline } from '../ingress-pipeline';
import { INGRESS_OBSERVER, type IngressObserver } from '../ingress-observer';
import { translateMessagesRequest } from './domain/anthropic-request';
import { toAnthropicMessage } from './domain/anthropic-response';
import { messagesFacts, MessagesStreamRelay } from './messages-sse';
import { sendMessagesError } from './messages-errors';

/** Messages requests become canonical chat requests; answers go back as messages. */
const MESSAGES_DIALECT: EdgeDialect = {
  canonicalBody: (body) => translateMessagesRequest(body).chat,
  answerBody: (answer, request): AnthropicMessagesResponse =>
    toAnthropicMessage(answer.body, answer.usage, messagesFacts(request), request.requestId),
  openStream: (response, headers, request) =>
    new MessagesStreamRelay(response, messagesFacts(request), request.requestId).start(headers),
  sendError: sendMessagesError,
};

/**
 * Anthropic's Messages API (`POST /v1/messages`) in front of any backend: requests are
 * translated to the gateway's canonical OpenAI chat format at the edge, so routing,
 * failover, budgets and every provider adapter apply unchanged.
 */
@Controller('v1/messages')
export class MessagesController {
  private readonly exchange: EdgeExchange;

  constructor(
    private readonly pipeline: IngressPipeline,
    @Inject(INGRESS_OBSERVER) observer: IngressObserver,
    @Optional() admission?: BudgetAdmission,
    @Optional() reuse?: ResponseReuse,
  ) {
    this.exchange = new EdgeExchange(pipeline, observer, admission, reuse);
  }

  @Post()
  messages(@Req() request: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    return this.exchange.serve('chat', request, reply, MESSAGES_DIALECT);
  }

  /**
   * An estimate by our tokenizer (OpenAI's cl100k), erring high: the backend's own
   * tokenizer may count differently. Identity and prompt rules apply; nothing is routed.
   */
  @Post('count_tokens')
  @HttpCode(200)
  async countTokens(@Req() request: FastifyRequest): Promise<{ input_tokens: number }> {
    const { chat } = translateMessagesRequest(request.body, { requireMaxTokens: false });
    const prepared = await this.pipeline.prepare('chat', chat, request.headers, request.id);
    return { input_tokens: countPromptTokens(prepared.body) };
  }
}
