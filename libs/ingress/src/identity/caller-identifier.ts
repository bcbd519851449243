import {
  ANONYMOUS_USER_KEY,
  headerIdentification,
  jwtIdentification,
  qualifiedBudgetKey,
} from '@aigw/budget-core';
import type { GatewayConfig, JwtProviderConfig, RouteConfig, UserIdSource } from '@aigw/config';
import { MAX_NAME_LENGTH } from '@aigw/contracts';
import { DataPlaneError, type CallerContext } from '@aigw/contracts/data-plane';
import { presentedToken } from './bearer-token';
import { applyClaimHeaders } from './claim-headers';
import { withCredentialInHeaders } from './credential-headers';
import { credentialsIn, credentialUserKey, isCredentialHeader } from './credential-user-key';
import { headerText } from './header-text';
import {
  conflictingCredentials,
  IdentityRejection,
  KeysUnavailable,
  keysUnavailable,
  noTierMatched,
  noUserClaim,
  tierNotGranted,
  unauthenticated,
  unusableUserClaim,
  userKeyTooLong,
} from './identity.errors';
import type { IdentityOptions } from './identity-options';
import { CLOCK_TOLERANCE_SECONDS } from './jwt-policy';
import { claimedIssuer, ProviderVerifier, type VerifiedToken } from './jwt-verifier';
import { RemoteKeySet } from './remote-key-set';
import { planRoute, type RouteIdentityPlan } from './route-identity';
import { firstValue, type IncomingHeaders } from './tier-selector';
import { userClaim } from './user-claim';
import { VerifiedTokenCache } from './verified-token-cache';

/** Who the caller is and what its tier lets it use. */
export interface CallerIdentity {
  readonly caller: CallerContext;
  /** The tier's allowedModels; empty = any model. */
  readonly allowedModels: readonly string[];
  /**
   * The client's headers as identity left them: on JWT routes without the identity
   * headers the client sent, with the verified claims' headers instead. The route's
   * stripHeaders still apply before anything is forwarded.
   */
  readonly headers: IncomingHeaders;
  /**
   * Headers (lowercase) the gateway itself owns on this route: on a JWT route, every
   * claimToHeaders header and userIdentification header. They carry the caller's identity
   * (often an email) for the gateway's own policies and are never sent to a provider.
   */
  readonly gatewayHeaders: readonly string[];
  /**
   * When the credential that identified the caller expires (Unix seconds): a verified
   * JWT's `exp`. Absent for callers not identified by a JWT. What is minted from this
   * identity (a Realtime client secret) must not outlive it.
   */
  readonly credentialExpiresAt?: number;
}

interface RoutePlan extends RouteIdentityPlan {
  readonly verifiers: readonly ProviderVerifier[];
}

/** Everything derived from one configuration version. */
interface ConfigState {
  readonly config: GatewayConfig;
  readonly plans: Map<RouteConfig, RoutePlan>;
  readonly tokens: VerifiedTokenCache<JwtProviderConfig>;
}

/**
 * The identity step of ingress: JWT verification and claimToHeaders, user key, tier.
 * Synchronous for routes without JWT and for tokens already verified; a promise only
 * when a signature must be checked (or keys fetched).
 */
export class CallerIdentifier {
  private state?: ConfigState;
  /** By JWKS URI, kept across configuration reloads so a reload does not refetch keys. */
  private keySets = new Map<string, RemoteKeySet>();

  constructor(
    private readonly config: () => GatewayConfig,
    private readonly options: IdentityOptions = {},
  ) {}

  identify(headers: IncomingHeaders, route: RouteConfig): CallerIdentity | Promise<CallerIdentity> {
    if (!this.options.onRefusal) return this.identifyWithoutTelling(headers, route);
    // Told here, where every endpoint's callers pass, so no endpoint's refusals go uncounted.
    try {
      const identity = this.identifyWithoutTelling(headers, route);
      return identity instanceof Promise ? identity.catch(this.tellRefusal) : identity;
    } catch (error) {
      return this.tellRefusal(error);
    }
  }

  /**
   * Throws `error`, a refusal found by identifyWithoutTelling's looks that the request now
   * gets as its answer, telling onRefusal as identify would have.
   */
  refuse(error: unknown): never {
    return this.tellRefusal(error);
  }

  /** Whether `route` takes only callers with a verified JWT (see RouteIdentityPlan). */
  requiresJwt(route: RouteConfig): boolean {
    return this.planFor(this.current(), route).jwtRequired;
  }

  /** Tells onRefusal of a refusal and throws it on; made once, as every request passes here. */
  private readonly tellRefusal = (error: unknown): never => {
    if (error instanceof DataPlaneError) this.options.onRefusal?.(error);
    throw error;
  };

