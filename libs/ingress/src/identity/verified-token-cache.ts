import { createHash } from 'node:crypto';
import type { JWTPayload } from 'jose';

export interface CachedVerification<Provider> {
  /** The provider that verified the token, compared by identity: names repeat across policies. */
  readonly provider: Provider;
  readonly claims: JWTPayload;
  /** Epoch ms after which the entry must not be used. */
  readonly usableUntil: number;
}

/**
 * Tokens already verified, so the agent that sends the same token on every call pays
 * the signature check once, and its later requests stay synchronous. Keyed by a hash of
 * the whole token (signature included): only the identical bytes hit. An entry lives
 * until the token expires or `maxAgeMs`, whichever is first, which bounds how long a
 * key removed from the provider's set keeps its tokens working here.
 */
export class VerifiedTokenCache<Provider> {
  private readonly entries = new Map<string, CachedVerification<Provider>>();

  constructor(
    private readonly maxEntries = 10_000,
    private readonly maxAgeMs = 60_000,
    private readonly now: () => number = Date.now,
  ) {}

  get(token: string): CachedVerification<Provider> | undefined {
    const key = digest(token);
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    if (this.now() >= entry.usableUntil) {
      this.entries.delete(key);
      return undefined;
    }
    return entry;
  }

  set(token: string, provider: Provider, claims: JWTPayload, toleranceMs: number): void {
    const now = this.now();
    const expiry = typeof claims.exp === 'number' ? claims.exp * 1000 + toleranceMs : now;
    const usableUntil = Math.min(expiry, now + this.maxAgeMs);
    if (usableUntil <= now) return;
    // Oldest first out: Map iterates in insertion order.
    if (this.entries.size >= this.maxEntries) {
      const oldest = this.entries.keys().next();
      if (!oldest.done) this.entries.delete(oldest.value);
    }
    this.entries.set(digest(token), { provider, claims, usableUntil });
  }

  get size(): number {
    return this.entries.size;
  }
}

function digest(token: string): string {
  return createHash('sha256').update(token).digest('base64url');
}
