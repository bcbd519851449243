import type { FastifyInstance } from 'fastify';
import {
  DataPlaneError,
  DataPlaneErrorCode,
  WIRE_JSON,
  WIRE_VERSION,
  WIRE_VERSION_HEADER,
  type UpstreamTarget,
} from '@aigw/contracts/data-plane';
import { asDataPlaneError, writeWireError } from './answer-writer';
import { decodePeerError, type InternalToken } from './internal-auth';

/**
 * The Files and Batch APIs' calls across the split deployment: the ingress (which keeps
 * ids, owners and billing) asks the router, which relays to the provider-adapter, which
 * alone holds the backend's key and makes the call. A file's bytes travel as base64, as
 * an audio or image upload's do.
 */
export const HELD_OBJECT_WIRE_PATH = '/wire/held-object';

type Method = 'GET' | 'POST' | 'DELETE';

/** One backend call as it crosses the hops: which backend, and the request. */
export interface HeldObjectWireCall {
  readonly backendName: string;
  readonly provider: string;
  readonly method: Method;
  /** A Files or Batch API path: `/files`, `/files/{id}/content`, `/batches/{id}/cancel`. */
  readonly path: string;
  readonly contentType?: string;
  readonly base64?: string;
}

/** The backend's 2xx answer as it crosses back. */
interface HeldObjectWireReply {
  readonly status: number;
  readonly contentType: string;
  readonly base64: string;
}

const METHODS: ReadonlySet<string> = new Set(['GET', 'POST', 'DELETE']);
/** Only the Files and Batch APIs' own paths, no dot segments: a peer reaches nothing else of a backend. */
const PATH = /^\/(files|batches)(\/[A-Za-z0-9_-]{1,256}){0,2}$/;

function malformed(what: string): DataPlaneError {
  return new DataPlaneError(
    DataPlaneErrorCode.InvalidRequest,
    `the held-object wire message has no valid ${what}`,
  );
}

/** Reads a call, refusing any other method or path. */
export function decodeHeldObjectCall(body: unknown): HeldObjectWireCall {
  const call = body as Partial<Record<keyof HeldObjectWireCall, unknown>> | null;
  if (typeof call !== 'object' || call === null) throw malformed('body');
  const { backendName, provider, method, path, contentType, base64 } = call;
  if (typeof backendName !== 'string' || backendName === '') throw malformed('backendName');
  if (typeof provider !== 'string' || provider === '') throw malformed('provider');
  if (typeof method !== 'string' || !METHODS.has(method)) throw malformed('method');
  if (typeof path !== 'string' || !PATH.test(path)) throw malformed('path');
  if (contentType !== undefined && typeof contentType !== 'string') throw malformed('contentType');
  if (base64 !== undefined && typeof base64 !== 'string') throw malformed('base64');
  return { backendName, provider, method: method as Method, path, contentType, base64 };
}

/** What the ingress's FilesAndBatches and the adapter's HeldObjectUpstream share. */
interface HeldObjectSender {
  send(
    backend: {
      readonly backendName: string;
      readonly provider: string;
      readonly baseUrl?: string;
      readonly credential?: UpstreamTarget['credential'];
      readonly requestTimeoutMs: number;
    },
    method: Method,
    path: string,
    body?: { readonly contentType: string; readonly data: Buffer },
  ): Promise<{ readonly status: number; readonly contentType: string; readonly body: Buffer }>;
}

/** Headroom over the backend's own timeout, so the far side reports a timeout rather than us. */
const TIMEOUT_MARGIN_MS = 5_000;

/**
 * The ingress's (or router's) way to a peer's held-object route: only the backend's name
 * crosses, never a key; the peer's errors come back as the data-plane errors they were.
 */
export class HttpHeldObjectClient implements HeldObjectSender {
  constructor(
    private readonly url: URL,
    /** AI_GATEWAY_INTERNAL_TOKEN, sent on every call when set. */
    private readonly token?: InternalToken,
  ) {}

