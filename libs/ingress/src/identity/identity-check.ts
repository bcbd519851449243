// Configuration problems the identity step can spot ahead of traffic. The config
// library validates shapes; these need the identity rules, so they live here.
import type { GatewayConfig, JwtProviderConfig, UserTierConfig } from '@aigw/config';
import { DEFAULT_TIER_ENV, type IdentityOptions } from './identity-options';
import { planRoute, type RouteIdentityPlan } from './route-identity';
import { configuredDefaultTier, tiersForRoute } from './tier-selector';

/** Human-readable problems (no secrets in them); empty when all is well. */
export function identityConfigProblems(
  config: GatewayConfig,
  options: IdentityOptions = {},
): string[] {
  const problems: string[] = [];
  const providerNames = new Set(
    config.securityPolicies.flatMap((policy) => policy.jwtProviders.map((p) => p.name)),
  );
  const allTierNames = new Set([
    ...config.userTiers.map((t) => t.name),
    ...config.routes.flatMap((r) => r.userTiers.map((t) => t.name)),
  ]);
  const globalDefault = configuredDefaultTier(config.userTiers)?.name;
  problems.push(...sharedProviderNames(config));
  if (options.defaultTier !== undefined && !allTierNames.has(options.defaultTier)) {
    problems.push(`${DEFAULT_TIER_ENV} names tier "${options.defaultTier}", which no route has`);
  }
  for (const route of config.routes) {
    const plan = planRoute(config, route, options.defaultTier);
    for (const source of route.userIdentification.sources) {
      if (source.kind === 'jwt' && !providerNames.has(source.provider)) {
        problems.push(
          `route "${route.name}" identifies users by JWT provider "${source.provider}", which no SecurityPolicy declares: every request to it will get 401`,
        );
      }
    }
    const unmatched = plan.defaultTier
      ? `the configured default tier "${plan.defaultTier.name}"`
      : '403';
    if (plan.defaultTierMissing && allTierNames.has(options.defaultTier ?? '')) {
      problems.push(
        `route "${route.name}" has no tier "${options.defaultTier}": its requests matching no tier get ${unmatched}`,
      );
    }
    if (
      globalDefault &&
      !plan.defaultTier &&
      route.userTiers.some((t) => t.name === globalDefault)
    ) {
      problems.push(
        `route "${route.name}" redefines tier "${globalDefault}", the global default, without default: true: its requests matching no tier get 403`,
      );
    }
    if (!plan.jwtRequired) continue;
    // A client's own identity headers are removed on a JWT route: a header source only names
    // a user when one of the route's providers sets it from a verified claim.
    const claimHeaders = new Set(
      plan.providers.flatMap((provider) => provider.claimToHeaders.map((m) => m.header)),
    );
    const namesUsers = plan.sources.some(
      (source) => source.kind === 'jwt' || claimHeaders.has(source.header),
    );
    if (!namesUsers) {
      const headers = plan.sources.flatMap((source) =>
        source.kind === 'header' ? [source.header] : [],
      );
      problems.push(
        `route "${route.name}" requires JWT, but identifies users by header ${headers.join(', ')}, which no claimToHeaders of its JWT providers sets (a client's own is removed): every caller's user key is "anonymous", one budget and one owner of stored responses and files; map a claim (sub) to that header, or set userIdentification.jwt`,
      );
    } else {
      problems.push(...unnamedProviderProblems(route.name, plan));
    }
    const tiers = tiersForRoute(route.userTiers, config.userTiers);
    problems.push(...clientTierHeaderProblems(route.name, plan, tiers));
  }
  return problems;
}

/**
 * On a JWT route a tier whose selector header the client sets: not honoured unless the tier
 * is `clientSelectable` (tier-selector.ts), said either way so the log tells what happens.
 */
