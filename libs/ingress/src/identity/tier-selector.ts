import type { UserTierConfig } from '@aigw/config';
import { timingSafeEqual } from 'node:crypto';
import { secretDigest } from '@aigw/runtime';
import { credentialUserKey, isCredentialHeader } from './credential-user-key';
import { headerText } from './header-text';

export type IncomingHeaders = Readonly<Record<string, string | string[] | undefined>>;

export type TierChoice =
  | { readonly kind: 'none' } // no tiers apply to the route
  | { readonly kind: 'tier'; readonly tier: UserTierConfig }
  | { readonly kind: 'unmatched' } // tiers apply, none matched, no default
  // JWT route: a client's tier header names a tier its token does not grant.
  | { readonly kind: 'not-granted'; readonly header: string };

/**
 * Picks a route's tier from request headers (read after claimToHeaders, so a verified
 * `plan` claim can select it). The first tier in order whose selector matches wins;
 * otherwise the default tier, if the route has one.
 *
 * On a JWT route (`tokenHeaders` given: the headers only a verified token sets) a header
 * the client sets cannot raise its tier: the token grants the first tier selected by a
 * token header, else the default. A client header naming another tier is refused, unless
 * that tier is `clientSelectable` (the configuration lets any caller choose it).
 */
export class TierSelector {
  private readonly selectors: readonly CompiledSelector[];
  private readonly tokenSelectors: readonly CompiledSelector[];
  private readonly clientSelectors: readonly CompiledSelector[];

  constructor(
    tiers: readonly UserTierConfig[],
    private readonly defaultTier: UserTierConfig | undefined,
    tokenHeaders?: readonly string[],
  ) {
    const setByToken = (header: string) => tokenHeaders?.includes(header) ?? false;
    this.selectors = tiers.map((tier) => compileSelector(tier, !setByToken(tier.selector.header)));
    const byToken = (s: CompiledSelector) => setByToken(s.tier.selector.header);
    this.tokenSelectors = tokenHeaders ? this.selectors.filter(byToken) : this.selectors;
    this.clientSelectors = tokenHeaders ? this.selectors.filter((s) => !byToken(s)) : [];
  }

  select(headers: IncomingHeaders): TierChoice {
    if (this.selectors.length === 0) return { kind: 'none' };
    const granted = firstMatch(this.tokenSelectors, headers) ?? this.defaultTier;
    const asked = firstMatch(this.clientSelectors, headers);
    if (asked && asked !== granted) {
      if (!asked.clientSelectable) return { kind: 'not-granted', header: asked.selector.header };
      return { kind: 'tier', tier: asked };
    }
    return granted ? { kind: 'tier', tier: granted } : { kind: 'unmatched' };
  }
}

/** The tier of the first selector matching the headers. */
function firstMatch(
  selectors: readonly CompiledSelector[],
  headers: IncomingHeaders,
): UserTierConfig | undefined {
  // Tiers mostly select on one header: its value is digested once, not once per tier.
  let digested: string | undefined;
  let digest: Buffer | undefined;
  for (const selector of selectors) {
    const value = firstValue(headers[selector.tier.selector.header]);
    const presented = value === undefined ? undefined : presentedValue(selector, value);
    if (presented === undefined) continue;
    if (digest === undefined || presented !== digested) {
      digest = secretDigest(presented);
      digested = presented;
    }
    if (timingSafeEqual(digest, selector.valueDigest)) return selector.tier;
  }
  return undefined;
}

const KEY_ID = /^key-[0-9a-f]{16}$/;

interface CompiledSelector {
  readonly tier: UserTierConfig;
  /** The selector value names a key by its id: compare the id of the key sent. */
  readonly byKeyId: boolean;
  /** Its header is the client's (not set from a verified claim): read its bytes as UTF-8. */
  readonly clientText: boolean;
  readonly valueDigest: Buffer;
}

/**
 * A selector on a credential header may name the key by its id (`key-…`, as metrics show
 * it), so configurations need not hold client keys: the id is then compared with the id of
 * the key sent, never with the raw value (else sending the id, which dashboards show,
 * would select the tier). Any other selector value is compared with the value sent (a
 * client's header read as UTF-8 where its bytes are, `clientText`).
 */
function compileSelector(tier: UserTierConfig, clientText: boolean): CompiledSelector {
  const { header, value } = tier.selector;
  return {
    tier,
    byKeyId: KEY_ID.test(value) && isCredentialHeader(header),
    clientText,
    valueDigest: secretDigest(value),
  };
}

// A selector value may be a raw API key, so it is compared as the admin and internal
// tokens are: digests in constant time (`select`), so timing tells a caller neither how many
// leading characters of a guess were right nor the key's length.
function presentedValue(selector: CompiledSelector, value: string): string | undefined {
  if (selector.byKeyId) return credentialUserKey(value);
  // As a user id header is read (header-text.ts): curl, Go and httpx send UTF-8.
  return selector.clientText ? headerText(value) : value;
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
