import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { DynamicModule, ExceptionFilter } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { NestLoggerService, type Logger } from '@aigw/observability';
import { corsOptions, type CorsOrigins } from './cors-origins';
import { edgeClientErrorHandler, type ClientErrorReason } from './edge-client-errors';
import { requestBodyDecoder } from './request-body-decoding';
import type { ServedApp } from './service-runtime';

const REQUEST_ID = /^[\w.:-]{1,128}$/;

export interface NestEdgeAppOptions {
  readonly logger: Logger;
  readonly maxBodyBytes: number;
  /**
   * How long a client may take to send a whole request, headers and body
   * (AI_GATEWAY_REQUEST_RECEIVE_TIMEOUT_MS); the answer, a long stream included, is not
   * bounded by it. Fastify's default is no bound, so a body trickled a byte at a time held
   * its connection and buffer for ever.
   */
  readonly requestReceiveTimeoutMs: number;
  /** Browser origins allowed to call the API (AI_GATEWAY_CORS_ORIGINS); unset: no CORS. */
  readonly cors?: CorsOrigins;
  /** Told of each connection answered before it carried a request (metrics). */
  readonly onClientError?: (reason: ClientErrorReason) => void;
  /** Turns every error into the public API's error shape (OpenAI-style). */
  readonly filter: ExceptionFilter;
}

/** The public edge (all-in-one gateway or ingress): a Nest app on Fastify. */
export async function createNestEdgeApp(
  module: DynamicModule,
  options: NestEdgeAppOptions,
): Promise<ServedApp> {
  const adapter = new FastifyAdapter({
    bodyLimit: options.maxBodyBytes,
    requestTimeout: options.requestReceiveTimeoutMs,
    http: {
      // Node ignores requestTimeout while headersTimeout (60 s by default) is longer.
      headersTimeout: Math.min(60_000, options.requestReceiveTimeoutMs),
      // How often Node looks for overdue requests (30 s by default, which would let a
      // short timeout run far past itself).
      connectionsCheckingInterval: Math.min(30_000, Math.ceil(options.requestReceiveTimeoutMs / 4)),
    },
    clientErrorHandler: edgeClientErrorHandler(options.onClientError),
    // No Nest middleware is applied anywhere (no NestModule.configure, no app.use): middie's
    // onRequest hook only passed every request on (~0.1 µs). Were one added, start-up fails
    // (Fastify has no `use` without middie: a TypeError), not silently without it.
    skipMiddie: true,
    // Honour a caller's request id so logs line up across systems.
    genReqId: (request: IncomingMessage) => {
      const given = request.headers['x-request-id'];
      return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
    },
  });
  const app = await NestFactory.create<NestFastifyApplication>(module, adapter, {
    logger: new NestLoggerService(nestLogger(options.logger)),
    abortOnError: false,
    // JSON bodies go to Fastify's own parser (registered by Fastify itself, same limits,
    // same errors): Nest's wraps it per request (a buffer read, a parser and three
    // closures made per call, runBodyParser), ~1.5 µs of the ~94 µs base path.
    bodyParser: false,
  });
  // Form bodies (the one other type Nest's parser takes) keep Nest's parser: a cold path.
  app.useBodyParser('application/x-www-form-urlencoded', { bodyLimit: options.maxBodyBytes });
  app.useGlobalFilters(options.filter);
  if (options.cors) app.enableCors(corsOptions(options.cors));
  app
    .getHttpAdapter()
    .getInstance()
    .addHook('preParsing', requestBodyDecoder(options.maxBodyBytes));
  return {
    listen: async (port, host) => {
      await app.listen(port, host);
      return Number(new URL(await app.getUrl()).port);
    },
    close: () => app.close(),
  };
}

/** Nest's start-up chatter (one line per mapped route) only when debugging. */
function nestLogger(logger: Logger): Logger {
  const child = logger.child({ component: 'nest' });
  if (!logger.isEnabled('debug')) child.level = 'warn';
  return child;
}
