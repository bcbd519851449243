import {
  DataPlaneError,
  DataPlaneErrorCode,
  type GatewayRequest,
} from '@aigw/contracts/data-plane';
import {
  isAuthenticated,
  isUnresolved,
  type ChainLink,
  type UnresolvedLink,
} from './backend-chain';

// A call naming a file one backend holds (a Gemini file uploaded through the gateway) can
// be served by that backend alone: no other has the file. The edge marks each such file
// part with its holder (`held_by`, written only by the gateway once the caller is known)
// and narrows the call to `fallback: false`; the router then calls the holder itself,
// whatever load balancing, a cooldown or an operator's drain would have chosen: a drained
// backend is still the last resort (README "Backends"), and for this file it is the only one.

/** The backend a request's held files are at. */
export interface HeldFilePin {
  readonly route?: string;
  readonly backend: string;
}

type Json = Record<string, unknown>;

const isObject = (value: unknown): value is Json =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * The backend holding the files a request names, or undefined when it names none. Read
 * only for calls narrowed to `fallback: false` (the edge narrows every call naming a held
 * file), so other calls' bodies are never walked. Files of two holders are refused: no
 * one backend can serve them (the edge refuses them before; this is the router's guard).
 */
export function heldFilePin(request: GatewayRequest): HeldFilePin | undefined {
  if (request.overrides?.fallback !== false) return undefined;
  const messages = request.body.messages;
  if (!Array.isArray(messages)) return undefined;
  let pin: HeldFilePin | undefined;
  for (const message of messages) {
    if (!isObject(message) || !Array.isArray(message.content)) continue;
    for (const part of message.content) {
      const holder = holderOf(part);
      if (!holder) continue;
      if (pin && (pin.backend !== holder.backend || pin.route !== holder.route)) {
        throw new DataPlaneError(
          DataPlaneErrorCode.InvalidRequest,
          'The files this request names are held by different backends; no one backend can read them all: name files uploaded for the same model',
        );
      }
      pin = holder;
    }
  }
  return pin;
}

/**
 * The holder of a part the edge made for a held file: its backend URI (`file_id`) beside
 * `held_by`, as the adapters read it. A client's own part (an OpenAI chat body passes its
 * `file` on) may carry a `held_by` of its own writing, never with a `file_id`: every edge
 * resolves a client's `file_id` into a part of its own or refuses it. Such a part picks
 * no backend (else a client would choose its backend past balancing and cooldowns).
 */
function holderOf(part: unknown): HeldFilePin | undefined {
  if (!isObject(part) || part.type !== 'file' || !isObject(part.file)) return undefined;
  if (typeof part.file.file_id !== 'string') return undefined;
  const heldBy = part.file.held_by;
  if (!isObject(heldBy) || typeof heldBy.backend !== 'string') return undefined;
  return {
    backend: heldBy.backend,
    ...(typeof heldBy.route === 'string' ? { route: heldBy.route } : {}),
  };
}

/**
 * The chain's link of the pinned backend: the one call this request may make, tried even
 * while it cools down (no other backend could serve it). Its own model's link only, as
 * `fallback: false` allows; a 503 naming why when the configuration no longer has it.
 */
export function pinnedLink(
  pin: HeldFilePin,
  routeName: string,
  requestedModel: string,
  links: readonly (ChainLink | UnresolvedLink)[],
): ChainLink {
  const link = links.find(
    (l): l is ChainLink =>
      !isUnresolved(l) && l.backend.name === pin.backend && l.viaModel === requestedModel,
  );
  if (!link || (pin.route !== undefined && pin.route !== routeName)) {
    throw new DataPlaneError(
      DataPlaneErrorCode.NoBackendAvailable,
      `The backend holding the file this request names no longer serves "${requestedModel.slice(0, 128)}" (the configuration changed): the file can be read there only, so upload it again`,
    );
  }
  if (!isAuthenticated(link.backend)) {
    throw new DataPlaneError(
      DataPlaneErrorCode.NoBackendAvailable,
      'The backend holding the file this request names has no credentials configured now; the file can be read there only',
    );
  }
  return link;
}

/**
 * The holder's failure as the client is told it: its own status and retry hint, with why
 * no other backend was tried. The backend's name is not told (clients never see it). Only
 * a failure that would have failed over is explained so; a refusal of the request itself
 * (a 400 naming a field, a tool the holder cannot run) is the client's and goes as it is.
 */
export function holderFailed(error: unknown): unknown {
  if (!(error instanceof DataPlaneError) || error.trigger === undefined) return error;
  return new DataPlaneError(
    error.code,
    `The backend holding the file this request names failed, and the file can be read there only, so no other backend was tried: ${error.message}`,
    {
      ...(error.upstreamStatus === undefined ? {} : { upstreamStatus: error.upstreamStatus }),
      ...(error.retryAfterMs === undefined ? {} : { retryAfterMs: error.retryAfterMs }),
      ...(error.param === undefined ? {} : { param: error.param }),
      ...(error.upstreamCode === undefined ? {} : { upstreamCode: error.upstreamCode }),
      ...(error.headers === undefined ? {} : { headers: error.headers }),
      cause: error,
    },
  );
}
