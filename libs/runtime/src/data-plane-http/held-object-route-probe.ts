import type { FastifyRequest } from 'fastify';
import { DataPlaneError, DataPlaneErrorCode } from '@aigw/contracts/data-plane';
import type { HeldObjectPeer } from './held-object-peer';

/** Asks whether a peer has a route (one from before it answers an unknown URL). */
const HELD_PROBE_HEADER = 'x-aigw-held-probe';
const PROBE_TIMEOUT_MS = 5_000;
const PROBE_AGAIN_MS = 60_000;

/** An empty POST asking whether the route exists: its server answers at once (a 204). */
export const isRouteProbe = (request: FastifyRequest): boolean =>
  request.headers[HELD_PROBE_HEADER] === '1';

/**
 * Whether a peer has one of the held-object routes, asked again a minute on either way: a
 * peer without it may have been upgraded meanwhile, and one with it rolled back. A peer's
 * other errors (a refused token) are thrown, not taken for "no".
 */
export class PeerRouteProbe {
  private known?: { readonly takes: boolean; readonly until: number };

  constructor(
    private readonly peer: HeldObjectPeer,
    private readonly path: string,
    /** The route's own content type, so the probe passes where its calls would. */
    private readonly contentType: string,
  ) {}

  async takes(): Promise<boolean> {
    const known = this.known;
    if (known && Date.now() < known.until) return known.takes;
    let takes: boolean;
    try {
      const response = await this.peer.post(
        this.path,
        { ...this.peer.headers(this.contentType), [HELD_PROBE_HEADER]: '1' },
        undefined,
        AbortSignal.timeout(PROBE_TIMEOUT_MS),
      );
      takes = response.ok;
      const parsed: unknown = takes ? await response.arrayBuffer() : await response.json();
      if (!takes) {
        const error = this.peer.refusal(parsed, response.status);
        if (error.code !== DataPlaneErrorCode.UnknownUrl) throw error;
      }
    } catch (error) {
      if (error instanceof DataPlaneError) throw error;
      throw this.peer.unreachable(error);
    }
    this.known = { takes, until: Date.now() + PROBE_AGAIN_MS };
    return takes;
  }

  /**
   * Drops the kept answer when a call on the route found it gone (the peer rolled back
   * within the minute): the next call asks again instead of failing until the minute ends.
   */
  forget(): void {
    this.known = undefined;
  }
}
