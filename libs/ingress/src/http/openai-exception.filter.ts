import { Catch, HttpException, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { DataPlaneError, DataPlaneErrorCode } from '@aigw/contracts/data-plane';
import { sendOpenAiError, toDataPlaneError } from './openai-errors';

/** Every error a handler throws leaves as an OpenAI-style body with the right status. */
@Catch()
export class OpenAiExceptionFilter implements ExceptionFilter {
  constructor(private readonly onUnexpected: (error: unknown) => void) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const reply = http.getResponse<FastifyReply>();
    const request = http.getRequest<FastifyRequest>();
    const mapped =
      exception instanceof HttpException && exception.getStatus() === 404
        ? new DataPlaneError(DataPlaneErrorCode.UnknownUrl, exception.message)
        : toDataPlaneError(exception);
    if (mapped.code === DataPlaneErrorCode.Internal) this.onUnexpected(exception);
    sendOpenAiError(reply, mapped, request.id);
  }
}
