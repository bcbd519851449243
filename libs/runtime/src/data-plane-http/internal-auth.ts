import { inspect } from 'node:util';
import {
  DataPlaneError,
  DataPlaneErrorCode,
  decodeWireError,
  WIRE_PATHS,
} from '@aigw/contracts/data-plane';
import { REDACTED, type Logger, type MetricsRegistry } from '@aigw/observability';
import { StartupError } from '../listen';
import { matchesSecretDigest, secretDigest } from '../secret-digest';

/**
 * The header an internal hop (ingress → router → provider-adapter) carries its shared token
 * in. Clients' own headers never ride as HTTP headers on a hop (they travel inside the wire
 * message), and the ingress drops any `x-aigw-*` header a client sends, so none can forge it.
 */
export const INTERNAL_TOKEN_HEADER = 'x-aigw-internal-token';
export const INTERNAL_TOKEN_ENV = 'AI_GATEWAY_INTERNAL_TOKEN';
/** As for AI_GATEWAY_ADMIN_TOKEN: shorter is guessable; `openssl rand -hex 32` gives 64. */
const MIN_TOKEN_LENGTH = 16;
/**
 * What an HTTP header value carries everywhere (printable ASCII, space, tab): a token with
 * anything else (a newline inside, non-ASCII) passes start-up but fails every hop's request.
 */
const HEADER_SAFE = /^[\t\x20-\x7e]+$/;

export type InternalAuthVerdict = 'ok' | 'missing' | 'wrong';

/**
 * AI_GATEWAY_INTERNAL_TOKEN as a service holds it: sent on its outgoing hops, checked on its
 * wire routes by digest. It prints as `[REDACTED]` however it is logged.
 */
export class InternalToken {
  readonly #token: string;
  readonly #digest: Buffer;

  constructor(token: string) {
    this.#token = token;
    this.#digest = secretDigest(token);
  }

  /** The headers an outgoing internal call adds. */
  headers(): Record<string, string> {
    return { [INTERNAL_TOKEN_HEADER]: this.#token };
  }

  /** Whether an incoming call's header bears this token; compared in constant time. */
  verdict(presented: string | string[] | undefined): InternalAuthVerdict {
    if (presented === undefined || presented === '') return 'missing';
    // Two copies of the header are never what a peer of ours sends.
    if (Array.isArray(presented)) return 'wrong';
    return tokensMatch(presented, this.#digest) ? 'ok' : 'wrong';
  }

  toString(): string {
    return REDACTED;
  }

  toJSON(): string {
    return REDACTED;
  }

  [inspect.custom](): string {
    return `InternalToken(${REDACTED})`;
  }
}

/**
 * Whether `presented` is the token whose SHA-256 is `digest`. Both sides are digests of the
 * same length, so the comparison takes as long whatever was sent (its length included).
 */
export function tokensMatch(presented: string, digest: Buffer): boolean {
  return matchesSecretDigest(presented, digest);
}

/**
 * AI_GATEWAY_INTERNAL_TOKEN, or undefined when unset; too short, or not sendable as a header
 * value, is a start-up error.
 */
export function internalTokenFrom(
  env: Readonly<Record<string, string | undefined>>,
): InternalToken | undefined {
  const token = env[INTERNAL_TOKEN_ENV]?.trim();
  if (!token) return undefined;
  if (token.length < MIN_TOKEN_LENGTH) {
    // Says how long it is, never what it is.
    throw new StartupError(
      `${INTERNAL_TOKEN_ENV} must be at least ${MIN_TOKEN_LENGTH} characters (it has ${token.length})`,
    );
  }
  if (!HEADER_SAFE.test(token)) {
    throw new StartupError(
      `${INTERNAL_TOKEN_ENV} has a character an HTTP header cannot carry (a control character or non-ASCII); use printable ASCII, e.g. \`openssl rand -hex 32\``,
    );
  }
  return new InternalToken(token);
}

/** What a wire server checks on each call: the token, and who hears of a refusal. */
export interface WireAuth {
  readonly token: InternalToken;
  readonly onRefused: (refusal: InternalAuthRefusal) => void;
}

export interface InternalAuthRefusal {
  readonly reason: 'missing' | 'wrong';
  /** The wire path asked for (`/wire/route`, `/wire/realtime`), without its query. */
  readonly path: string;
  readonly remoteAddress?: string;
}

/**
 * The wire-auth of a service with internal routes: refusals counted in
 * `ai_gateway_internal_auth_failures_total{service,reason}` and logged (never the token
 * sent); without a token, one warning at start that its wire routes take any caller.
 */
export function wireAuthFor(
  token: InternalToken | undefined,
  service: string,
  observe: { readonly logger: Logger; readonly metrics: MetricsRegistry },
): WireAuth | undefined {
  if (!token) {
    observe.logger.warn(
      `${INTERNAL_TOKEN_ENV} is not set: anyone who can reach this ${service}'s PORT may call its internal routes as any caller, unmetered; set the same token on ingress, router and provider-adapter`,
    );
    return undefined;
  }
  return {
    token,
    onRefused: (refusal) => {
      observe.metrics.recordInternalAuthFailure({ service, reason: refusal.reason });
      observe.logger.warn('refused an internal call without the right token', {
        service,
        ...refusal,
      });
    },
  };
}

/** Only the peer's readiness probe is open: it says "up", nothing more. */
export function needsInternalAuth(path: string): boolean {
  return path !== WIRE_PATHS.health;
}

/** The wire's answer to a call without the right token: a 401 naming the header, not the token. */
export function internalAuthRefusal(reason: 'missing' | 'wrong'): DataPlaneError {
  return new DataPlaneError(
    DataPlaneErrorCode.Unauthenticated,
    reason === 'missing'
      ? `internal routes need the ${INTERNAL_TOKEN_HEADER} header (${INTERNAL_TOKEN_ENV})`
      : `the ${INTERNAL_TOKEN_HEADER} header does not match this service's ${INTERNAL_TOKEN_ENV}`,
  );
}

/**
 * A peer's error answer. A 401 on a hop is the peer refusing our token, a misconfiguration
 * of the gateway, never the client's credentials: a 500 that names the setting to fix.
 */
export function decodePeerError(body: unknown, status: number, peer: string): DataPlaneError {
  if (status === 401) {
    return new DataPlaneError(
      DataPlaneErrorCode.Internal,
      `the ${peer} refused this service's internal token: set the same ${INTERNAL_TOKEN_ENV} on ingress, router and provider-adapter`,
    );
  }
  return decodeWireError(body, status);
}
