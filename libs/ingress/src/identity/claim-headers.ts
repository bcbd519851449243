import type { JWTPayload } from 'jose';
import { claimAt } from './claim-path';

/** Header values we are willing to derive from a claim: printable, single line, short. */
const SAFE_VALUE = /^[\x20-\x7e\u00a0-\uffff]{1,512}$/;
/** The most items a list can hold and still fit SAFE_VALUE's length, commas between them. */
const MAX_ITEMS = 256;

type Scalar = string | number | boolean;

function isScalar(value: unknown): value is Scalar {
  return typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean';
}

/**
 * A claim (top-level, or nested by a dotted path: claimAt) as a header-safe string. Strings,
 * numbers and booleans qualify, and a list of them joined by commas (Keycloak's roles);
 * objects, lists holding anything else, and values with control characters do not (no
 * header injection, even from a provider we trust). A list is bounded as a single value is.
 */
function claimAsString(claims: JWTPayload, claim: string): string | undefined {
  const value = claimAt(claims, claim);
  let text: string;
  if (isScalar(value)) text = String(value).trim();
  else if (Array.isArray(value) && value.length <= MAX_ITEMS && value.every(isScalar)) {
    text = value.map((item) => String(item).trim()).join(',');
  } else return undefined;
  return SAFE_VALUE.test(text) ? text : undefined;
}

/** Sets each mapped claim as its header; `headers` is the caller's own sanitized copy. */
export function applyClaimHeaders(
  headers: Record<string, string | string[] | undefined>,
  claims: JWTPayload,
  mappings: readonly { readonly claim: string; readonly header: string }[],
): void {
  for (const { claim, header } of mappings) {
    const value = claimAsString(claims, claim);
    if (value !== undefined) headers[header] = value;
  }
}
