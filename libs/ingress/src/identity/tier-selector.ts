import type { UserTierConfig } from '@aigw/config';
import { credentialUserKey, isCredentialHeader } from './credential-user-key';

export type IncomingHeaders = Readonly<Record<string, string | string[] | undefined>>;

export type TierChoice =
  | { readonly kind: 'none' } // no tiers apply to the route
  | { readonly kind: 'tier'; readonly tier: UserTierConfig }
  | { readonly kind: 'unmatched' }; // tiers apply, none matched, no default

/**
 * Picks a route's tier from request headers (read after claimToHeaders, so a verified
 * `plan` claim can select it). The first tier in order whose selector matches wins;
 * otherwise the default tier, if the route has one.
 */
export class TierSelector {
  constructor(
    private readonly tiers: readonly UserTierConfig[],
    private readonly defaultTier: UserTierConfig | undefined,
  ) {}

  select(headers: IncomingHeaders): TierChoice {
    if (this.tiers.length === 0) return { kind: 'none' };
    for (const tier of this.tiers) {
      if (selects(tier.selector, firstValue(headers[tier.selector.header]))) {
        return { kind: 'tier', tier };
      }
    }
    return this.defaultTier ? { kind: 'tier', tier: this.defaultTier } : { kind: 'unmatched' };
  }
}

const KEY_ID = /^key-[0-9a-f]{16}$/;

/**
 * A selector on a credential header may name the key by its id (`key-…`, as metrics show
 * it), so configurations need not hold client keys: the id is then compared with the id of
 * the key sent, never with the raw value (else sending the id, which dashboards show,
 * would select the tier). Any other selector value is compared as sent.
 */
function selects(selector: UserTierConfig['selector'], value: string | undefined): boolean {
  if (value === undefined) return false;
  if (KEY_ID.test(selector.value) && isCredentialHeader(selector.header)) {
    return credentialUserKey(value) === selector.value;
  }
  return value === selector.value;
}

export function firstValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

/**
 * The tiers that apply to a route: its own first, then the global ones it does not
 * redefine by name.
 */
export function tiersForRoute(
  routeTiers: readonly UserTierConfig[],
  globalTiers: readonly UserTierConfig[],
): readonly UserTierConfig[] {
  if (globalTiers.length === 0) return routeTiers;
  const own = new Set(routeTiers.map((tier) => tier.name));
  return [...routeTiers, ...globalTiers.filter((tier) => !own.has(tier.name))];
}

/**
 * The tier marked `default: true` in a route's tier list (see tiersForRoute): its own
 * comes first, so it wins over the global one.
 */
export function configuredDefaultTier(
  tiers: readonly UserTierConfig[],
): UserTierConfig | undefined {
  return tiers.find((tier) => tier.default);
}
