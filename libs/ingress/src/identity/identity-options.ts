// Process-level identity settings. The configuration names a default tier with
// `userTiers[].default: true`; AI_GATEWAY_DEFAULT_TIER overrides it (see README.md here).
import type { DataPlaneError } from '@aigw/contracts/data-plane';
import { DEFAULT_KEY_SET_TIMING, type KeyFetchResult, type KeySetTiming } from './remote-key-set';

export const DEFAULT_TIER_ENV = 'AI_GATEWAY_DEFAULT_TIER';

export interface IdentityOptions {
  /**
   * Name of the tier given to requests that match no tier selector, on every route whose
   * tiers include a tier of that name; it overrides the configuration's `default: true`
   * tier there. Unset, or on routes without that tier: the configuration's default tier,
   * else such requests get 403.
   */
  readonly defaultTier?: string;
  readonly keySetTiming?: KeySetTiming;
  /** Verified tokens remembered (per configuration) to skip repeat signature checks. */
  readonly verifiedTokenCacheSize?: number;
  /** Longest a remembered verification is reused, in ms. */
  readonly verifiedTokenMaxAgeMs?: number;
  /**
   * Hears every caller identity refuses (401, 403, or 503 for keys it could not fetch),
   * whichever endpoint asked: model calls, files, batches, stored responses, count_tokens.
   * Not told: a look at whether a listed record is the caller's (identifyWithoutTelling).
   */
  readonly onRefusal?: (error: DataPlaneError) => void;
  /**
   * Hears how each fetch of a JWT provider's key set ended, background refreshes included,
   * and from which key server (its JWKS URI's host and port).
   */
  readonly onKeyFetch?: (result: KeyFetchResult, jwksHost: string) => void;
}

const TIER_NAME = /^[^\x00-\x1f\x7f]{1,128}$/;

/** Reads AI_GATEWAY_DEFAULT_TIER; a malformed value stops the process at startup. */
export function identityOptionsFromEnv(env: NodeJS.ProcessEnv = process.env): IdentityOptions {
  const raw = env[DEFAULT_TIER_ENV]?.trim();
  if (raw === undefined || raw === '') return { keySetTiming: DEFAULT_KEY_SET_TIMING };
  if (!TIER_NAME.test(raw)) {
    throw new Error(
      `${DEFAULT_TIER_ENV}: expected the name of a tier (one line, at most 128 characters)`,
    );
  }
  return { defaultTier: raw, keySetTiming: DEFAULT_KEY_SET_TIMING };
}
