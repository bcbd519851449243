// Turns a validated AIGatewayRoute spec into RouteConfig with every default filled.
import { type PathSegment } from '../domain/config-issue';
import {
  CACHE_KEY_COMPONENTS,
  type CacheKeyComponent,
  type CachingConfig,
  type CostControlConfig,
  type DeduplicationConfig,
  type PayloadLoggingConfig,
  type FailoverConfig,
  type FailoverTrigger,
  type FallbackStrategy,
  type LoadBalancingConfig,
  type LoadBalancingStrategy,
  type MediaUrlsConfig,
  type ModelCost,
  type PriceTier,
  type RequestCost,
  type RequestCostType,
  type RetryConfig,
  type RouteConfig,
  type ResponseValidationConfig,
  type SecurityConfig,
  type TokenBudgetConfig,
  type TokenRateLimitConfig,
  type UserIdentificationConfig,
  type UserIdSource,
} from '../domain/gateway-config';
import { parseByteSize, parseDuration, parsePeriod } from '../domain/units';
import { type RouteSpecDto } from '../schema/route.dto';
import {
  type CostControlDto,
  type FailoverDto,
  type LoadBalancingDto,
  type ModelPricingDto,
  type PerModelRateLimitDto,
  type PriceTierDto,
  type TokenBudgetDto,
  type TokenRateLimitDto,
  type UserIdentificationDto,
} from '../schema/policy.dto';
import {
  type CachingDto,
  type DeduplicationDto,
  type MediaUrlsDto,
  type PayloadLoggingDto,
  type RetryDto,
  type ResponseValidationDto,
  type SecurityDto,
} from '../schema/traffic.dto';
import { normalizeBackends, type BackendContext } from './normalize-backends';
import { normalizeRedact } from './normalize-redact';
import { normalizeUserTiers } from './normalize-user-tiers';

export const DEFAULT_FAILOVER_TRIGGERS: readonly FailoverTrigger[] = [
  'rateLimit',
  'timeout',
  'error',
];
/** lowest-latency's share of calls spread by weight when the route does not say. */
export const DEFAULT_EXPLORATION_PERCENT = 5;
export const DEFAULT_USER_HEADER = 'x-user-id';
export const DEFAULT_CACHE_TTL_MS = 3_600_000;
export const DEFAULT_DEDUP_WINDOW_MS = 1_000;
/** Everything that changes a completion except the user: safe to share between users. */
export const DEFAULT_KEY_COMPONENTS: readonly CacheKeyComponent[] = CACHE_KEY_COMPONENTS.filter(
  (c) => c !== 'user',
);

type Ctx = BackendContext;

export function normalizeRoute(
  name: string,
  spec: RouteSpecDto,
  base: readonly PathSegment[],
  ctx: Ctx,
): RouteConfig {
  const at = (...rest: PathSegment[]) => [...base, ...rest];
  const backends = normalizeBackends(spec.backends ?? [], at('backends'), ctx);
  if ((spec.backends ?? []).length === 0) {
    ctx.report.warn(ctx.doc, base, `route "${name}" has no backends: it serves no models`);
  }
  const route: RouteConfig = {
    name,
    backends,
    failover: failover(spec.failover),
    loadBalancing: loadBalancing(spec.loadBalancing, at('loadBalancing'), ctx),
    llmRequestCosts: requestCosts(spec, at('llmRequestCosts'), ctx),
    modelCosts: modelCosts(spec, at('modelCosts'), ctx),
    ...optional(
      'tokenBudget',
      spec.tokenBudget && tokenBudget(spec.tokenBudget, at('tokenBudget'), ctx),
    ),
    ...optional('tokenRateLimit', spec.tokenRateLimit && tokenRateLimit(spec.tokenRateLimit)),
    userIdentification: userIdentification(spec.userIdentification, at('userIdentification'), ctx),
    ...optional(
      'costControl',
      spec.costControl && costControl(spec.costControl, at('costControl'), ctx),
    ),
    caching: caching(spec.caching, at('caching'), ctx),
    deduplication: deduplication(spec.deduplication, at('deduplication'), ctx),
    ...optional('retry', spec.retry && retry(spec.retry, at('retry'), ctx)),
    security: security(spec.security, at('security'), ctx),
    userTiers: normalizeUserTiers(spec.userTiers ?? [], at('userTiers'), ctx.doc, ctx.report),
    ...optional('payloadLogging', payloadLogging(spec.payloadLogging, at('payloadLogging'), ctx)),
  };
  return route;
}

