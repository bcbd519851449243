import { Readable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { request as undiciRequest } from 'undici';
import { DataPlaneError, DataPlaneErrorCode } from '@aigw/contracts/data-plane';
import { timedOut } from '@aigw/infra/http';
import { TIMEOUT_MARGIN_MS, type HeldObjectPeer } from './held-object-peer';
import { isRedirectStatus } from './internal-auth';

// What the streamed wire routes (a held-object upload, a Gemini upload's step) share: the
// call in a header, its bytes the HTTP body as they are made, never held whole on a hop.

/** A streamed route's call as one of its headers carries it. */
export interface StreamedCall {
  readonly path: string;
  readonly contentType: string;
  readonly header: string;
  readonly call: object;
}

/**
 * Sends `data` as the body of a POST to the peer's streamed route; the wait for the answer
 * is armed once the whole body is sent (the body's pace is its maker's). Returns the
 * peer's status and parsed JSON answer; a redirect or a failed call is thrown as the
 * data-plane error it is.
 */
export async function postStreamed(
  peer: HeldObjectPeer,
  streamed: StreamedCall,
  data: AsyncIterable<Uint8Array>,
  timeoutMs: number,
): Promise<{ status: number; parsed: unknown }> {
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  async function* sent(): AsyncGenerator<Uint8Array> {
    yield* data;
    timer = setTimeout(() => controller.abort(timedOut()), timeoutMs + TIMEOUT_MARGIN_MS);
  }
  try {
    const response = await undiciRequest(new URL(streamed.path, peer.url), {
      method: 'POST',
      headers: {
        ...peer.headers(streamed.contentType),
        [streamed.header]: Buffer.from(JSON.stringify(streamed.call), 'utf8').toString('base64url'),
      },
      body: Readable.from(sent(), { objectMode: false }),
      signal: controller.signal,
      headersTimeout: 0,
      bodyTimeout: timeoutMs + TIMEOUT_MARGIN_MS,
    });
    const status = response.statusCode;
    // undici.request follows no redirect; a 3xx is refused before its body is read.
    if (isRedirectStatus(status)) {
      await response.body.dump();
      throw peer.refusal(undefined, status);
    }
    return { status, parsed: await response.body.json() };
  } catch (error) {
    throw peer.unreachable(error);
  } finally {
    clearTimeout(timer);
  }
}

/** A streamed route's body is read by its handler as it arrives: no parser holds it. */
export function acceptStreamedBody(fastify: FastifyInstance, contentType: string): void {
  if (fastify.hasContentTypeParser(contentType)) return;
  fastify.addContentTypeParser(contentType, (_request, payload, done) => done(null, payload));
}

/** A streamed body as a hop reads it: at most `max` bytes, else a 413. */
export async function* limitedBody(
  body: AsyncIterable<unknown>,
  max: number,
): AsyncGenerator<Uint8Array> {
  let received = 0;
  for await (const chunk of body) {
    const bytes = chunk as Uint8Array;
    received += bytes.length;
    if (received > max) {
      throw new DataPlaneError(DataPlaneErrorCode.BodyTooLarge, 'the wire message is too large');
    }
    yield bytes;
  }
}
