import type { JWTPayload } from 'jose';

/** Header values we are willing to derive from a claim: printable, single line, short. */
const SAFE_VALUE = /^[\x20-\x7e\u00a0-\uffff]{1,512}$/;

/**
 * A top-level claim as a header-safe string. Strings, numbers and booleans qualify;
 * objects, arrays and values with control characters do not (no header injection, even
 * from a provider we trust).
 */
function claimAsString(claims: JWTPayload, claim: string): string | undefined {
  const value = claims[claim];
  if (typeof value !== 'string' && typeof value !== 'number' && typeof value !== 'boolean') {
    return undefined;
  }
  const text = String(value).trim();
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
