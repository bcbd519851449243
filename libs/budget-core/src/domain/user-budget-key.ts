// Whose budget a user key names. A user id is only unique within the way it was found: a
// JWT's `sub` within its issuer, a header within whatever its clients choose to send. Where
// a configuration identifies users more than one way, a header-route caller could name the
// `sub` of a JWT user and spend that user's budget, so each way gets its own key space.
import { createHash } from 'node:crypto';
import type { GatewayConfig, JwtProviderConfig, RouteConfig } from '@aigw/config';
import { MAX_NAME_LENGTH } from '@aigw/contracts';

/** The user key of a caller no source named. */
export const ANONYMOUS_USER_KEY = 'anonymous';

/** Headers that carry a client's credential (lowercase, as userIdentification stores them). */
const CREDENTIAL_HEADERS: ReadonlySet<string> = new Set([
  'authorization',
  'proxy-authorization',
  'x-api-key',
  'api-key',
  'x-goog-api-key',
]);

export function isCredentialHeader(header: string): boolean {
  return CREDENTIAL_HEADERS.has(header.toLowerCase());
}

/**
 * A part of an identification: `%` and `:` escaped, so an identification has a fixed
 * number of `:`-separated parts and `<identification>:<user key>` cannot be read two ways.
 */
function part(text: string): string {
  return text.replace(/%/g, '%25').replace(/:/g, '%3A');
}

/** Users named by a claim of the tokens one JWT provider verified: `jwt:<provider>:<claim>`. */
export function jwtIdentification(provider: string, claim: string): string {
  return `jwt:${part(provider)}:${part(claim)}`;
}

/**
 * Users named by a header their clients set: `header:<name>`. Every credential header is
 * one identification, `apikey` (one key is one user in `Authorization` or `x-api-key`).
 */
export function headerIdentification(header: string): string {
  return isCredentialHeader(header) ? 'apikey' : `header:${part(header.toLowerCase())}`;
}

/**
 * Providers of every SecurityPolicy that targets the route, plus any provider its
 * userIdentification names (wherever that provider is declared). Names are unique among
 * the policies targeting one route: the loader refuses a configuration where they are not.
 */
export function routeJwtProviders(config: GatewayConfig, route: RouteConfig): JwtProviderConfig[] {
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

/**
 * The claim a provider sets `header` from on a JWT route (the last mapping wins, as
 * applyClaimHeaders applies them), or undefined when it sets no such header.
 */
export function claimOfHeader(provider: JwtProviderConfig, header: string): string | undefined {
  let claim: string | undefined;
  for (const mapping of provider.claimToHeaders) {
    if (mapping.header.toLowerCase() === header) claim = mapping.claim;
  }
  return claim;
}

/**
 * The identifications a route's user keys may come from. On a JWT route a header source
 * holds only what a verified claim set (the client's own header is removed), so it is that
 * provider's claim, and shares the key space of routes naming the claim itself.
 */
function routeIdentifications(config: GatewayConfig, route: RouteConfig): string[] {
  const providers = routeJwtProviders(config, route);
  const sources = route.userIdentification.sources;
  const jwtRequired = providers.length > 0 || sources.some((s) => s.kind === 'jwt');
  const found = new Set<string>();
  for (const source of sources) {
    if (source.kind === 'jwt') {
      found.add(jwtIdentification(source.provider, source.claim));
    } else if (!jwtRequired) {
      found.add(headerIdentification(source.header));
    } else {
      for (const provider of providers) {
        const claim = claimOfHeader(provider, source.header);
        if (claim !== undefined) found.add(jwtIdentification(provider.name, claim));
      }
    }
  }
  return [...found];
}

const identificationsByRoute = new WeakMap<RouteConfig, readonly string[]>();

/** routeIdentifications, worked out once per route. */
function identificationsOf(config: GatewayConfig, route: RouteConfig): readonly string[] {
  let found = identificationsByRoute.get(route);
  if (!found) {
    found = routeIdentifications(config, route);
    identificationsByRoute.set(route, found);
  }
  return found;
}

const identificationsByConfig = new WeakMap<GatewayConfig, ReadonlySet<string>>();

/** Every identification of the configuration's routes (worked out once per configuration). */
export function configIdentifications(config: GatewayConfig): ReadonlySet<string> {
  let found = identificationsByConfig.get(config);
  if (!found) {
    found = new Set(config.routes.flatMap((route) => identificationsOf(config, route)));
    identificationsByConfig.set(config, found);
  }
  return found;
}

/**
 * Whether budget keys carry their identification: only where the configuration identifies
 * users more than one way. With one way (the common case) a budget key is the user key
 * itself, as it always was, so balances kept before an upgrade stay the callers'.
 */
export function qualifiesBudgetKeys(config: GatewayConfig): boolean {
  return configIdentifications(config).size > 1;
}

/**
 * `<identification>:<user key>`: the budget key of a user one identification named. One
 * longer than the events' names may be (MAX_NAME_LENGTH: a user key near it) is its
 * SHA-256 instead, `sha256:<64 hex>`: still that user's alone, and never a qualified key.
 */
export function qualifiedBudgetKey(identification: string, userKey: string): string {
  const key = `${identification}:${userKey}`;
  if (key.length <= MAX_NAME_LENGTH) return key;
  return `sha256:${createHash('sha256').update(key, 'utf8').digest('hex')}`;
}

/**
 * The budget key of a user a usage event names by id alone (events of older builds carry
 * no budget key; a batch bill's names this one, batchBudgetKey): the id where users are
 * identified one way, as it always was; else qualified by the one identification of the
 * route that served it, so a budget rebuild after an upgrade charges the budgets read now.
 * A route identifying users more than one way cannot say which: the id, as before.
 */
export function impliedBudgetKey(
  config: GatewayConfig,
  route: RouteConfig,
  userKey: string,
): string {
  if (!qualifiesBudgetKeys(config) || userKey === ANONYMOUS_USER_KEY) return userKey;
  const identifications = identificationsOf(config, route);
  return identifications.length === 1 ? qualifiedBudgetKey(identifications[0], userKey) : userKey;
}

/** A budget key and the routes whose limits bind it. */
export interface NamedBudget {
  readonly budgetKey: string;
  readonly routes: readonly RouteConfig[];
}

/**
 * The budgets an operator's name for a user stands for (the budget admin API): with one
 * identification, the user key itself on every route. With several, a qualified key
 * (`jwt:auth0:sub:alice`) names that one budget, on the routes of its identification; a
 * plain user key (`alice`) names that id's budget under each identification, since an
 * operator who says "alice" means whoever is called alice. `anonymous` is never qualified.
 */
export function budgetsNamed(config: GatewayConfig, name: string): NamedBudget[] {
  const identifications = configIdentifications(config);
  if (identifications.size <= 1 || name === ANONYMOUS_USER_KEY) {
    return [{ budgetKey: name, routes: config.routes }];
  }
  const routesOf = (identification: string) =>
    config.routes.filter((route) => identificationsOf(config, route).includes(identification));
  const named = [...identifications].find((id) => name.startsWith(`${id}:`));
  if (named) return [{ budgetKey: name, routes: routesOf(named) }];
  return [...identifications].map((identification) => ({
    budgetKey: qualifiedBudgetKey(identification, name),
    routes: routesOf(identification),
  }));
}