  async send(
    backend: Parameters<HeldObjectSender['send']>[0],
    method: Method,
    path: string,
    body?: { readonly contentType: string; readonly data: Buffer },
  ): Promise<{ status: number; contentType: string; body: Buffer }> {
    const call: HeldObjectWireCall = {
      backendName: backend.backendName,
      provider: backend.provider,
      method,
      path,
      ...(body ? { contentType: body.contentType, base64: body.data.toString('base64') } : {}),
    };
    const reply = await this.post(JSON.stringify(call), backend.requestTimeoutMs);
    return {
      status: reply.status,
      contentType: reply.contentType,
      body: Buffer.from(reply.base64, 'base64'),
    };
  }

  /** Relays a call as it came (the router's hop). */
  async relay(text: string, timeoutMs: number): Promise<HeldObjectWireReply> {
    return this.post(text, timeoutMs);
  }

  private async post(text: string, timeoutMs: number): Promise<HeldObjectWireReply> {
    let response: Response;
    let parsed: unknown;
    try {
      response = await fetch(new URL(HELD_OBJECT_WIRE_PATH, this.url), {
        method: 'POST',
        headers: {
          'content-type': WIRE_JSON,
          [WIRE_VERSION_HEADER]: WIRE_VERSION,
          ...this.token?.headers(),
        },
        body: text,
        signal: AbortSignal.timeout(timeoutMs + TIMEOUT_MARGIN_MS),
      });
      parsed = await response.json();
    } catch (error) {
      throw new DataPlaneError(
        DataPlaneErrorCode.UpstreamError,
        `the files and batches peer at ${this.url.host} is unreachable`,
        { cause: error },
      );
    }
    if (!response.ok) throw decodePeerError(parsed, response.status, 'files and batches peer');
    const reply = parsed as Partial<HeldObjectWireReply> | null;
    if (
      typeof reply?.status !== 'number' ||
      typeof reply.contentType !== 'string' ||
      typeof reply.base64 !== 'string'
    ) {
      throw new DataPlaneError(
        DataPlaneErrorCode.UpstreamBadResponse,
        'the files and batches peer answered with no valid reply',
      );
    }
    return reply as HeldObjectWireReply;
  }
}

/** The timeout a router allows a relayed call: the configured backend's, if it has it. */
export type RelayTimeout = (backendName: string) => number | undefined;

/** The router's hop: checks the call and relays it to the provider-adapter. */
export function registerHeldObjectRelay(
  fastify: FastifyInstance,
  adapter: HttpHeldObjectClient,
  timeoutOf: RelayTimeout,
): void {
  fastify.post(HELD_OBJECT_WIRE_PATH, async (request, reply) => {
    try {
      const call = decodeHeldObjectCall(request.body);
      const timeoutMs = timeoutOf(call.backendName);
      if (timeoutMs === undefined) {
        throw new DataPlaneError(
          DataPlaneErrorCode.NoBackendAvailable,
          `the router's configuration has no backend "${call.backendName}"`,
        );
      }
      const answer = await adapter.relay(JSON.stringify(call), timeoutMs);
      void reply.header('content-type', WIRE_JSON).send(JSON.stringify(answer));
    } catch (error) {
      reply.hijack();
      writeWireError(reply.raw, asDataPlaneError(error));
    }
  });
}

/**
 * The provider-adapter's end: the backend's full target (with its key) from this
 * service's own configuration, and the call made.
 */
export function registerHeldObjectServer(
  fastify: FastifyInstance,
  resolveTarget: (call: HeldObjectWireCall) => UpstreamTarget,
  upstream: HeldObjectSender,
): void {
  fastify.post(HELD_OBJECT_WIRE_PATH, async (request, reply) => {
    try {
      const call = decodeHeldObjectCall(request.body);
      const target = resolveTarget(call);
      const answer = await upstream.send(
        target,
        call.method,
        call.path,
        call.base64 === undefined
          ? undefined
          : {
              contentType: call.contentType ?? 'application/octet-stream',
              data: Buffer.from(call.base64, 'base64'),
            },
      );
      const sent: HeldObjectWireReply = {
        status: answer.status,
        contentType: answer.contentType,
        base64: answer.body.toString('base64'),
      };
      void reply.header('content-type', WIRE_JSON).send(JSON.stringify(sent));
    } catch (error) {
      reply.hijack();
      writeWireError(reply.raw, asDataPlaneError(error));
    }
  });
}
