import { Readable } from 'node:stream';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import {
  DataPlaneError,
  DataPlaneErrorCode,
  WIRE_JSON,
  wireBodyBytes,
} from '@aigw/contracts/data-plane';
import { answerWireError } from './answer-writer';
import {
  decodedReply,
  decodeHeldObjectCall,
  heldCallBackend,
  HELD_OBJECT_UPLOAD_WIRE_PATH,
  malformedHeldCall,
  type HeldObjectAnswer,
  type HeldObjectBackendRef,
  type HeldObjectWireCall,
  type HeldObjectWireReply,
  type HeldUploadBody,
} from './held-object-call';
import type { HeldObjectPeer } from './held-object-peer';
import { isRouteProbe, PeerRouteProbe } from './held-object-route-probe';
import { acceptStreamedBody, limitedBody, postStreamed } from './streamed-wire-call';

/**
 * The upload route (HELD_OBJECT_UPLOAD_WIRE_PATH), a file's bytes streamed to the backend
 * as they are made: its client (which sends a peer from before the route the body whole,
 * as base64, on the held-object route), and the route as the router (relaying) and the
 * adapter (uploading) serve it.
 */
/** The upload's call (a HeldObjectWireCall without base64), as base64url JSON. */
const HELD_CALL_HEADER = 'x-aigw-held-call';
const HELD_UPLOAD_TYPE = 'application/x-aigw-held-upload';

/** An upload's call from its header: only a POST to `/files`, its bytes the HTTP body. */
export function decodeHeldObjectUpload(header: unknown): HeldObjectWireCall {
  let parsed: unknown;
  try {
    if (typeof header !== 'string') throw new Error('no header');
    parsed = JSON.parse(Buffer.from(header, 'base64url').toString('utf8'));
  } catch {
    throw malformedHeldCall('upload call header');
  }
  const call = decodeHeldObjectCall(parsed);
  if (call.method !== 'POST' || call.path !== '/files') throw malformedHeldCall('upload path');
  if (call.base64 !== undefined || call.contentType === undefined) throw malformedHeldCall('body');
  return call;
}

/** The client's part: each hop holds a chunk of the upload at a time. */
export class HeldUploadClient {
  private readonly route: PeerRouteProbe;

  constructor(private readonly peer: HeldObjectPeer) {
    this.route = new PeerRouteProbe(peer, HELD_OBJECT_UPLOAD_WIRE_PATH, HELD_UPLOAD_TYPE);
  }

  /** A POST streamed across the hops as its body is made (a file upload). */
  async upload(
    backend: HeldObjectBackendRef,
    path: string,
    body: HeldUploadBody,
  ): Promise<HeldObjectAnswer> {
    const call: HeldObjectWireCall = {
      ...heldCallBackend(backend),
      method: 'POST',
      path,
      contentType: body.contentType,
    };
    return decodedReply(await this.relay(call, body.data, backend.requestTimeoutMs));
  }

  /** Relays an upload as it comes (the router's hop), or whole to a peer without the route. */
  async relay(
    call: HeldObjectWireCall,
    data: AsyncIterable<Uint8Array>,
    timeoutMs: number,
  ): Promise<HeldObjectWireReply> {
    if (!(await this.route.takes())) {
      const base64 = (await gathered(data)).toString('base64');
      return this.peer.call(JSON.stringify({ ...call, base64 }), timeoutMs);
    }
    const { status, parsed } = await postStreamed(
      this.peer,
      {
        path: HELD_OBJECT_UPLOAD_WIRE_PATH,
        contentType: HELD_UPLOAD_TYPE,
        header: HELD_CALL_HEADER,
        call,
      },
      data,
      timeoutMs,
    );
    try {
      return this.peer.replyOf(status, parsed);
    } catch (error) {
      // This upload's body is spent and cannot go again; the next one asks the peer first.
      if (error instanceof DataPlaneError && error.code === DataPlaneErrorCode.UnknownUrl) {
        this.route.forget();
      }
      throw error;
    }
  }
}

async function gathered(data: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const parts: Uint8Array[] = [];
  for await (const part of data) parts.push(part);
  return Buffer.concat(parts);
}

/**
 * What a hop takes of an upload for the edge's file limit (AI_GATEWAY_MAX_FILE_BYTES): the
 * form the ingress sends on is the client's with each line's model renamed, which may be
 * longer, so a third over it (what the JSON wire allows for an upload's base64) and 1 MiB
 * of framing. Not the wire body limit: an upload streams, and may be far larger.
 */
export function heldUploadBytes(maxFileBytes: number): number {
  return wireBodyBytes(maxFileBytes) + 1024 * 1024;
}

/**
 * Serves the upload route on a hop: `upload` takes the call and its bytes as they arrive
 * (the router's relay to the adapter, the adapter's to the backend), never held whole
 * here; a cut body aborts that call. The body takes up to `maxUploadBytes`
 * (heldUploadBytes of AI_GATEWAY_MAX_FILE_BYTES), else the wire body limit.
 */
export function registerHeldUploadRoute(
  fastify: FastifyInstance,
  upload: (
    call: HeldObjectWireCall,
    data: AsyncIterable<Uint8Array>,
  ) => Promise<HeldObjectWireReply>,
  maxUploadBytes?: number,
): void {
  const uploadMax = maxUploadBytes ?? fastify.initialConfig.bodyLimit ?? Infinity;
  acceptStreamedBody(fastify, HELD_UPLOAD_TYPE);
  fastify.post(HELD_OBJECT_UPLOAD_WIRE_PATH, async (request, reply) => {
    if (isRouteProbe(request)) return reply.code(204).send();
    try {
      const call = decodeHeldObjectUpload(request.headers[HELD_CALL_HEADER]);
      const answer = await upload(call, uploadBody(request, uploadMax));
      return reply.header('content-type', WIRE_JSON).send(JSON.stringify(answer));
    } catch (error) {
      answerWireError(reply, error);
    }
  });
}

function uploadBody(request: FastifyRequest, maxBytes: number): AsyncIterable<Uint8Array> {
  // No body (no parser ran): an empty upload, which the backend refuses itself.
  const body = (request.body as Readable | undefined) ?? Readable.from([]);
  // At most heldUploadBytes: the edge held the client to its own limit.
  return limitedBody(body, maxBytes);
}
