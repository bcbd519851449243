import { inspect } from 'node:util';
import {
  DataPlaneError,
  DataPlaneErrorCode,
  decodeWireError,
  unreadableByPeer,
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
/** The token being rotated out: still accepted on a receiver's wire routes, never sent. */
export const INTERNAL_TOKEN_PREVIOUS_ENV = 'AI_GATEWAY_INTERNAL_TOKEN_PREVIOUS';
/** As for AI_GATEWAY_ADMIN_TOKEN: shorter is guessable; `openssl rand -hex 32` gives 64. */
const MIN_TOKEN_LENGTH = 16;
/**
 * What an HTTP header value carries everywhere (printable ASCII, space, tab): a token with
 * anything else (a newline inside, non-ASCII) passes start-up but fails every hop's request.
 */
const HEADER_SAFE = /^[\t\x20-\x7e]+$/;

/** `previous`: the caller sent AI_GATEWAY_INTERNAL_TOKEN_PREVIOUS, accepted during a rotation. */
export type InternalAuthVerdict = 'ok' | 'previous' | 'missing' | 'wrong';

/**
 * AI_GATEWAY_INTERNAL_TOKEN as a service holds it: sent on its outgoing hops, checked on its
 * wire routes by digest, as is AI_GATEWAY_INTERNAL_TOKEN_PREVIOUS when set (accepted, never
 * sent). It prints as `[REDACTED]` however it is logged.
 */
export class InternalToken {
  readonly #token: string;
  readonly #digest: Buffer;
  readonly #previousDigest: Buffer | undefined;

  constructor(token: string, previous?: string) {
    this.#token = token;
    this.#digest = secretDigest(token);
    this.#previousDigest = previous === undefined ? undefined : secretDigest(previous);
  }

  /** Whether a previous token is accepted too (a rotation under way). */
  get acceptsPrevious(): boolean {
    return this.#previousDigest !== undefined;
  }

  /** The headers an outgoing internal call adds. */
  headers(): Record<string, string> {
    return { [INTERNAL_TOKEN_HEADER]: this.#token };
  }

  /** Whether an incoming call's header bears this token (or the previous one); constant time. */
  verdict(presented: string | string[] | undefined): InternalAuthVerdict {
    if (presented === undefined || presented === '') return 'missing';
    // Two copies of the header are never what a peer of ours sends.
    if (Array.isArray(presented)) return 'wrong';
    const current = tokensMatch(presented, this.#digest);
    // Both digests are compared whichever matches, so the time taken does not tell which.
    const previous =
      this.#previousDigest !== undefined && tokensMatch(presented, this.#previousDigest);
    if (current) return 'ok';
    return previous ? 'previous' : 'wrong';
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
 * AI_GATEWAY_INTERNAL_TOKEN (with AI_GATEWAY_INTERNAL_TOKEN_PREVIOUS, when set), or undefined
 * when unset. Either too short or not sendable as a header value, a previous token equal to
 * the current one, or a previous token without a current one is a start-up error.
 */
export function internalTokenFrom(
  env: Readonly<Record<string, string | undefined>>,
): InternalToken | undefined {
  const token = tokenSetting(env, INTERNAL_TOKEN_ENV);
  const previous = tokenSetting(env, INTERNAL_TOKEN_PREVIOUS_ENV);
  if (previous !== undefined && token === undefined) {
    throw new StartupError(
      `${INTERNAL_TOKEN_PREVIOUS_ENV} is set without ${INTERNAL_TOKEN_ENV}: a rotation accepts the previous token beside the current one, so set the current one too`,
    );
  }
  if (token === undefined) return undefined;
  if (previous === token) {
    throw new StartupError(
      `${INTERNAL_TOKEN_PREVIOUS_ENV} is the same as ${INTERNAL_TOKEN_ENV}: set it to the token being rotated out, or leave it unset`,
    );
  }
  return new InternalToken(token, previous);
}

/** One token variable, trimmed; undefined when unset or blank. */
function tokenSetting(
  env: Readonly<Record<string, string | undefined>>,
  name: string,
): string | undefined {
  const token = env[name]?.trim();
  if (!token) return undefined;
  if (token.length < MIN_TOKEN_LENGTH) {
    // Says how long it is, never what it is.
    throw new StartupError(
      `${name} must be at least ${MIN_TOKEN_LENGTH} characters (it has ${token.length})`,
    );
  }
  if (!HEADER_SAFE.test(token)) {
    throw new StartupError(
      `${name} has a character an HTTP header cannot carry (a control character or non-ASCII); use printable ASCII, e.g. \`openssl rand -hex 32\``,
    );
  }
  return token;
}

/** What a wire server checks on each call: the token, and who hears of a refusal. */
export interface WireAuth {
  readonly token: InternalToken;
  readonly onRefused: (refusal: InternalAuthRefusal) => void;
  /** A call accepted with the previous token: what tells an operator it is still in use. */
  readonly onPrevious?: (path: string) => void;
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
 * sent), calls with the previous token counted in
 * `ai_gateway_internal_auth_previous_token_total{service}`; without a token, one warning at
 * start that its wire routes take any caller.
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
  if (token.acceptsPrevious) {
    observe.logger.info(
      `${INTERNAL_TOKEN_PREVIOUS_ENV} is set: this ${service} accepts it beside ${INTERNAL_TOKEN_ENV} until it is removed; ai_gateway_internal_auth_previous_token_total counts the calls that still send it`,
    );
  }
  return {
    token,
    onPrevious: () => observe.metrics.recordInternalAuthPrevious(service),
    onRefused: (refusal) => {
      observe.metrics.recordInternalAuthFailure({ service, reason: refusal.reason });
      observe.logger.warn('refused an internal call without the right token', {
        service,
        ...refusal,
      });
    },
  };
}

/**
 * Checks an incoming call's token header: undefined when it may proceed, or why it is
 * refused (already counted and logged). A call with the previous token proceeds, counted.
 */
export function admitInternalCall(
  auth: WireAuth,
  presented: string | string[] | undefined,
  path: string,
  remoteAddress: string | undefined,
): 'missing' | 'wrong' | undefined {
  const verdict = auth.token.verdict(presented);
  if (verdict === 'ok') return undefined;
  if (verdict === 'previous') {
    auth.onPrevious?.(path);
    return undefined;
  }
  auth.onRefused({ reason: verdict, path, remoteAddress });
  return verdict;
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
      : `the ${INTERNAL_TOKEN_HEADER} header matches neither this service's ${INTERNAL_TOKEN_ENV} nor its ${INTERNAL_TOKEN_PREVIOUS_ENV}`,
  );
}

/** Whether a peer answered with a redirect, which no internal hop follows (see peerRedirect). */
export function isRedirectStatus(status: number): boolean {
  return status >= 300 && status <= 399;
}

/**
 * A peer's 3xx. Every internal call carries the internal token, so none follows a redirect
 * (it would hand the token to whatever the Location names): the call fails as a
 * misconfigured hop does, a 500 naming the status, never the Location.
 */
export function peerRedirect(status: number, peer: string): DataPlaneError {
  return new DataPlaneError(
    DataPlaneErrorCode.Internal,
    `the ${peer} answered ${status}, a redirect: internal calls do not follow redirects, as they carry ${INTERNAL_TOKEN_ENV}; point this service at the ${peer}'s own address`,
  );
}

/**
 * A peer's error answer. A 401 on a hop is the peer refusing our token, a misconfiguration
 * of the gateway, never the client's credentials: a 500 that names the setting to fix.
 */
export function decodePeerError(body: unknown, status: number, peer: string): DataPlaneError {
  if (isRedirectStatus(status)) return peerRedirect(status, peer);
  if (status === 401) {
    return new DataPlaneError(
      DataPlaneErrorCode.Internal,
      `the ${peer} refused this service's internal token: set the same ${INTERNAL_TOKEN_ENV} on ingress, router and provider-adapter (during a rotation, this service's token must be the ${peer}'s ${INTERNAL_TOKEN_ENV} or ${INTERNAL_TOKEN_PREVIOUS_ENV})`,
    );
  }
  return unreadableByPeer(decodeWireError(body, status), peer);
}
