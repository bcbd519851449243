import {
  DataPlaneError,
  DataPlaneErrorCode,
  routeMissingAtPeer,
  WIRE_JSON,
  WIRE_VERSION,
  WIRE_VERSION_HEADER,
} from '@aigw/contracts/data-plane';
import { HELD_OBJECT_WIRE_PATH, type HeldObjectWireReply } from './held-object-call';
import { decodePeerError, isRedirectStatus, type InternalToken } from './internal-auth';

/** Headroom over the backend's own timeout, so the far side reports a timeout rather than us. */
export const TIMEOUT_MARGIN_MS = 5_000;

/** How errors name the peer behind the held-object and Gemini file routes. */
export const PEER = 'files and batches peer';

/**
 * One peer's held-object routes as every route's client reaches them: the hop's version
 * and internal token on each request, the peer's errors back as the data-plane errors they
 * were, and the whole-call route (which the streamed routes fall back to for a peer from
 * before them). Only the backend's name crosses, never a key.
 */
export class HeldObjectPeer {
  constructor(
    readonly url: URL,
    /** AI_GATEWAY_INTERNAL_TOKEN, sent on every call when set. */
    private readonly token?: InternalToken,
  ) {}

  /** A request's headers on this hop: its content type, the wire version and the token. */
  headers(contentType: string): Record<string, string> {
    return {
      'content-type': contentType,
      [WIRE_VERSION_HEADER]: WIRE_VERSION,
      ...this.token?.headers(),
    };
  }

  /** One call's wire text POSTed to the peer's `path`. */
  postWire(path: string, text: string, signal: AbortSignal): Promise<Response> {
    return this.post(path, this.headers(WIRE_JSON), text, signal);
  }

  /**
   * A POST to the peer that never follows a redirect (fetch would, token and all, to
   * wherever it points): a 3xx is thrown as the data-plane error it is.
   */
  async post(
    path: string,
    headers: Record<string, string>,
    body: string | undefined,
    signal: AbortSignal,
  ): Promise<Response> {
    const response = await fetch(new URL(path, this.url), {
      method: 'POST',
      headers,
      ...(body === undefined ? {} : { body }),
      signal,
      redirect: 'manual',
    });
    if (isRedirectStatus(response.status)) {
      await response.body?.cancel();
      throw this.refusal(undefined, response.status);
    }
    return response;
  }

  /** A call sent whole on the held-object route, its reply read whole. */
  async call(text: string, timeoutMs: number): Promise<HeldObjectWireReply> {
    let response: Response;
    let parsed: unknown;
    try {
      response = await this.postWire(
        HELD_OBJECT_WIRE_PATH,
        text,
        AbortSignal.timeout(timeoutMs + TIMEOUT_MARGIN_MS),
      );
      parsed = await response.json();
    } catch (error) {
      throw this.unreachable(error);
    }
    if (!response.ok) {
      // The oldest held-object route: a peer without it runs an older release.
      throw routeMissingAtPeer(this.refusal(parsed, response.status), PEER);
    }
    return this.replyOf(response.status, parsed);
  }

  /** A peer's answer to a call: its wire reply, or the error it sent. */
  replyOf(status: number, parsed: unknown): HeldObjectWireReply {
    if (status < 200 || status > 299) throw this.refusal(parsed, status);
    const reply = parsed as Partial<HeldObjectWireReply> | null;
    if (
      typeof reply?.status !== 'number' ||
      typeof reply.contentType !== 'string' ||
      typeof reply.base64 !== 'string'
    ) {
      throw this.badReply();
    }
    return reply as HeldObjectWireReply;
  }

  /** The error a peer's non-2xx answer carries (its token refused named as such). */
  refusal(parsed: unknown, status: number): DataPlaneError {
    return decodePeerError(parsed, status, PEER);
  }

  badReply(): DataPlaneError {
    return new DataPlaneError(
      DataPlaneErrorCode.UpstreamBadResponse,
      'the files and batches peer answered with no valid reply',
    );
  }

  /** A failed call as the caller sees it: the peer's own refusal (a redirect) kept as it was. */
  unreachable(error: unknown): DataPlaneError {
    if (error instanceof DataPlaneError) return error;
    return new DataPlaneError(
      DataPlaneErrorCode.UpstreamError,
      `the files and batches peer at ${this.url.host} is unreachable`,
      { cause: error },
    );
  }
}
