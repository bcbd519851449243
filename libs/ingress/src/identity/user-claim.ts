// The claim that names the caller on a JWT route: userIdentification's `jwt.claim`, or the
// claim a header source is set from. Its value becomes the user key, the budget key and the
// owner of stored responses, files and batches, so it must name one user exactly. A value
// that cannot (an object, `true`, a number past 2^53, a padded or control-character string,
// broken UTF-16) is refused rather than read as another user or as `anonymous`, whose
// budget and stored objects every unnamed caller shares.
import type { JWTPayload } from 'jose';
import { claimAt } from './claim-path';

export type UserClaim =
  | { readonly kind: 'absent' }
  | { readonly kind: 'user'; readonly value: string }
  | { readonly kind: 'unusable' };

const ABSENT: UserClaim = { kind: 'absent' };
const UNUSABLE: UserClaim = { kind: 'unusable' };

/** C0 and C1 controls: they break log lines, headers and labels, and hide in dashboards. */
const CONTROL = /[\x00-\x1f\x7f-\x9f]/;
/**
 * A surrogate not in a pair: it encodes as U+FFFD in UTF-8 (Redis keys, Kafka, ClickHouse),
 * so two such ids that differ here would be one user there.
 */
const LONE_SURROGATE = /[\ud800-\udfff]/u;

/**
 * The user a verified token's `claim` names (nested by a dotted path: claimAt), if any,
 * exactly as the provider signed it.
 */
export function userClaim(claims: JWTPayload, claim: string): UserClaim {
  const value = claimAt(claims, claim);
  if (value === undefined || value === null) return ABSENT;
  // Past 2^53 JSON.parse has already rounded it: two users' ids would be one number.
  if (typeof value === 'number') {
    return Number.isSafeInteger(value) ? { kind: 'user', value: String(value) } : UNUSABLE;
  }
  if (typeof value !== 'string') return UNUSABLE;
  // Trimming would make " alice" (or "alice" + U+00A0) alice: refused instead.
  if (value === '' || value.trim() !== value) return UNUSABLE;
  if (CONTROL.test(value) || LONE_SURROGATE.test(value)) return UNUSABLE;
  return { kind: 'user', value };
}