function optional<K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: V };
}

/** Re-parses a value the schema already checked; the fallback is unreachable. */
function ms(text: string | undefined, fallback: number): number {
  return text === undefined ? fallback : (parseDuration(text) ?? fallback);
}

function failover(dto: FailoverDto | undefined): FailoverConfig {
  return {
    on: (dto?.on as FailoverTrigger[] | undefined) ?? DEFAULT_FAILOVER_TRIGGERS,
    retryAttempts: dto?.retryAttempts,
    retryDelayMs: ms(dto?.retryDelay, 0),
  };
}

function loadBalancing(
  dto: LoadBalancingDto | undefined,
  path: PathSegment[],
  ctx: Ctx,
): LoadBalancingConfig {
  const strategy = (dto?.strategy ?? 'weighted-round-robin') as LoadBalancingStrategy;
  if (strategy !== 'lowest-latency') {
    if (dto?.explorationPercent !== undefined) {
      ctx.report.error(
        ctx.doc,
        [...path, 'explorationPercent'],
        'applies only to strategy lowest-latency',
      );
    }
    return { strategy, explorationPercent: 0 };
  }
  return { strategy, explorationPercent: dto?.explorationPercent ?? DEFAULT_EXPLORATION_PERCENT };
}

function requestCosts(spec: RouteSpecDto, path: PathSegment[], ctx: Ctx): RequestCost[] {
  if (spec.llmRequestCosts === undefined) return [{ type: 'TotalToken', weight: 1 }];
  const seen = new Set<string>();
  return spec.llmRequestCosts.map((cost, index) => {
    if (seen.has(cost.type))
      ctx.report.error(ctx.doc, [...path, index, 'type'], `duplicate type ${cost.type}`);
    seen.add(cost.type);
    return { type: cost.type as RequestCostType, weight: cost.weight ?? 1 };
  });
}

function modelCosts(spec: RouteSpecDto, path: PathSegment[], ctx: Ctx): ModelCost[] {
  const seen = new Set<string>();
  return (spec.modelCosts ?? []).map((cost, index) => {
    if (seen.has(cost.model))
      ctx.report.error(ctx.doc, [...path, index, 'model'], `duplicate model "${cost.model}"`);
    seen.add(cost.model);
    return { model: cost.model, multiplier: cost.multiplier };
  });
}

function tokenBudget(dto: TokenBudgetDto, path: PathSegment[], ctx: Ctx): TokenBudgetConfig {
  const out: { -readonly [K in keyof TokenBudgetConfig]: TokenBudgetConfig[K] } = {};
  if (dto.perUser) {
    const period = parsePeriod(dto.perUser.period);
    if (period) {
      out.perUser = { limit: dto.perUser.limit, period };
      if (period.unit === 'fixed' && period.ms % 86_400_000 === 0 && period.ms >= 28 * 86_400_000) {
        ctx.report.infer(
          ctx.doc,
          [...path, 'perUser', 'period'],
          `period ${dto.perUser.period} is a window of ${period.ms / 86_400_000} days, not a calendar month (write "1mo" for that)`,
        );
      }
    }
  }
  if (dto.perMinute) out.perMinute = { limit: dto.perMinute.limit };
  return out;
}

function tokenRateLimit(dto: TokenRateLimitDto): TokenRateLimitConfig {
  const perModel = Object.fromEntries(
    [...(dto.perModel ?? new Map<string, PerModelRateLimitDto>())].map(([model, limit]) => [
      model,
      {
        ...optional('tokensPerMinute', limit.tokensPerMinute),
        ...optional('requestsPerMinute', limit.requestsPerMinute),
      },
    ]),
  );
  const perUser = dto.perUser && {
    ...optional('inputTokensPerMinute', dto.perUser.inputTokensPerMinute),
    ...optional('outputTokensPerMinute', dto.perUser.outputTokensPerMinute),
    ...optional('totalTokensPerDay', dto.perUser.totalTokensPerDay),
    ...optional('requestsPerMinute', dto.perUser.requestsPerMinute),
  };
  return { ...optional('perUser', perUser), perModel };
}

