import { createHash } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';

/** The header naming one intended adjustment, as the IETF draft and Stripe spell it. */
const IDEMPOTENCY_KEY_HEADER = 'idempotency-key';
const MAX_KEY_LENGTH = 255;
// Visible ASCII: a key is an opaque token (a UUID, a ticket id), never text to display.
const KEY_PATTERN = /^[\x21-\x7e]+$/;

export type IdempotencyKey =
  | { readonly ok: true; readonly key: string | undefined }
  | { readonly ok: false; readonly message: string };

/** The request's `Idempotency-Key`, if it sent one that can be one. */
export function idempotencyKeyOf(headers: IncomingHttpHeaders): IdempotencyKey {
  const raw = headers[IDEMPOTENCY_KEY_HEADER];
  if (raw === undefined) return { ok: true, key: undefined };
  const key = Array.isArray(raw) ? undefined : raw.trim();
  if (key === undefined || key.length > MAX_KEY_LENGTH || !KEY_PATTERN.test(key)) {
    return {
      ok: false,
      message: `Idempotency-Key must be one value of 1 to ${MAX_KEY_LENGTH} visible ASCII characters`,
    };
  }
  return { ok: true, key };
}

/**
 * The event id of the adjustment `key` names: the same for every retry of one request,
 * so the budget service, which applies an adjustment once per event id, applies a retried
 * one once. The request's own fields are part of it: the same key sent with another user,
 * action, limit or amount is another adjustment, never one silently taken for the first.
 * A UUID of version 8 (RFC 9562's custom form) from a SHA-256 of them.
 */
export function idempotentEventId(key: string, request: readonly unknown[]): string {
  const digest = createHash('sha256')
    .update(JSON.stringify(['budget.adjusted', key, ...request]))
    .digest();
  const bytes = digest.subarray(0, 16);
  bytes[6] = (bytes[6] & 0x0f) | 0x80; // version 8
  bytes[8] = (bytes[8] & 0x3f) | 0x80; // the RFC's variant
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
