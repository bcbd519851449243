import { MAX_TOKEN_LENGTH } from './jwt-policy';

export type BearerToken =
  | { readonly kind: 'token'; readonly value: string }
  | { readonly kind: 'missing' }
  | { readonly kind: 'malformed' };

// Compact JWS: three base64url segments (the last may be empty, as for `alg: none`,
// which the verifier then refuses with the other disallowed algorithms).
const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;
const SCHEME = /^bearer[ \t]+/i;

/** The token of an `Authorization: Bearer <token>` header, checked for shape only. */
export function bearerToken(authorization: string | string[] | undefined): BearerToken {
  const header = Array.isArray(authorization) ? authorization[0] : authorization;
  if (header === undefined || header.trim() === '') return { kind: 'missing' };
  const scheme = SCHEME.exec(header);
  if (!scheme) return { kind: 'missing' };
  const value = header.slice(scheme[0].length).trim();
  if (value.length === 0) return { kind: 'missing' };
  if (value.length > MAX_TOKEN_LENGTH || !COMPACT_JWS.test(value)) {
    return { kind: 'malformed' };
  }
  return { kind: 'token', value };
}
