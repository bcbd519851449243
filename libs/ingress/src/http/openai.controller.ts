import { Controller, Get, Inject, Optional, Post, Req, Res } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Operation } from '@aigw/contracts/data-plane';
import { BudgetAdmission } from '../admission/budget-admission';
import { ResponseReuse } from '../cache/response-reuse';
import { IngressPipeline } from '../ingress-pipeline';
import { INGRESS_OBSERVER, type IngressObserver } from '../ingress-observer';
import { EdgeExchange, type EdgeDialect } from './edge-exchange';
import { sendOpenAiError } from './openai-errors';
import { SseWriter } from './sse-writer';

/** OpenAI's wire format is the canonical one: answers pass through as they are. */
const OPENAI_DIALECT: EdgeDialect = {
  answerBody: (answer) => answer.body,
  openStream: (response, headers) => {
    const writer = new SseWriter(response);
    writer.start(headers);
    return {
      event: (chunk) => writer.event(chunk),
      end: async () => writer.done(),
      fail: (error) => writer.fail(error),
    };
  },
  sendError: sendOpenAiError,
};

/** The OpenAI-compatible API. */
@Controller('v1')
export class OpenAiController {
  private readonly exchange: EdgeExchange;

  constructor(
    private readonly pipeline: IngressPipeline,
    @Inject(INGRESS_OBSERVER) observer: IngressObserver,
    @Optional() admission?: BudgetAdmission,
    @Optional() reuse?: ResponseReuse,
  ) {
    this.exchange = new EdgeExchange(pipeline, observer, admission, reuse);
  }

  @Post('chat/completions')
  chat(@Req() request: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    return this.serve('chat', request, reply);
  }

  @Post('completions')
  completions(@Req() request: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    return this.serve('completions', request, reply);
  }

  @Post('embeddings')
  embeddings(@Req() request: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    return this.serve('embeddings', request, reply);
  }

  @Get('models')
  models(): {
    object: 'list';
    data: { id: string; object: 'model'; created: number; owned_by: string }[];
  } {
    return {
      object: 'list',
      data: this.pipeline.listModels().map((id) => ({
        id,
        object: 'model',
        created: 0,
        owned_by: 'ai-gateway',
      })),
    };
  }

  private serve(operation: Operation, http: FastifyRequest, reply: FastifyReply): Promise<void> {
    return this.exchange.serve(operation, http, reply, OPENAI_DIALECT);
  }
}
