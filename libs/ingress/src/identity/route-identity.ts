// What identity means for one route, worked out once per configuration version.
import type {
  GatewayConfig,
  JwtProviderConfig,
  RouteConfig,
  UserIdSource,
  UserTierConfig,
} from '@aigw/config';
import { qualifiesBudgetKeys, routeJwtProviders } from '@aigw/budget-core';
import { credentialHeadersAmong } from './credential-headers';
import { TierSelector, configuredDefaultTier, tiersForRoute } from './tier-selector';

export interface RouteIdentityPlan {
  /** Providers whose tokens this route accepts; empty = no JWT on this route. */
  readonly providers: readonly JwtProviderConfig[];
  /**
   * JWT is required: a SecurityPolicy targets the route, or its userIdentification
   * names a JWT provider. A route that asks for JWT but whose provider is nowhere to be
   * found fails closed (every request 401) rather than silently trusting headers.
   */
  readonly jwtRequired: boolean;
  /** Client headers removed before anything reads them (identity spoofing). */
  readonly identityHeaders: readonly string[];
  /**
   * On a route without JWT, the credential headers its user source and tier selectors read:
   * each takes the key the client sent in another when it left that one out
   * (credential-headers.ts). Empty on JWT routes, where the token is read from any of them.
   */
  readonly credentialHeaders: readonly string[];
  readonly sources: readonly UserIdSource[];
  /**
   * The configuration identifies users more than one way: a caller's budget key carries
   * how this route identified it (user-budget-key.ts), so one id named two ways is two budgets.
   */
  readonly qualifiedBudgetKeys: boolean;
  readonly tiers: TierSelector;
  /** The tier requests matching no selector get (see planRoute); none: they get 403. */
  readonly defaultTier: UserTierConfig | undefined;
  /** Set when the process's defaultTier names no tier of this route while the route has tiers. */
  readonly defaultTierMissing: boolean;
}

/**
 * The default tier (for requests matching no selector): the tier the process setting
 * names, when the route has a tier of that name; else the route's own tier marked
 * `default: true`; else the global one, unless the route redefines it by name.
 */
export function planRoute(
  config: GatewayConfig,
  route: RouteConfig,
  defaultTierName: string | undefined,
): RouteIdentityPlan {
  const providers = routeJwtProviders(config, route);
  const jwtRequired =
    providers.length > 0 || route.userIdentification.sources.some((s) => s.kind === 'jwt');
  const identityHeaders = jwtRequired
    ? unique([
        ...config.securityPolicies.flatMap((policy) =>
          policy.jwtProviders.flatMap((p) => p.claimToHeaders.map((m) => m.header)),
        ),
        ...route.userIdentification.sources.flatMap((s) => (s.kind === 'header' ? [s.header] : [])),
      ])
    : [];
  const tiers = tiersForRoute(route.userTiers, config.userTiers);
  const credentialHeaders = jwtRequired
    ? []
    : credentialHeadersAmong([
        ...route.userIdentification.sources.flatMap((s) => (s.kind === 'header' ? [s.header] : [])),
        ...tiers.map((tier) => tier.selector.header),
      ]);
  const named: UserTierConfig | undefined =
    defaultTierName === undefined ? undefined : tiers.find((t) => t.name === defaultTierName);
  const defaultTier = named ?? configuredDefaultTier(tiers);
  return {
    providers,
    jwtRequired,
    identityHeaders,
    credentialHeaders,
    sources: route.userIdentification.sources,
    qualifiedBudgetKeys: qualifiesBudgetKeys(config),
    // On a JWT route only the identity headers are the token's (the client's are removed).
    tiers: new TierSelector(tiers, defaultTier, jwtRequired ? identityHeaders : undefined),
    defaultTier,
    defaultTierMissing: defaultTierName !== undefined && tiers.length > 0 && !named,
  };
}

function unique(names: readonly string[]): string[] {
  return [...new Set(names.map((name) => name.toLowerCase()))];
}
