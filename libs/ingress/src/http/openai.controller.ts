import { Controller, Get, Inject, Optional, Post, Req, Res } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { GatewayRequest, Operation } from '@aigw/contracts/data-plane';
import { BudgetAdmission, type Admission } from '../admission/budget-admission';
import { IngressPipeline } from '../ingress-pipeline';
import { INGRESS_OBSERVER, type IngressObserver } from '../ingress-observer';
import { sendOpenAiError, toDataPlaneError } from './openai-errors';
import { SseWriter } from './sse-writer';

/** The OpenAI-compatible API. */
@Controller('v1')
export class OpenAiController {
  constructor(
    private readonly pipeline: IngressPipeline,
    @Inject(INGRESS_OBSERVER) private readonly observer: IngressObserver,
    @Optional() private readonly admission?: BudgetAdmission,
  ) {}

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

  private async serve(
    operation: Operation,
    http: FastifyRequest,
    reply: FastifyReply,
  ): Promise<void> {
    const timings: { startedAt: number; firstByteAt?: number } = { startedAt: performance.now() };
    const requestId = http.id;
    // A client that hangs up cancels its upstream call.
    const abort = new AbortController();
    reply.raw.once('close', () => {
      if (!reply.raw.writableFinished) abort.abort(new Error('client disconnected'));
    });

    let request: GatewayRequest | undefined;
    let admission: Admission | undefined;
    let answered = false;
    let accepted = false;
    try {
      // A promise only when a JWT must be verified; awaiting a plain value costs a tick.
      request = await this.pipeline.prepare(operation, http.body, http.headers, requestId);
      if (this.admission) {
        admission = await this.admission.admit(request);
        request = { ...request, reservationId: admission.reservationId };
      }
      this.observer.accepted(request);
      accepted = true;
      const answer = await this.pipeline.handle(request, abort.signal);
      answered = true;
      const limitHeaders = admission?.headers ?? {};
      if (answer.kind === 'json') {
        timings.firstByteAt = performance.now();
        void reply
          .headers(limitHeaders)
          .header('x-request-id', requestId)
          .header('x-ai-gateway-backend', answer.servedBy.backend)
          .code(answer.status)
          .send(answer.body);
        this.observer.completed(request, answer.servedBy, answer.usage, timings);
        return;
      }

      reply.hijack();
      const writer = new SseWriter(reply.raw);
      writer.start({
        ...limitHeaders,
        'x-request-id': requestId,
        'x-ai-gateway-backend': answer.servedBy.backend,
      });
      try {
        for await (const event of answer.events) {
          if (abort.signal.aborted) break;
          timings.firstByteAt ??= performance.now();
          await writer.event(event);
        }
        writer.done();
        this.observer.completed(request, answer.servedBy, await answer.usage, timings);
      } catch (error) {
        const mapped = toDataPlaneError(error);
        writer.fail(mapped);
        this.observer.failed({ requestId, operation, request, error: mapped, timings, accepted });
      }
    } catch (error) {
      const mapped = toDataPlaneError(error);
      // No answer means no usage event to settle the hold: give it back now.
      if (admission && !answered) void this.admission?.release(admission).catch(() => undefined);
      this.observer.failed({ requestId, operation, request, error: mapped, timings, accepted });
      if (!abort.signal.aborted) sendOpenAiError(reply, mapped, requestId);
    }
  }
}
