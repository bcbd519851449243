import { MAX_TOKEN_LENGTH } from './jwt-policy';

export type BearerToken =
  | { readonly kind: 'token'; readonly value: string }
  | { readonly kind: 'missing' }
  | { readonly kind: 'malformed' };

/** The token a request presents, or that it presents two different ones. */
export type PresentedToken =
  | BearerToken
  | {
      readonly kind: 'conflicting';
      /** The headers (lowercase) carrying different credentials: names only, never values. */
      readonly headers: readonly string[];
    };

// Compact JWS: three base64url segments (the last may be empty, as for `alg: none`,
// which the verifier then refuses with the other disallowed algorithms).
const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;
const SCHEME = /^bearer[ \t]+/i;

/**
 * Headers clients carry an API key in, and so a JWT given to them as one: `x-api-key`
 * (Anthropic's API), `api-key` (Azure OpenAI's, which its SDKs send) and `x-goog-api-key`
 * (Google's).
 */
const TOKEN_KEY_HEADERS = ['x-api-key', 'api-key', 'x-goog-api-key'] as const;

/** The credential a request presents, in whichever header its SDK puts it. */
export type PresentedCredential =
  | { readonly kind: 'credential'; readonly value: string }
  | { readonly kind: 'missing' }
  | Extract<PresentedToken, { kind: 'conflicting' }>;

/**
 * The credential a request presents: `Authorization: Bearer <credential>`, or the bare
 * credential in `x-api-key` / `api-key` / `x-goog-api-key`. Several of them may carry it
 * (Google's SDK path copies its key into Authorization), but only the same one: two
 * different credentials are `conflicting`, never one picked over the other. An
 * Authorization of another scheme (Basic) carries none.
 */
export function presentedCredential(
  headers: Readonly<Record<string, string | string[] | undefined>>,
): PresentedCredential {
  const carried: { header: string; value: string }[] = [];
  for (const bearer of valuesOf(headers.authorization)) {
    const scheme = SCHEME.exec(bearer);
    const value = scheme ? bearer.slice(scheme[0].length).trim() : '';
    if (value !== '') carried.push({ header: 'authorization', value });
  }
  for (const header of TOKEN_KEY_HEADERS) {
    for (const value of valuesOf(headers[header])) carried.push({ header, value });
  }
  if (carried.length === 0) return { kind: 'missing' };
  const value = carried[0].value;
  if (carried.some((c) => c.value !== value)) {
    return { kind: 'conflicting', headers: [...new Set(carried.map((c) => c.header))] };
  }
  return { kind: 'credential', value };
}

/** The token a request presents (presentedCredential), checked for a JWT's shape. */
export function presentedToken(
  headers: Readonly<Record<string, string | string[] | undefined>>,
): PresentedToken {
  const credential = presentedCredential(headers);
  return credential.kind === 'credential' ? shaped(credential.value) : credential;
}

/** A non-empty token, checked for shape only. */
function shaped(value: string): BearerToken {
  if (value.length > MAX_TOKEN_LENGTH || !COMPACT_JWS.test(value)) {
    return { kind: 'malformed' };
  }
  return { kind: 'token', value };
}

/**
 * Each credential a header carries. A header sent twice reaches us as one value, joined
 * by commas (the edge joins repeated headers, `Authorization` too, which Node otherwise
 * keeps the first of): no key or token holds a comma, so each part is one credential, and
 * two different ones conflict rather than the first being picked, which a proxy in front
 * may read the other way. (Of a list, as a caller may hand one, the first entry.)
 */
function valuesOf(value: string | string[] | undefined): string[] {
  const first = Array.isArray(value) ? value[0] : value;
  if (first === undefined) return [];
  return first
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '');
}
