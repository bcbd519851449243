import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { DynamicModule, ExceptionFilter } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ExecutionContextHost } from '@nestjs/core/helpers/execution-context-host';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { NestLoggerService, type Logger } from '@aigw/observability';
import { closeDraining, closingKeepAlive } from './closing-keep-alive';
import { corsOptions, type CorsOrigins } from './cors-origins';
import {
  edgeClientErrorHandler,
  refuseConnectRequests,
  type ClientErrorReason,
} from './edge-client-errors';
import { readEmptyJsonAsNoBody } from './empty-json-body';
import {
  corsUnlessRefused,
  edgeRefusalHook,
  holdContinues,
  passUnmetExpectations,
} from './edge-refusals';
import { originFormTarget } from './origin-form';
import { requestBodyDecoder } from './request-body-decoding';
import { webSocketUpgradesOnly } from './upgrade-offers';
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
  // Told the server's listeners once Nest has made the app, before any request comes.
  const upgradeListeners = { count: (): number => 0 };
  const adapter = new FastifyAdapter({
    bodyLimit: options.maxBodyBytes,
    requestTimeout: options.requestReceiveTimeoutMs,
    http: {
      // Node ignores requestTimeout while headersTimeout (60 s by default) is longer.
      headersTimeout: Math.min(60_000, options.requestReceiveTimeoutMs),
      // How often Node looks for overdue requests (30 s by default, which would let a
      // short timeout run far past itself).
      connectionsCheckingInterval: Math.min(30_000, Math.ceil(options.requestReceiveTimeoutMs / 4)),
      // A header sent twice is seen twice (joined by commas), `Authorization` too: Node keeps
      // only the first of some, and a proxy in front may read the last.
      joinDuplicateHeaders: true,
      // An `Upgrade: h2c` offer is served as HTTP/1.1, not taken for a WebSocket.
      shouldUpgradeCallback: webSocketUpgradesOnly(() => upgradeListeners.count()),
      // An HTTP/1.1 request without Host reaches the app, to be refused there in the API's
      // shape (edgeRefusalHook): Node's own refusal is an empty 400 counted nowhere.
      requireHostHeader: false,
    },
    clientErrorHandler: edgeClientErrorHandler(options.onClientError),
    // `POST http://host/v1/…` (absolute form) is read as its path everywhere, not routing only.
    rewriteUrl: originFormTarget,
    // A call that comes on an open connection while the app closes (a client reusing it as
    // its last answer ends) is served as the calls in flight are, and its connection then
    // closed (Fastify marks it so): Fastify's own 503 has its own body, not the API's shape,
    // and is neither counted nor logged. New connections are refused once closing starts.
    return503OnClosing: false,
    frameworkErrors: frameworkErrorsTo(options.filter),
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
  const httpServer = app.getHttpServer();
  upgradeListeners.count = () => httpServer.listenerCount('upgrade');
  passUnmetExpectations(httpServer);
  holdContinues(httpServer);
  refuseConnectRequests(httpServer, options.onClientError);
  // Form bodies (the one other type Nest's parser takes) keep Nest's parser: a cold path.
  app.useBodyParser('application/x-www-form-urlencoded', { bodyLimit: options.maxBodyBytes });
  app.useGlobalFilters(options.filter);
  if (options.cors) app.enableCors(corsUnlessRefused(corsOptions(options.cors)));
  const fastify = app.getHttpAdapter().getInstance();
  // First of this app's hooks, what it refuses reaching none of them; Nest's adapter runs
  // its own first (the CORS one, which offers no CORS to what this refuses).
  fastify.addHook(
    'onRequest',
    edgeRefusalHook(options.filter, options.maxBodyBytes, options.onClientError),
  );
  fastify.addHook('preParsing', requestBodyDecoder(options.maxBodyBytes));
  readEmptyJsonAsNoBody(fastify);
  const endKeepAlive = closingKeepAlive(app.getHttpServer());
  return {
    listen: async (port, host) => {
      await app.listen(port, host);
      return Number(new URL(await app.getUrl()).port);
    },
    close: () => closeDraining(app.getHttpServer(), endKeepAlive, () => app.close()),
  };
}

/**
 * The router's refusals, made before any route, hook or Nest handler runs: a URL it cannot
 * decode (a malformed %-escape), a route parameter past its length, a failed async
 * constraint. Nest's default sends them to Fastify's first error handler, whose body is
 * Fastify's own shape and echoes the URL (which may carry a pasted key); the filter
 * answers them in the shape of the API the path belongs to, and counts them. (Nest's
 * default also ran its security-headers hook: no app here sets one.)
 */
export function frameworkErrorsTo(filter: ExceptionFilter) {
  return (error: FastifyError, request: FastifyRequest, reply: FastifyReply): void => {
    filter.catch(error, new ExecutionContextHost([request, reply]));
  };
}

/** Nest's start-up chatter (one line per mapped route) only when debugging. */
function nestLogger(logger: Logger): Logger {
  const child = logger.child({ component: 'nest' });
  if (!logger.isEnabled('debug')) child.level = 'warn';
  return child;
}