  /**
   * As identify, without telling onRefusal: for a look that takes a refusal to mean "not
   * this caller's" (is a listed record the caller's on its own route?), where the request
   * itself is not refused.
   */
  identifyWithoutTelling(
    headers: IncomingHeaders,
    route: RouteConfig,
  ): CallerIdentity | Promise<CallerIdentity> {
    const state = this.current();
    const plan = this.planFor(state, route);
    if (!plan.jwtRequired) return finish(plan, headers, undefined);

    const token = presentedToken(headers);
    if (token.kind === 'conflicting') throw conflictingCredentials(token.headers);
    if (token.kind !== 'token') {
      throw unauthenticated(token.kind === 'missing' ? 'missing-token' : 'malformed-token');
    }
    const cached = state.tokens.get(token.value);
    // The very provider object, not its name: two SecurityPolicies may each declare a
    // provider "corp" with its own issuer and audiences, and a token one of them verified
    // must not pass the other's routes.
    const cachedVerifier = cached && plan.verifiers.find((v) => v.provider === cached.provider);
    if (cached && cachedVerifier) {
      return finish(plan, headers, { provider: cachedVerifier.provider, claims: cached.claims });
    }
    return verify(plan, token.value).then((verified) => {
      state.tokens.set(
        token.value,
        verified.provider,
        verified.claims,
        CLOCK_TOLERANCE_SECONDS * 1000,
      );
      return finish(plan, headers, verified);
    });
  }

  private current(): ConfigState {
    const config = this.config();
    if (this.state?.config !== config) {
      this.state = {
        config,
        plans: new Map(),
        tokens: new VerifiedTokenCache<JwtProviderConfig>(
          this.options.verifiedTokenCacheSize,
          this.options.verifiedTokenMaxAgeMs,
        ),
      };
      this.pruneKeySets(config);
    }
    return this.state;
  }

  private planFor(state: ConfigState, route: RouteConfig): RoutePlan {
    let plan = state.plans.get(route);
    if (!plan) {
      const base = planRoute(state.config, route, this.options.defaultTier);
      plan = { ...base, verifiers: base.providers.map((p) => this.verifierFor(p)) };
      state.plans.set(route, plan);
    }
    return plan;
  }

  private verifierFor(provider: JwtProviderConfig): ProviderVerifier {
    let keys = this.keySets.get(provider.jwksUri);
    if (!keys) {
      keys = new RemoteKeySet(provider.jwksUri, this.options.keySetTiming, {
        ...(this.options.onKeyFetch && { onFetch: this.options.onKeyFetch }),
      });
      this.keySets.set(provider.jwksUri, keys);
    }
    return new ProviderVerifier(provider, keys);
  }

  private pruneKeySets(config: GatewayConfig): void {
    const inUse = new Set(
      config.securityPolicies.flatMap((policy) => policy.jwtProviders.map((p) => p.jwksUri)),
    );
    this.keySets = new Map([...this.keySets].filter(([uri]) => inUse.has(uri)));
  }
}

/** Tries the providers whose issuer the token claims; the first that verifies it wins. */
async function verify(plan: RoutePlan, token: string): Promise<VerifiedToken> {
  const verifiers =
    plan.verifiers.length === 1
      ? plan.verifiers
      : plan.verifiers.filter((v) => v.provider.issuer === claimedIssuer(token));
  if (plan.verifiers.length === 0) throw unauthenticated('provider-not-configured');
  if (verifiers.length === 0) throw unauthenticated('unknown-issuer');
  let rejection: IdentityRejection | undefined;
  let keysMissing: KeysUnavailable | undefined;
  for (const verifier of verifiers) {
    try {
      return await verifier.verify(token);
    } catch (error) {
      if (error instanceof KeysUnavailable) keysMissing = error;
      else rejection = error instanceof IdentityRejection ? error : undefined;
    }
  }
  // A provider whose keys could not be fetched might have accepted the token: that is the
  // gateway's failure to answer, not the caller's, so 503 with Retry-After, not 401.
  if (keysMissing) throw keysUnavailable(keysMissing.failure);
  throw unauthenticated(rejection?.reason ?? 'malformed-token');
}

function finish(
  plan: RouteIdentityPlan,
  incoming: IncomingHeaders,
  verified: VerifiedToken | undefined,
): CallerIdentity {
  let headers = incoming;
  if (plan.jwtRequired) {
    const own = withoutIdentityHeaders(incoming, plan.identityHeaders);
    if (verified) applyClaimHeaders(own, verified.claims, verified.provider.claimToHeaders);
    headers = own;
  } else if (plan.credentialHeaders.length > 0) {
    headers = withCredentialInHeaders(incoming, plan.credentialHeaders);
  }

  // Who, before what they may use: a token naming no user is a 401, not a tier's 403.
  const user = identifiedUser(plan, headers, verified);
  const choice = plan.tiers.select(headers);
  if (choice.kind === 'unmatched') throw noTierMatched();
  if (choice.kind === 'not-granted') throw tierNotGranted(choice.header);
  const tier = choice.kind === 'tier' ? choice.tier : undefined;
  return {
    caller: {
      userKey: user.userKey,
      ...(user.budgetKey === undefined ? {} : { budgetKey: user.budgetKey }),
      ...(tier ? { tier: tier.name } : {}),
    },
    allowedModels: tier?.allowedModels ?? [],
    headers,
    gatewayHeaders: plan.identityHeaders,
    ...(typeof verified?.claims.exp === 'number'
      ? { credentialExpiresAt: verified.claims.exp }
      : {}),
  };
}

