// A user identified by a credential header (an API key) gets a user key derived from the
// credential, never the credential itself: the user key lands in metric labels, usage
// events, analytics rows, logs, payload logs and Kafka partition keys.
import { createHash } from 'node:crypto';

// The credential headers are budget-core's: one budget identification covers them all.
export { isCredentialHeader } from '@aigw/budget-core';

export const CREDENTIAL_USER_KEY_PREFIX = 'key-';
const SCHEME = /^[ \t]*bearer[ \t]+/i;

/**
 * `key-` + the first 16 hex digits of SHA-256 of the credential (a `Bearer ` prefix
 * removed, so one key sent as `Authorization: Bearer k` or `x-api-key: k` is one user).
 * A plain hash, not an HMAC: API keys are high-entropy, so the hash cannot be reversed
 * or guessed, and a keyless hash gives the same id on every ingress replica and in the
 * split deployment with no shared secret to distribute, and lets an operator compute a
 * key's id with `printf %s "$KEY" | sha256sum | cut -c1-16` (prefix it with `key-`).
 * 64 bits: collisions are negligible below billions of keys. Undefined for an empty
 * credential (no user named, as for an absent header), and for a value carrying two
 * different keys (credentialsIn), which names neither.
 */
export function credentialUserKey(value: string): string | undefined {
  const credentials = credentialsIn(value);
  if (credentials.length !== 1) return undefined;
  const digest = createHash('sha256').update(credentials[0], 'utf8').digest('hex');
  return CREDENTIAL_USER_KEY_PREFIX + digest.slice(0, 16);
}

/**
 * The different credentials a header value carries, `Bearer ` prefixes removed. A header
 * sent twice reaches us joined by commas (the edge joins repeats, `Authorization` too) and
 * no key holds a comma: the same key twice is that key, one user, else a caller would get a
 * budget of its own by repeating its header.
 */
export function credentialsIn(value: string): string[] {
  const credentials = value.split(',').map((part) => part.replace(SCHEME, '').trim());
  return [...new Set(credentials.filter((credential) => credential !== ''))];
}
