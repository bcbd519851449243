import { decodeJwt, errors, jwtVerify, type JWTPayload, type JWTVerifyOptions } from 'jose';
import type { JwtProviderConfig } from '@aigw/config';
import {
  IdentityRejection,
  KeysUnavailable,
  type KeySetFailure,
  type RejectionReason,
} from './identity.errors';
import { verifyOptions } from './jwt-policy';
import { FetchFloorError, type RemoteKeySet } from './remote-key-set';

export interface VerifiedToken {
  readonly provider: JwtProviderConfig;
  readonly claims: JWTPayload;
}

/** When a key set holds several keys a `kid`-less token could match, try this many. */
const MAX_CANDIDATE_KEYS = 4;

/** Verifies tokens for one provider: signature, algorithm, issuer, audience, time. */
export class ProviderVerifier {
  private readonly options: JWTVerifyOptions;

  constructor(
    readonly provider: JwtProviderConfig,
    private readonly keys: RemoteKeySet,
  ) {
    this.options = verifyOptions(provider.issuer, provider.audiences);
  }

  async verify(token: string): Promise<VerifiedToken> {
    this.keys.refreshIfStale();
    try {
      const { payload } = await jwtVerify(token, this.keys.getKey, this.options);
      return { provider: this.provider, claims: payload };
    } catch (error) {
      if (error instanceof errors.JWKSMultipleMatchingKeys) return this.tryEach(token, error);
      const failure = keySetFailure(error);
      throw failure ? new KeysUnavailable(failure) : new IdentityRejection(reasonFor(error));
    }
  }

  private async tryEach(
    token: string,
    candidates: errors.JWKSMultipleMatchingKeys,
  ): Promise<VerifiedToken> {
    let tried = 0;
    let last: unknown;
    for await (const key of candidates) {
      if (++tried > MAX_CANDIDATE_KEYS) break;
      try {
        const { payload } = await jwtVerify(token, key, this.options);
        return { provider: this.provider, claims: payload };
      } catch (error) {
        last = error;
        if (!(error instanceof errors.JWSSignatureVerificationFailed)) break;
      }
    }
    throw new IdentityRejection(reasonFor(last));
  }
}

/** The unverified `iss`, used only to pick which provider's keys to try. */
export function claimedIssuer(token: string): string | undefined {
  try {
    const iss = decodeJwt(token).iss;
    return typeof iss === 'string' ? iss : undefined;
  } catch {
    return undefined;
  }
}

/** How the key fetch failed, when `error` is a failure to get the keys rather than the token's. */
function keySetFailure(error: unknown): KeySetFailure | undefined {
  if (error instanceof FetchFloorError) return 'backoff';
  if (error instanceof errors.JWKSTimeout) return 'timeout';
  // jose's own: a non-200, a body that is not JSON, or JSON that is no key set.
  if (error instanceof errors.JWKSInvalid) return 'bad_response';
  if (error instanceof errors.JOSEError) {
    return error.code === 'ERR_JOSE_GENERIC' ? 'bad_response' : undefined;
  }
  // Anything else came from fetch itself (connection refused, DNS, TLS).
  return 'unreachable';
}

function reasonFor(error: unknown): RejectionReason {
  if (error instanceof IdentityRejection) return error.reason;
  if (!(error instanceof errors.JOSEError)) return 'keys-unavailable'; // fetch failed or refused
  switch (error.code) {
    case 'ERR_JWT_EXPIRED':
      return 'expired';
    case 'ERR_JWT_CLAIM_VALIDATION_FAILED':
      if (error instanceof errors.JWTClaimValidationFailed) {
        if (error.claim === 'nbf') return 'not-yet-valid';
        if (error.claim === 'iss') return 'unknown-issuer';
      }
      return 'claims-rejected';
    case 'ERR_JOSE_ALG_NOT_ALLOWED':
    case 'ERR_JOSE_NOT_SUPPORTED':
      return 'algorithm-not-allowed';
    case 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED':
      return 'bad-signature';
    case 'ERR_JWKS_NO_MATCHING_KEY':
    case 'ERR_JWKS_MULTIPLE_MATCHING_KEYS':
      return 'unknown-key';
    case 'ERR_JWKS_TIMEOUT':
    case 'ERR_JWKS_INVALID':
    case 'ERR_JOSE_GENERIC':
      return 'keys-unavailable';
    default:
      return 'malformed-token';
  }
}
