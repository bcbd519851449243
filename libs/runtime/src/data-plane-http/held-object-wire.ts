import { Readable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import {
  DataPlaneError,
  DataPlaneErrorCode,
  WIRE_JSON,
  type HeldCallHeaders,
  type UpstreamTarget,
} from '@aigw/contracts/data-plane';
import { answerWireError } from './answer-writer';
import {
  decodedReply,
  decodeHeldObjectCall,
  encodedReply,
  heldCallBackend,
  HELD_OBJECT_WIRE_PATH,
  relayTimeoutFor,
  type HeldObjectAnswer,
  type HeldObjectBackendRef,
  type HeldObjectMethod,
  type HeldObjectSender,
  type HeldObjectStreamReply,
  type HeldObjectWireCall,
  type HeldObjectWireReply,
  type HeldUploadBody,
  type RelayTimeout,
} from './held-object-call';
import { openHeldStream, registerHeldOpenRoute, type HeldStreamCut } from './held-object-open';
import { HeldObjectPeer } from './held-object-peer';
import { HeldUploadClient, registerHeldUploadRoute } from './held-object-upload';
import type { InternalToken } from './internal-auth';

/**
 * The held-object wire as a whole: the client of a peer's three routes (whole calls here,
 * opens and uploads from their own modules), and the router's and adapter's sides of them.
 */

/**
 * The ingress's (or router's) way to a peer's held-object routes: only the backend's name
 * crosses, never a key; the peer's errors come back as the data-plane errors they were.
 */
export class HttpHeldObjectClient implements HeldObjectSender {
  private readonly peer: HeldObjectPeer;
  private readonly uploads: HeldUploadClient;

  constructor(
    url: URL,
    /** AI_GATEWAY_INTERNAL_TOKEN, sent on every call when set. */
    token?: InternalToken,
  ) {
    this.peer = new HeldObjectPeer(url, token);
    this.uploads = new HeldUploadClient(this.peer);
  }

  async send(
    backend: HeldObjectBackendRef,
    method: HeldObjectMethod,
    path: string,
    body?: { readonly contentType: string; readonly data: Buffer },
    headers?: HeldCallHeaders,
  ): Promise<HeldObjectAnswer> {
    const call: HeldObjectWireCall = {
      ...heldCallBackend(backend),
      method,
      path,
      ...(body ? { contentType: body.contentType, base64: body.data.toString('base64') } : {}),
      ...(headers === undefined ? {} : { headers }),
    };
    return decodedReply(await this.peer.call(JSON.stringify(call), backend.requestTimeoutMs));
  }

  /**
   * A GET streamed across the hops (a file's content), as openCall streams it; a peer
   * from before the open route (a rolling upgrade) answers on its buffered route.
   */
  async open(backend: HeldObjectBackendRef, path: string): Promise<HeldObjectStreamReply> {
    const call: HeldObjectWireCall = {
      ...heldCallBackend(backend),
      method: 'GET',
      path,
    };
    try {
      return await this.openCall(JSON.stringify(call), backend.requestTimeoutMs);
    } catch (error) {
      if (!(error instanceof DataPlaneError) || error.code !== DataPlaneErrorCode.UnknownUrl) {
        throw error;
      }
      const answer = await this.send(backend, 'GET', path);
      return { ...answer, body: Readable.from([answer.body], { objectMode: false }) };
    }
  }

  /**
   * A POST streamed across the hops as its body is made (a file upload): each hop holds
   * a chunk at a time. A peer from before this route (a rolling upgrade) gets the body
   * gathered and sent whole, as base64, on the whole-call route.
   */
  upload(backend: HeldObjectBackendRef, path: string, body: HeldUploadBody) {
    return this.uploads.upload(backend, path, body);
  }

  /** Relays a call as it came (the router's hop). */
  relay(text: string, timeoutMs: number): Promise<HeldObjectWireReply> {
    return this.peer.call(text, timeoutMs);
  }

  /** Opens a call as it came (the router's hop relays it so). */
  openCall(text: string, timeoutMs: number): Promise<HeldObjectStreamReply> {
    return openHeldStream(this.peer, text, timeoutMs);
  }

  /** Relays an upload as it comes (the router's hop), or whole to a peer without the route. */
  relayUpload(
    call: HeldObjectWireCall,
    data: AsyncIterable<Uint8Array>,
    timeoutMs: number,
  ): Promise<HeldObjectWireReply> {
    return this.uploads.relay(call, data, timeoutMs);
  }
}

/** Serves the whole-call route on a hop: `answer` gives the reply (relayed, or the backend's). */
function registerHeldCallRoute(
  fastify: FastifyInstance,
  answer: (call: HeldObjectWireCall) => Promise<HeldObjectWireReply>,
): void {
  fastify.post(HELD_OBJECT_WIRE_PATH, async (request, reply) => {
    try {
      const replied = await answer(decodeHeldObjectCall(request.body));
      void reply.header('content-type', WIRE_JSON).send(JSON.stringify(replied));
    } catch (error) {
      answerWireError(reply, error);
    }
  });
}

/**
 * The router's hop: checks the call and relays it to the provider-adapter. An upload takes
 * up to `maxUploadBytes` (heldUploadBytes of AI_GATEWAY_MAX_FILE_BYTES), else the wire
 * body limit.
 */
export function registerHeldObjectRelay(
  fastify: FastifyInstance,
  adapter: HttpHeldObjectClient,
  timeoutOf: RelayTimeout,
  onCut?: HeldStreamCut,
  maxUploadBytes?: number,
): void {
  const timeoutFor = relayTimeoutFor(timeoutOf);
  registerHeldCallRoute(fastify, (call) => adapter.relay(JSON.stringify(call), timeoutFor(call)));
  registerHeldOpenRoute(
    fastify,
    (call) => adapter.openCall(JSON.stringify(call), timeoutFor(call)),
    onCut,
  );
  registerHeldUploadRoute(
    fastify,
    (call, data) => adapter.relayUpload(call, data, timeoutFor(call)),
    maxUploadBytes,
  );
}

/**
 * The provider-adapter's end: the backend's full target (with its key) from this
 * service's own configuration, and the call made. An upload takes up to `maxUploadBytes`
 * (heldUploadBytes of AI_GATEWAY_MAX_FILE_BYTES), else the wire body limit; an upstream
 * that cannot stream uploads has no upload route, so its clients send them whole.
 */
export function registerHeldObjectServer(
  fastify: FastifyInstance,
  resolveTarget: (call: HeldObjectWireCall) => UpstreamTarget,
  upstream: HeldObjectSender,
  onCut?: HeldStreamCut,
  maxUploadBytes?: number,
): void {
  registerHeldCallRoute(fastify, async (call) => {
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
      call.headers,
    );
    return encodedReply(answer);
  });
  registerHeldOpenRoute(fastify, (call) => upstream.open(resolveTarget(call), call.path), onCut);
  if (!upstream.upload) return;
  registerHeldUploadRoute(
    fastify,
    async (call, data) =>
      encodedReply(
        await upstream.upload!(resolveTarget(call), call.path, {
          contentType: call.contentType!,
          data,
        }),
      ),
    maxUploadBytes,
  );
}
