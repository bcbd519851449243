// The fixed rules every JWT provider is held to. They are code, not configuration, so
// that no YAML can weaken them.
import type { JWTVerifyOptions } from 'jose';

/**
 * Asymmetric signatures only. `none` and every HMAC algorithm are absent: a verifier
 * that accepted HS256 could be fed a token "signed" with the public key as the secret.
 */
export const ALLOWED_JWT_ALGORITHMS: readonly string[] = [
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES384',
  'ES512',
  'EdDSA',
];

/** Clock skew tolerated on `exp` and `nbf` between us and the identity provider. */
export const CLOCK_TOLERANCE_SECONDS = 30;

/** Longer bearer values are refused before any parsing (real access tokens are ~1-2 KB). */
export const MAX_TOKEN_LENGTH = 8 * 1024;

/** The jose options for one provider. `exp` is required: a token must not live forever. */
export function verifyOptions(issuer: string, audiences: readonly string[]): JWTVerifyOptions {
  return {
    issuer,
    ...(audiences.length > 0 ? { audience: [...audiences] } : {}),
    algorithms: [...ALLOWED_JWT_ALGORITHMS],
    clockTolerance: CLOCK_TOLERANCE_SECONDS,
    requiredClaims: ['exp'],
  };
}