function withoutIdentityHeaders(
  incoming: IncomingHeaders,
  identityHeaders: readonly string[],
): Record<string, string | string[] | undefined> {
  const copy: Record<string, string | string[] | undefined> = {};
  for (const [name, value] of Object.entries(incoming)) {
    if (!identityHeaders.includes(name.toLowerCase())) copy[name] = value;
  }
  return copy;
}

/** Who the caller is: the user key, and its budget key when that is not the user key. */
interface IdentifiedUser {
  readonly userKey: string;
  readonly budgetKey?: string;
}

/**
 * The first userIdentification source that yields a value, in configured order; its
 * budget key, where the configuration identifies users more than one way, says which
 * source that was (user-budget-key.ts).
 */
function identifiedUser(
  plan: RouteIdentityPlan,
  headers: IncomingHeaders,
  verified: VerifiedToken | undefined,
): IdentifiedUser {
  let claimsRead: string[] | undefined;
  for (const source of plan.sources) {
    const found = sourceValue(plan, source, headers, verified);
    if (found?.claim) (claimsRead ??= []).push(found.claim.name);
    const value = found?.value;
    if (value && value.length > MAX_NAME_LENGTH) {
      throw userKeyTooLong(
        source.kind === 'jwt' ? `claim '${source.claim}'` : `header '${source.header}'`,
      );
    }
    if (!value) continue;
    if (!plan.qualifiedBudgetKeys) return { userKey: value };
    const identification = found.claim
      ? jwtIdentification(found.claim.provider, found.claim.name)
      : headerIdentification(found.header ?? '');
    return { userKey: value, budgetKey: qualifiedBudgetKey(identification, value) };
  }
  // The route reads users from this provider's tokens, and this one names none (a scope
  // left out when it was requested, say): refused, or its holder would escape its own
  // budget into the one all anonymous callers share, and read what they stored.
  if (claimsRead) throw noUserClaim([...new Set(claimsRead)]);
  return { userKey: ANONYMOUS_USER_KEY };
}

/** What one source says the user is, and the verified claim it came from, if one. */
interface SourceValue {
  readonly value: string | undefined;
  readonly claim?: { readonly provider: string; readonly name: string };
  /** The client's header it came from (no JWT on the route). */
  readonly header?: string;
}

/**
 * A JWT source reads its claim of the token its provider verified. A header source on a
 * JWT route holds only what the verifying provider's claimToHeaders set (the client's own
 * was removed), so it reads that claim as a JWT source does, not the header-safe copy:
 * a claim that cannot name one user is refused here (userClaim). Elsewhere, the header.
 */
function sourceValue(
  plan: RouteIdentityPlan,
  source: UserIdSource,
  headers: IncomingHeaders,
  verified: VerifiedToken | undefined,
): SourceValue | undefined {
  if (source.kind === 'jwt') {
    if (verified?.provider.name !== source.provider) return undefined;
    return claimedUser(verified, source.claim);
  }
  if (plan.jwtRequired) return verified && headerClaimUser(verified, source.header);
  const header = source.header;
  return { value: headerUserKey(header, firstValue(headers[header])), header };
}

function claimedUser(verified: VerifiedToken, claim: string): SourceValue {
  const named = userClaim(verified.claims, claim);
  if (named.kind === 'unusable') throw unusableUserClaim(claim);
  return {
    value: named.kind === 'user' ? named.value : undefined,
    claim: { provider: verified.provider.name, name: claim },
  };
}

/**
 * The claim that set `header` from this token: of the provider's mappings to it, the last
 * whose claim the token carries (applyClaimHeaders lets a later mapping overwrite).
 */
function headerClaimUser(verified: VerifiedToken, header: string): SourceValue | undefined {
  const mappings = verified.provider.claimToHeaders.filter((m) => m.header === header);
  if (mappings.length === 0) return undefined; // this provider never sets it
  for (let i = mappings.length - 1; i >= 0; i--) {
    if (userClaim(verified.claims, mappings[i].claim).kind !== 'absent') {
      return claimedUser(verified, mappings[i].claim);
    }
  }
  return claimedUser(verified, mappings[mappings.length - 1].claim); // absent: no user
}

/**
 * A credential header's value becomes `key-<hash>`: the raw key must never be a user key.
 * Any other is the user id as its client wrote it (UTF-8 bytes read as UTF-8).
 */
function headerUserKey(header: string, value: string | undefined): string | undefined {
  if (!value) return value;
  if (!isCredentialHeader(header)) return headerText(value);
  // The header sent twice with two keys: a proxy in front may have checked either.
  if (credentialsIn(value).length > 1) throw conflictingCredentials([header.toLowerCase()]);
  return credentialUserKey(value);
}