function clientTierHeaderProblems(
  routeName: string,
  plan: RouteIdentityPlan,
  tiers: readonly UserTierConfig[],
): string[] {
  const problems: string[] = [];
  for (const tier of tiers) {
    const header = tier.selector.header;
    if (plan.identityHeaders.includes(header)) continue;
    problems.push(
      tier.clientSelectable
        ? `route "${routeName}" requires JWT, and tier "${tier.name}" is clientSelectable: any caller may choose it with header ${header}, whatever its token grants`
        : `route "${routeName}" requires JWT, but tier "${tier.name}" is selected by header ${header}, which clients can set: that header does not choose the tier there (the token's claims or the default tier do; a request whose ${header} names a tier its token does not grant gets 403); map a claim to it with claimToHeaders, or set clientSelectable: true on the tier to let any caller choose it`,
    );
  }
  return problems;
}

/**
 * A route several providers' tokens pass, whose sources read users from some of them only
 * (userIdentification.jwt names one provider; a header only some map a claim to): the
 * others' callers are all `anonymous`, sharing one budget and one owner of stored objects.
 */
function unnamedProviderProblems(routeName: string, plan: RouteIdentityPlan): string[] {
  const readsUsersOf = (provider: JwtProviderConfig) =>
    plan.sources.some((source) =>
      source.kind === 'jwt'
        ? source.provider === provider.name
        : provider.claimToHeaders.some((m) => m.header === source.header),
    );
  const described = plan.sources
    .map((source) =>
      source.kind === 'jwt'
        ? `claim ${source.claim} of provider "${source.provider}"`
        : `header ${source.header}`,
    )
    .join(' and ');
  const header = plan.sources.find((source) => source.kind === 'header');
  return plan.providers
    .filter((provider) => !readsUsersOf(provider))
    .map((provider) => {
      const fix = header
        ? `map a claim (sub) of "${provider.name}" to header ${header.header}`
        : `identify users by a header each provider sets from a claim (claimToHeaders)`;
      return `route "${routeName}" accepts tokens of JWT provider "${provider.name}", but reads users from ${described}, none of which its tokens set: every caller with its token is "anonymous", one budget and one owner of stored responses and files; ${fix}`;
    });
}

/**
 * JWT providers of one name with different issuers: user keys (and budget keys,
 * `jwt:<provider>:<claim>:<id>`) name a provider, not its issuer, so one `sub` issued by
 * each would be one user, one budget.
 */
function sharedProviderNames(config: GatewayConfig): string[] {
  const byName = new Map<string, { issuers: Set<string>; policies: string[] }>();
  for (const policy of config.securityPolicies) {
    for (const provider of policy.jwtProviders) {
      const seen = byName.get(provider.name) ?? { issuers: new Set<string>(), policies: [] };
      seen.issuers.add(provider.issuer);
      seen.policies.push(policy.name);
      byName.set(provider.name, seen);
    }
  }
  return [...byName]
    .filter(([, seen]) => seen.issuers.size > 1)
    .map(
      ([name, seen]) =>
        `JWT providers named "${name}" (SecurityPolicies ${seen.policies.join(', ')}) have different issuers, but users and budgets are keyed by provider name: a subject of one issuer is the same user as that subject of the other; give each provider its own name`,
    );
}

/** Where identity problems are told: the process's configuration, its reloads and log. */
export interface IdentityProblemsSink {
  readonly config: () => GatewayConfig;
  onConfigReload(listener: (config: GatewayConfig) => void): void;
  readonly logger: { warn(message: string): void };
}

/**
 * Logs the identity problems of the configuration in force now and of every reloaded one,
 * in each process that identifies callers (the all-in-one gateway, the split ingress): an
 * edit that makes a JWT route anonymous is said when it applies, not at the next restart.
 */
export function warnIdentityConfigProblems(
  sink: IdentityProblemsSink,
  options: IdentityOptions = {},
): void {
  const warn = (config: GatewayConfig) => {
    for (const problem of identityConfigProblems(config, options)) {
      sink.logger.warn(`identity: ${problem}`);
    }
  };
  warn(sink.config());
  sink.onConfigReload(warn);
}