function userIdentification(
  dto: UserIdentificationDto | undefined,
  path: PathSegment[],
  ctx: Ctx,
): UserIdentificationConfig {
  if (dto === undefined) return { sources: [{ kind: 'header', header: DEFAULT_USER_HEADER }] };
  const sources: UserIdSource[] = [];
  // A verified token beats a header any client can set, so the JWT claim comes first.
  if (dto.jwt) sources.push({ kind: 'jwt', claim: dto.jwt.claim, provider: dto.jwt.provider });
  if (dto.header) sources.push({ kind: 'header', header: dto.header.toLowerCase() });
  if (sources.length === 0) {
    ctx.report.error(ctx.doc, path, 'expected header or jwt {claim, provider}');
  } else if (dto.jwt && dto.header) {
    ctx.report.infer(
      ctx.doc,
      path,
      `user from JWT claim "${dto.jwt.claim}" when a verified token is present, else from header ${dto.header}`,
    );
  }
  return { sources };
}

function costControl(dto: CostControlDto, path: PathSegment[], ctx: Ctx): CostControlConfig {
  const { maxDailyCostPerUser: cap, alertThreshold: alert } = dto;
  if (cap !== undefined && alert !== undefined && alert > cap) {
    ctx.report.warn(
      ctx.doc,
      [...path, 'alertThreshold'],
      `is above maxDailyCostPerUser, so the alert fires only after the cap`,
    );
  }
  const modelPricing = Object.fromEntries(
    [...(dto.modelPricing ?? new Map<string, ModelPricingDto>())].map(([model, price]) => [
      model,
      {
        inputPer1k: price.inputPer1k,
        outputPer1k: price.outputPer1k,
        ...optional('cachedInputPer1k', price.cachedInputPer1k),
        ...optional('cacheWritePer1k', price.cacheWritePer1k),
        ...optional('cacheWrite1hPer1k', price.cacheWrite1hPer1k),
        ...optional('imageInputPer1k', price.imageInputPer1k),
        ...optional('imageOutputPer1k', price.imageOutputPer1k),
        ...optional('audioInputPer1k', price.audioInputPer1k),
        ...optional('audioOutputPer1k', price.audioOutputPer1k),
        ...optional('perMinute', price.perMinute),
        ...optional('per1kCharacters', price.per1kCharacters),
        ...optional('perImage', price.perImage),
        ...optional('perImageVariants', price.perImageVariants && { ...price.perImageVariants }),
        ...optional('per1kSearches', price.per1kSearches),
        ...optional('webSearchPer1k', price.webSearchPer1k),
        ...optional('groundedPromptPer1k', price.groundedPromptPer1k),
        ...optional(
          'serviceTierFactors',
          price.serviceTierFactors && { ...price.serviceTierFactors },
        ),
        ...optional(
          'tiers',
          price.tiers && priceTiers(price.tiers, [...path, 'modelPricing', model, 'tiers'], ctx),
        ),
      },
    ]),
  );
  return {
    ...optional('maxDailyCostPerUser', cap),
    ...optional('alertThreshold', alert),
    modelPricing,
  };
}

/**
 * A price's long-prompt tiers, each with only the rates it sets. They must climb: a tier
 * is in force past its own threshold and up to the next one's, so an out-of-order or
 * repeated threshold has no meaning, and is an error naming it.
 */
function priceTiers(tiers: readonly PriceTierDto[], path: PathSegment[], ctx: Ctx): PriceTier[] {
  tiers.forEach((tier, index) => {
    const below = tiers[index - 1];
    if (below !== undefined && tier.aboveInputTokens <= below.aboveInputTokens) {
      ctx.report.error(
        ctx.doc,
        [...path, index, 'aboveInputTokens'],
        `must be above the tier before it (${below.aboveInputTokens}): list tiers from the shortest prompt up`,
      );
    }
  });
  return tiers.map((tier) => ({
    aboveInputTokens: tier.aboveInputTokens,
    ...optional('inputPer1k', tier.inputPer1k),
    ...optional('outputPer1k', tier.outputPer1k),
    ...optional('cachedInputPer1k', tier.cachedInputPer1k),
    ...optional('cacheWritePer1k', tier.cacheWritePer1k),
    ...optional('cacheWrite1hPer1k', tier.cacheWrite1hPer1k),
    ...optional('imageInputPer1k', tier.imageInputPer1k),
    ...optional('imageOutputPer1k', tier.imageOutputPer1k),
  }));
}

