import {
  Catch,
  HttpException,
  Inject,
  type ArgumentsHost,
  type ExceptionFilter,
} from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { DataPlaneError, DataPlaneErrorCode } from '@aigw/contracts/data-plane';
import {
  ANALYTICS_HTTP_OPTIONS,
  AnalyticsAccessError,
  AnalyticsClosedError,
  type AnalyticsHttpOptions,
} from './analytics-http.options';
import { analyticsMethodsAt } from './analytics-paths';
import { AnalyticsQueryError } from '../domain/analytics-query-error';

/**
 * The analytics API's own error shape, ahead of the gateway's OpenAI-style filter:
 * 400 with every parameter problem, 401 without the token, 403 for logged payloads
 * where no token is set, 405 with `Allow` for an analytics path asked with another
 * method, 503 when the store fails
 * (logged; the body never carries the store's message, which may quote SQL).
 */
@Catch()
export class AnalyticsExceptionFilter implements ExceptionFilter {
  constructor(@Inject(ANALYTICS_HTTP_OPTIONS) private readonly options: AnalyticsHttpOptions) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const reply = http.getResponse<FastifyReply>();
    if (exception instanceof AnalyticsQueryError) {
      void reply.status(400).send({
        error: { type: 'invalid_query', message: exception.message, issues: exception.issues },
      });
      return;
    }
    if (exception instanceof AnalyticsAccessError) {
      void reply
        .status(401)
        .header('www-authenticate', 'Bearer')
        .send({ error: { type: 'unauthorized', message: exception.message } });
      return;
    }
    if (exception instanceof AnalyticsClosedError) {
      void reply.status(403).send({ error: { type: 'forbidden', message: exception.message } });
      return;
    }
    if (exception instanceof HttpException && exception.getStatus() === 404) {
      // No route for this method: where the path is served with another, say which.
      const { method, url } = http.getRequest<FastifyRequest>();
      const allowed = analyticsMethodsAt(url);
      if (allowed && !allowed.includes(method)) {
        void reply
          .status(405)
          .header('allow', allowed.join(', '))
          .send({
            error: {
              type: 'method_not_allowed',
              message: `${method} is not allowed on ${url.split('?')[0]}; use ${allowed.join(' or ')}`,
            },
          });
        return;
      }
    }
    // The edge's own refusals before any route (a request without Host, an Expect it
    // cannot meet, a transfer coding it does not implement, 501: edge-refusals), answered
    // with their status as an HttpException is.
    if (exception instanceof DataPlaneError && isClientsFault(exception)) {
      void reply.status(exception.httpStatus).send({
        error: { type: 'http_error', message: exception.message },
      });
      return;
    }
    if (exception instanceof HttpException) {
      void reply.status(exception.getStatus()).send({
        error: { type: 'http_error', message: exception.message },
      });
      return;
    }
    // The router's refusals (a malformed %-escape, an over-long part), before any route:
    // Fastify's message quotes the URL, and the store is not at fault.
    const status = (exception as { statusCode?: unknown }).statusCode;
    if (typeof status === 'number' && status >= 400 && status < 500) {
      void reply.status(400).send({
        error: {
          type: 'invalid_url',
          message: 'the request URL has a malformed %-escape or an over-long part',
        },
      });
      return;
    }
    this.options.onStoreError(exception);
    void reply.status(503).send({
      error: { type: 'store_unavailable', message: 'the analytics store did not answer' },
    });
  }
}

/** A refusal of what the client sent (4xx, or 501 for what it asked of HTTP), not a failure. */
function isClientsFault(error: DataPlaneError): boolean {
  return error.httpStatus < 500 || error.code === DataPlaneErrorCode.NotImplemented;
}
