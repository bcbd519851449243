import type { ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { DataPlaneError, DataPlaneErrorCode } from '@aigw/contracts/data-plane';
import { pulledBody, timedOut } from '@aigw/infra/http';
import { asDataPlaneError, writeWireError } from './answer-writer';
import {
  decodeHeldObjectCall,
  HELD_OBJECT_OPEN_WIRE_PATH,
  malformedHeldCall,
  type HeldObjectStreamReply,
  type HeldObjectWireCall,
} from './held-object-call';
import { TIMEOUT_MARGIN_MS, type HeldObjectPeer } from './held-object-peer';

/**
 * The open route (HELD_OBJECT_OPEN_WIRE_PATH), a file's content streamed back raw: its
 * client, and the route that serves it on the router (relayed) and the adapter (read).
 */
const HELD_STATUS_HEADER = 'x-aigw-held-status';
const HELD_CONTENT_TYPE_HEADER = 'x-aigw-held-content-type';

/** A call opened to stream (a file's content): only a GET, with no body. */
export function decodeHeldObjectOpen(body: unknown): HeldObjectWireCall {
  const call = decodeHeldObjectCall(body);
  if (call.method !== 'GET') throw malformedHeldCall('method (only GET streams)');
  if (call.base64 !== undefined || call.contentType !== undefined) throw malformedHeldCall('body');
  return call;
}

/**
 * Opens a call (its wire text) on the peer's open route: the body as the peer sends it,
 * with backpressure; destroying it cuts the hop, which aborts the backend's read. The
 * timeout bounds the wait for the answer's start and then each wait for more bytes.
 */
export async function openHeldStream(
  peer: HeldObjectPeer,
  text: string,
  timeoutMs: number,
): Promise<HeldObjectStreamReply> {
  const controller = new AbortController();
  const waitMs = timeoutMs + TIMEOUT_MARGIN_MS;
  const timer = setTimeout(() => controller.abort(timedOut()), waitMs);
  let response: Response;
  let parsed: unknown;
  try {
    response = await peer.postWire(HELD_OBJECT_OPEN_WIRE_PATH, text, controller.signal);
    if (!response.ok) parsed = await response.json();
  } catch (error) {
    throw peer.unreachable(error);
  } finally {
    clearTimeout(timer);
  }
  if (!response.ok) throw peer.refusal(parsed, response.status);
  const status = Number(response.headers.get(HELD_STATUS_HEADER));
  const contentType = response.headers.get(HELD_CONTENT_TYPE_HEADER);
  if (!Number.isInteger(status) || status < 200 || status > 299 || contentType === null) {
    controller.abort();
    throw peer.badReply();
  }
  return { status, contentType, body: hopBody(response.body, controller, waitMs, peer.url.host) };
}

/** A hop's streamed body: a hop cut mid-way fails it, so a truncated file never looks whole. */
function hopBody(
  stream: ReadableStream<Uint8Array> | null,
  controller: AbortController,
  idleMs: number,
  host: string,
): Readable {
  if (!stream) return Readable.from([], { objectMode: false });
  return pulledBody(
    stream,
    controller,
    idleMs,
    (error) =>
      new DataPlaneError(
        DataPlaneErrorCode.UpstreamError,
        `the files and batches peer at ${host} cut the file's stream`,
        { cause: error },
      ),
  );
}

/** Told of a stream that failed after its first bytes: only its cut connection tells the caller. */
export type HeldStreamCut = (error: unknown) => void;

/**
 * Serves the open route on a hop: `open` gives the stream (the adapter's, relayed, or the
 * backend's), passed on as it comes and never held whole here.
 */
export function registerHeldOpenRoute(
  fastify: FastifyInstance,
  open: (call: HeldObjectWireCall) => Promise<HeldObjectStreamReply>,
  onCut?: HeldStreamCut,
): void {
  fastify.post(HELD_OBJECT_OPEN_WIRE_PATH, async (request, reply) => {
    reply.hijack();
    try {
      const answer = await open(decodeHeldObjectOpen(request.body));
      sendHeldStream(answer, reply.raw, onCut);
    } catch (error) {
      writeWireError(reply.raw, asDataPlaneError(error));
    }
  });
}

/**
 * Sends a streamed answer on a hop: the headers once its first bytes (or its end) came,
 * so an error before them is still a wire error answer; after them, the connection is
 * cut. The body pauses while the socket's buffer is full; the caller gone, it is
 * destroyed (which aborts the read behind it).
 */
function sendHeldStream(
  answer: HeldObjectStreamReply,
  response: ServerResponse,
  onCut?: HeldStreamCut,
): void {
  const { body } = answer;
  if (response.destroyed) {
    body.destroy();
    return;
  }
  let started = false;
  const start = () => {
    if (started) return;
    started = true;
    response.writeHead(200, {
      'content-type': 'application/octet-stream',
      [HELD_STATUS_HEADER]: String(answer.status),
      [HELD_CONTENT_TYPE_HEADER]: answer.contentType,
    });
  };
  body.on('data', (chunk: Buffer) => {
    start();
    if (!response.write(chunk)) body.pause();
  });
  response.on('drain', () => body.resume());
  body.once('end', () => {
    start();
    response.end();
  });
  body.once('error', (error) => {
    if (started) {
      response.destroy();
      onCut?.(error);
    } else {
      writeWireError(response, asDataPlaneError(error));
    }
  });
  response.once('close', () => {
    if (!response.writableFinished) body.destroy();
  });
}