function keyComponents(
  given: string[] | undefined,
  path: PathSegment[],
  ctx: Ctx,
  what: string,
): readonly CacheKeyComponent[] {
  if (given === undefined) return DEFAULT_KEY_COMPONENTS;
  for (const needed of ['prompt', 'model']) {
    if (!given.includes(needed)) {
      ctx.report.warn(
        ctx.doc,
        path,
        `has no "${needed}": requests that differ in ${needed} share one ${what}`,
      );
    }
  }
  return given as CacheKeyComponent[];
}

function caching(dto: CachingDto | undefined, path: PathSegment[], ctx: Ctx): CachingConfig {
  if (dto === undefined) {
    return {
      enabled: false,
      ttlMs: DEFAULT_CACHE_TTL_MS,
      keyComponents: DEFAULT_KEY_COMPONENTS,
      backend: { type: 'memory' },
    };
  }
  if (dto.enabled === undefined)
    ctx.report.infer(ctx.doc, path, 'caching enabled (the block is present)');
  const size = dto.maxSize === undefined ? undefined : parseByteSize(dto.maxSize);
  const backend = dto.backend;
  // The store is picked by the address (else REDIS_URL): a memory cache given one would
  // go to that Redis, shared with whoever else uses it.
  if (backend?.type === 'memory' && backend.address !== undefined) {
    ctx.report.error(
      ctx.doc,
      [...path, 'backend', 'address'],
      'applies only to type redis (a memory cache stays in the process)',
    );
  }
  return {
    enabled: dto.enabled ?? true,
    ttlMs: ms(dto.ttl, DEFAULT_CACHE_TTL_MS),
    keyComponents: keyComponents(dto.keyComponents, [...path, 'keyComponents'], ctx, 'cache entry'),
    ...optional('maxSizeBytes', size),
    backend: {
      type: backend?.type === 'redis' ? 'redis' : 'memory',
      ...optional('address', backend?.address),
    },
  };
}

function deduplication(
  dto: DeduplicationDto | undefined,
  path: PathSegment[],
  ctx: Ctx,
): DeduplicationConfig {
  if (dto === undefined) {
    return {
      enabled: false,
      windowMs: DEFAULT_DEDUP_WINDOW_MS,
      keyComponents: DEFAULT_KEY_COMPONENTS,
    };
  }
  if (dto.enabled === undefined)
    ctx.report.infer(ctx.doc, path, 'deduplication enabled (the block is present)');
  return {
    enabled: dto.enabled ?? true,
    windowMs: ms(dto.window, DEFAULT_DEDUP_WINDOW_MS),
    keyComponents: keyComponents(
      dto.keyComponents,
      [...path, 'keyComponents'],
      ctx,
      'upstream call',
    ),
  };
}

function retry(dto: RetryDto, path: PathSegment[], ctx: Ctx): RetryConfig {
  const fallbackOrder = dto.fallbackOrder ?? [];
  const fallbackStrategy = (dto.fallbackStrategy ??
    (fallbackOrder.length > 0 ? 'cheaperModel' : 'none')) as FallbackStrategy;
  const maxAttempts = dto.maxAttempts ?? Math.max(1, fallbackOrder.length);
  if (fallbackStrategy === 'cheaperModel' && fallbackOrder.length === 0) {
    ctx.report.error(
      ctx.doc,
      [...path, 'fallbackOrder'],
      'is required for fallbackStrategy cheaperModel (a list of models, most capable first)',
    );
  }
  if (fallbackOrder.length > maxAttempts) {
    ctx.report.warn(
      ctx.doc,
      [...path, 'maxAttempts'],
      `is ${maxAttempts}: only the first ${maxAttempts} of fallbackOrder are ever tried`,
    );
  }
  return { maxAttempts, fallbackStrategy, fallbackOrder };
}

