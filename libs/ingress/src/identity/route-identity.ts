// What identity means for one route, worked out once per configuration version.
import type {
  GatewayConfig,
  JwtProviderConfig,
  RouteConfig,
  UserIdSource,
  UserTierConfig,
} from '@aigw/config';
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
  readonly sources: readonly UserIdSource[];
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
  const providers = providersFor(config, route);
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
  const named: UserTierConfig | undefined =
    defaultTierName === undefined ? undefined : tiers.find((t) => t.name === defaultTierName);
  const defaultTier = named ?? configuredDefaultTier(tiers);
  return {
    providers,
    jwtRequired,
    identityHeaders,
    sources: route.userIdentification.sources,
    tiers: new TierSelector(tiers, defaultTier),
    defaultTier,
    defaultTierMissing: defaultTierName !== undefined && tiers.length > 0 && !named,
  };
}

/**
 * Providers of every SecurityPolicy that targets the route, plus any provider its
 * userIdentification names (wherever that provider is declared). Names are unique among
 * the policies targeting one route: the loader refuses a configuration where they are not.
 */
function providersFor(config: GatewayConfig, route: RouteConfig): JwtProviderConfig[] {
  const found = new Map<string, JwtProviderConfig>();
  for (const policy of config.securityPolicies) {
    const targets = policy.targetRefs.some(
      (ref) => ref.kind === 'AIGatewayRoute' && ref.name === route.name,
    );
    if (targets) for (const provider of policy.jwtProviders) found.set(provider.name, provider);
  }
  for (const source of route.userIdentification.sources) {
    if (source.kind !== 'jwt' || found.has(source.provider)) continue;
    const named = config.securityPolicies
      .flatMap((policy) => policy.jwtProviders)
      .find((provider) => provider.name === source.provider);
    if (named) found.set(named.name, named);
  }
  return [...found.values()];
}

function unique(names: readonly string[]): string[] {
  return [...new Set(names.map((name) => name.toLowerCase()))];
}
