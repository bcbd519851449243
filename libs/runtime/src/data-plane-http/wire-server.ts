import type { AddressInfo } from 'node:net';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import {
  DataPlaneError,
  DataPlaneErrorCode,
  WIRE_VERSION,
  WIRE_VERSION_HEADER,
  wireBodyBytes,
  wireVersionError,
} from '@aigw/contracts/data-plane';
import { closeDraining, closingKeepAlive } from '../closing-keep-alive';
import type { ServedApp } from '../service-runtime';
import { asDataPlaneError, writeWireError } from './answer-writer';
import {
  admitInternalCall,
  INTERNAL_TOKEN_HEADER,
  internalAuthRefusal,
  needsInternalAuth,
  type WireAuth,
} from './internal-auth';

/**
 * What a wire message may carry beyond the client's body: the request's envelope (caller,
 * forwarded headers, which Node caps at 16 KiB, target). The body itself is re-serialized,
 * which never makes it longer than the client sent it, but for an uploaded file's base64.
 */
const WIRE_ENVELOPE_BYTES = 1024 * 1024;

export interface WireServerOptions {
  /** The edge's body limit (AI_GATEWAY_MAX_BODY_BYTES): any body it took must pass here. */
  readonly maxBodyBytes: number;
  /** Reported for requests that failed unexpectedly (never for routine errors). */
  readonly onUnexpected?: (error: unknown) => void;
  /** AI_GATEWAY_INTERNAL_TOKEN: every route but the health probe refuses calls without it. */
  readonly auth?: WireAuth;
}

/**
 * An internal data-plane listener: Fastify without logging or request decoration,
 * plain JSON.parse (the edge already rejected prototype-poisoning bodies), and every
 * error answered in the wire format. Idle keep-alive sockets outlive the clients' own
 * keep-alive timeout, so a client never sends on a socket the server is closing.
 */
export function createWireServer(options: WireServerOptions): {
  fastify: FastifyInstance;
  served: ServedApp;
} {
  const answerError = (error: unknown, reply: FastifyReply) => {
    const mapped = wireErrorOf(error);
    if (mapped.code === DataPlaneErrorCode.Internal) options.onUnexpected?.(error);
    writeWireError(reply.raw, mapped);
  };
  const fastify = Fastify({
    logger: false,
    bodyLimit: wireBodyBytes(options.maxBodyBytes) + WIRE_ENVELOPE_BYTES,
    keepAliveTimeout: 65_000,
    // A call that comes on a pooled connection while this service drains (a peer reusing
    // it as its last answer ends) is served as the calls in flight are: Fastify's own 503
    // carries no wire version, which the peer would take for a version mismatch and fail the
    // call, on every rollout or scale-down. Its connection is then closed (Fastify marks it).
    return503OnClosing: false,
    // The router's refusals (a malformed %-escape, an over-long parameter), before any
    // hook: Fastify's own answer is not the wire format and quotes the URL.
    frameworkErrors: (error, _request, reply) => answerError(error, reply),
  });
  fastify.removeContentTypeParser(['application/json']);
  fastify.addContentTypeParser('application/json', { parseAs: 'string' }, (_req, body, done) => {
    try {
      done(null, JSON.parse(body as string));
    } catch {
      done(new DataPlaneError(DataPlaneErrorCode.InvalidRequest, 'the wire message is not JSON'));
    }
  });
  // Refused before the body is read: another version's body means something else.
  fastify.addHook('onRequest', (request, reply, done) => {
    const auth = options.auth;
    if (auth) {
      const path = request.url.split('?', 1)[0];
      const refused = needsInternalAuth(path)
        ? admitInternalCall(
            auth,
            request.headers[INTERNAL_TOKEN_HEADER],
            path,
            request.socket.remoteAddress,
          )
        : undefined;
      if (refused) {
        reply.hijack();
        return writeWireError(reply.raw, internalAuthRefusal(refused));
      }
    }
    const version = request.headers[WIRE_VERSION_HEADER];
    if (version === WIRE_VERSION) return done();
    reply.hijack();
    writeWireError(reply.raw, wireVersionError(version, 'the caller'));
  });
  fastify.setNotFoundHandler((request, reply) => {
    reply.hijack();
    writeWireError(
      reply.raw,
      new DataPlaneError(
        DataPlaneErrorCode.UnknownUrl,
        // The path alone: a query may carry what a caller should not see echoed or logged.
        `no wire route ${request.method} ${request.url.split('?')[0]}`,
      ),
    );
  });
  fastify.setErrorHandler((error: unknown, _request: FastifyRequest, reply: FastifyReply) => {
    reply.hijack();
    answerError(error, reply);
  });

  // Answers in flight when the close starts say Connection: close: peers open a new
  // connection (another replica) instead of sending on one about to be hung up.
  const endKeepAlive = closingKeepAlive(fastify.server);
  return {
    fastify,
    served: {
      listen: async (port, host) => {
        await fastify.listen({ port, host });
        return (fastify.server.address() as AddressInfo).port;
      },
      close: () => closeDraining(fastify.server, endKeepAlive, () => fastify.close()),
    },
  };
}

function wireErrorOf(error: unknown): DataPlaneError {
  if (error instanceof DataPlaneError) return error;
  const code = (error as { code?: unknown }).code;
  if (code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
    return new DataPlaneError(DataPlaneErrorCode.BodyTooLarge, 'the wire message is too large');
  }
  if (code === 'FST_ERR_BAD_URL' || code === 'FST_ERR_MAX_PARAM_LENGTH') {
    return new DataPlaneError(
      DataPlaneErrorCode.InvalidRequest,
      'the wire URL has a malformed %-escape or an over-long part',
    );
  }
  if (typeof code === 'string' && code.startsWith('FST_ERR_CTP')) {
    return new DataPlaneError(DataPlaneErrorCode.InvalidRequest, 'send the wire message as JSON');
  }
  return asDataPlaneError(error);
}

/** Cancels the work for a request once its caller hangs up before the answer ended. */
export function abortOnHangUp(reply: FastifyReply): AbortSignal {
  const abort = new AbortController();
  reply.raw.once('close', () => {
    if (!reply.raw.writableFinished) abort.abort(new Error('the caller disconnected'));
  });
  return abort.signal;
}
