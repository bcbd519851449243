// Rejections of the identity step. Public messages are fixed strings: they never carry
// token content, key ids, issuers or library messages. The precise reason rides along
// as the error's cause, for operators and tests only.
import { MAX_NAME_LENGTH } from '@aigw/contracts';
import { DataPlaneError, DataPlaneErrorCode } from '@aigw/contracts/data-plane';

export type RejectionReason =
  | 'missing-token'
  | 'malformed-token'
  | 'conflicting-credentials'
  | 'unknown-issuer'
  | 'algorithm-not-allowed'
  | 'unknown-key'
  | 'bad-signature'
  | 'expired'
  | 'not-yet-valid'
  | 'claims-rejected'
  | 'unusable-user-claim'
  | 'no-user-claim'
  | 'keys-unavailable'
  | 'provider-not-configured'
  | 'no-tier'
  | 'tier-not-granted';

/** Why a caller was turned away; kept out of every response body. */
export class IdentityRejection extends Error {
  constructor(readonly reason: RejectionReason) {
    super(`identity rejected: ${reason}`);
    this.name = 'IdentityRejection';
  }
}

/** How fetching a provider's signing keys (its JWKS) failed; a metric label. */
export type KeySetFailure =
  /** No answer within the fetch timeout. */
  | 'timeout'
  /** The connection failed (refused, DNS, TLS). */
  | 'unreachable'
  /** An answer that is not a 200 with a JSON Web Key Set. */
  | 'bad_response'
  /** Not tried: the last attempt failed too recently (the attempt floor). */
  | 'backoff';

/** The provider's keys could not be had: the gateway's dependency failed, not the token. */
export class KeysUnavailable extends IdentityRejection {
  constructor(readonly failure: KeySetFailure) {
    super('keys-unavailable');
    this.name = 'KeysUnavailable';
  }
}

/** How long a client refused for want of keys is asked to wait: the attempt floor's. */
const KEYS_UNAVAILABLE_RETRY_AFTER_MS = 5_000;

/**
 * 503 (529 on the Anthropic API, as for every "try again shortly"), never 401: the token
 * may well be good, and a 401 tells SDKs and users to give up or sign in again.
 */
export function keysUnavailable(failure: KeySetFailure): DataPlaneError {
  return new DataPlaneError(
    DataPlaneErrorCode.NoBackendAvailable,
    "The gateway could not fetch its identity provider's signing keys to check the bearer token. Try again shortly.",
    {
      upstreamCode: 'identity_provider_unavailable',
      retryAfterMs: KEYS_UNAVAILABLE_RETRY_AFTER_MS,
      cause: new KeysUnavailable(failure),
    },
  );
}

/**
 * The challenge every 401 carries (RFC 7235 requires one; RFC 6750 section 3 gives its
 * form): bare when no credential came, else with the error code, never the token or why.
 */
const CHALLENGE = {
  noCredential: { 'www-authenticate': 'Bearer' },
  invalidToken: { 'www-authenticate': 'Bearer error="invalid_token"' },
  invalidRequest: { 'www-authenticate': 'Bearer error="invalid_request"' },
} as const;

export function unauthenticated(reason: RejectionReason): DataPlaneError {
  const message =
    reason === 'missing-token'
      ? "This endpoint requires a bearer token: send 'Authorization: Bearer <token>' (or the token as 'x-api-key' or 'api-key')"
      : reason === 'expired'
        ? 'The bearer token has expired'
        : 'The bearer token is not valid';
  return new DataPlaneError(DataPlaneErrorCode.Unauthenticated, message, {
    headers: reason === 'missing-token' ? CHALLENGE.noCredential : CHALLENGE.invalidToken,
    cause: new IdentityRejection(reason),
  });
}

/**
 * Credential headers carrying different values (Authorization and x-api-key, say, or one of
 * them sent twice): which one the client meant is not guessed. Names the headers, never
 * their values.
 */
export function conflictingCredentials(headers: readonly string[]): DataPlaneError {
  return new DataPlaneError(
    DataPlaneErrorCode.Unauthenticated,
    `The request carries different credentials in ${headers.join(' and ')}: send the token in one of them, or the same token in each`,
    { headers: CHALLENGE.invalidRequest, cause: new IdentityRejection('conflicting-credentials') },
  );
}

/**
 * A tier header (one clients set) naming a tier the verified token does not grant. Names
 * the header (configuration), never the tier asked for or the caller's own.
 */
export function tierNotGranted(header: string): DataPlaneError {
  return new DataPlaneError(
    DataPlaneErrorCode.Forbidden,
    `The tier named by header '${header}' is not granted by the bearer token`,
    { cause: new IdentityRejection('tier-not-granted') },
  );
}

export function noTierMatched(): DataPlaneError {
  return new DataPlaneError(
    DataPlaneErrorCode.Forbidden,
    'No service tier matches this request, and no default tier is configured',
    { cause: new IdentityRejection('no-tier') },
  );
}

/**
 * A verified token whose user claim cannot name one user (user-claim.ts). Names the claim
 * (configuration), never its value.
 */
export function unusableUserClaim(claim: string): DataPlaneError {
  return new DataPlaneError(
    DataPlaneErrorCode.Unauthenticated,
    `The bearer token's claim '${claim}' does not name a user: it must be a whole number, or a non-empty string without control characters or surrounding spaces`,
    { headers: CHALLENGE.invalidToken, cause: new IdentityRejection('unusable-user-claim') },
  );
}

/**
 * A verified token without any claim the route reads its users from (user-claim.ts).
 * Names the claims (configuration), never what the token holds.
 */
export function noUserClaim(claims: readonly string[]): DataPlaneError {
  const named = claims.map((claim) => `'${claim}'`).join(' or ');
  return new DataPlaneError(
    DataPlaneErrorCode.Unauthenticated,
    `The bearer token does not name a user: it has no claim ${named}`,
    { headers: CHALLENGE.invalidToken, cause: new IdentityRejection('no-user-claim') },
  );
}

/** A user identifier longer than events carry: names where it came from, never the value. */
export function userKeyTooLong(source: string): DataPlaneError {
  return new DataPlaneError(
    DataPlaneErrorCode.InvalidRequest,
    `The user identifier (${source}) is longer than ${MAX_NAME_LENGTH} characters`,
  );
}