function security(dto: SecurityDto | undefined, path: PathSegment[], ctx: Ctx): SecurityConfig {
  const patterns = dto?.promptValidation?.blockPatterns ?? [];
  const at = [...path, 'promptValidation'];
  const redact = normalizeRedact(
    dto?.promptValidation?.redact,
    [...at, 'redact'],
    ctx.doc,
    ctx.report,
  );
  const given = patterns.length > 0 || redact !== undefined;
  const enabled = dto?.promptValidation?.enabled ?? given;
  if (dto?.promptValidation && dto.promptValidation.enabled === undefined) {
    ctx.report.infer(
      ctx.doc,
      at,
      `prompt validation ${given ? 'enabled (patterns are given)' : 'disabled (no patterns)'}`,
    );
  }
  const answers = responseValidation(dto?.responseValidation, [...path, 'responseValidation'], ctx);
  const media = mediaUrls(dto?.mediaUrls, [...path, 'mediaUrls'], ctx);
  return {
    stripHeaders: [...new Set((dto?.stripHeaders ?? []).map((h) => h.toLowerCase()))],
    promptValidation: {
      enabled,
      blockPatterns: patterns,
      ...(enabled && redact && { redact }),
    },
    ...(answers && { responseValidation: answers }),
    ...(media && { mediaUrls: media }),
  };
}

/**
 * Undefined when URLs pass (the default). `allowedHosts` alone means `refuse: true`, as
 * listing the hosts that pass says the others do not.
 */
function mediaUrls(
  dto: MediaUrlsDto | undefined,
  path: PathSegment[],
  ctx: Ctx,
): MediaUrlsConfig | undefined {
  if (!dto) return undefined;
  const allowedHosts = [...new Set((dto.allowedHosts ?? []).map((host) => host.toLowerCase()))];
  if (dto.refuse === false) {
    if (allowedHosts.length > 0) {
      ctx.report.warn(ctx.doc, [...path, 'allowedHosts'], 'has no effect with refuse: false');
    }
    return undefined;
  }
  if (dto.refuse === undefined) {
    ctx.report.infer(
      ctx.doc,
      [...path, 'refuse'],
      allowedHosts.length > 0
        ? 'true (allowedHosts lists the hosts that pass)'
        : 'false (neither refuse nor allowedHosts given)',
    );
    if (allowedHosts.length === 0) return undefined;
  }
  return { allowedHosts };
}

/** Default hold: the longest built-in match (an OpenAI project key) with room to spare. */
export const DEFAULT_STREAM_HOLD_CHARS = 256;

/** Undefined when nothing would be checked, so answers pass without any work. */
function responseValidation(
  dto: ResponseValidationDto | undefined,
  path: PathSegment[],
  ctx: Ctx,
): ResponseValidationConfig | undefined {
  if (!dto) return undefined;
  const blockPatterns = dto.blockPatterns ?? [];
  const redact = normalizeRedact(dto.redact, [...path, 'redact'], ctx.doc, ctx.report);
  if (dto.enabled === false) return undefined;
  if (blockPatterns.length === 0 && !redact) {
    ctx.report.warn(ctx.doc, path, 'has no blockPatterns and no redact: answers are not checked');
    return undefined;
  }
  return {
    blockPatterns,
    ...(redact && { redact }),
    streamHoldChars: dto.streamHoldChars ?? DEFAULT_STREAM_HOLD_CHARS,
  };
}

export const DEFAULT_PAYLOAD_MAX_BYTES = 32_768;

/** Undefined unless enabled, so a route that logs nothing pays one check per request. */
function payloadLogging(
  dto: PayloadLoggingDto | undefined,
  path: PathSegment[],
  ctx: Ctx,
): PayloadLoggingConfig | undefined {
  if (!dto) return undefined;
  if (dto.enabled === undefined) {
    ctx.report.infer(ctx.doc, path, 'payload logging enabled (the block is present)');
  }
  if (dto.enabled === false) return undefined;
  const sampleRate = dto.sampleRate ?? 1;
  if (sampleRate === 0) {
    ctx.report.warn(ctx.doc, [...path, 'sampleRate'], 'is 0: no request is logged');
  }
  return { maxBytes: dto.maxBytes ?? DEFAULT_PAYLOAD_MAX_BYTES, sampleRate };
}
