// The normalized, validated configuration the rest of the gateway reads. Everything is
// readonly and deep-frozen; defaults are filled so consumers never re-derive them.
import { type Period } from './units';
import { type ProviderKind } from './providers';
import { type Secret } from './secret';
import { type RedactConfig } from './redact-config';

export interface SecretRef {
  readonly name: string;
  readonly key: string;
}

export type BackendAuth =
  | { readonly kind: 'none' }
  | {
      readonly kind: 'apiKey';
      /** Absent when the secret was missing and the load allowed it: the backend is skipped. */
      readonly apiKey?: Secret;
      /**
       * Set when the config was loaded with `missingSecrets: 'not-needed'`: another process
       * (the provider-adapter) holds the key, so this one counts the backend as authenticated.
       */
      readonly keyHeldElsewhere?: true;
      readonly headerName: string;
      readonly headerPrefix: string;
      readonly secretRef: SecretRef;
    }
  /** AWS Signature V4 with credentials from the AWS default chain (env, profile, role). */
  | { readonly kind: 'aws-sigv4' };

export interface VertexPlacement {
  readonly project: string;
  /** A region such as us-central1, or global. */
  readonly location: string;
}

export interface BackendConfig {
  readonly name: string;
  readonly provider: ProviderKind;
  /** Model sent upstream; absent means the backend serves whatever model the client asks for. */
  readonly model?: string;
  /** Name clients use for this backend's model (e.g. claude-3-opus presented as gpt-4). */
  readonly modelNameOverride?: string;
  /** `modelNameOverride ?? model`; undefined for a wildcard backend. */
  readonly virtualModel?: string;
  /** Lower is tried first. */
  readonly priority: number;
  /**
   * Its share of the requests among backends of the same priority (default 1); 0 makes it
   * a standby there, called only when the others fail.
   */
  readonly weight: number;
  readonly baseUrl?: string;
  /** Where a vertex backend's models run: its Google Cloud project and location. */
  readonly vertex?: VertexPlacement;
  readonly auth: BackendAuth;
  readonly requestTimeoutMs: number;
  readonly firstByteTimeoutMs: number;
  /** A stream's longest wait between two events once its first came. */
  readonly streamIdleTimeoutMs: number;
}

export const FAILOVER_TRIGGERS = ['rateLimit', 'timeout', 'error', 'budgetExceeded'] as const;
export type FailoverTrigger = (typeof FAILOVER_TRIGGERS)[number];

export interface FailoverConfig {
  readonly on: readonly FailoverTrigger[];
  /** Retries after the first call; undefined = one call per backend in the chain. */
  readonly retryAttempts?: number;
  readonly retryDelayMs: number;
}

/**
 * How a route orders its backends of equal priority (an extension to the spec); only the
 * order within one priority, never across priorities.
 */
export const LOAD_BALANCING_STRATEGIES = [
  'weighted-round-robin',
  'least-busy',
  'lowest-latency',
] as const;
export type LoadBalancingStrategy = (typeof LOAD_BALANCING_STRATEGIES)[number];

export interface LoadBalancingConfig {
  readonly strategy: LoadBalancingStrategy;
  /**
   * lowest-latency only: the percentage of calls (0-100) still spread by weight, so a slow
   * backend keeps being measured and its figure can recover. 0 for the other strategies.
   */
  readonly explorationPercent: number;
}

export const REQUEST_COST_TYPES = ['InputToken', 'OutputToken', 'TotalToken'] as const;
export type RequestCostType = (typeof REQUEST_COST_TYPES)[number];

export interface RequestCost {
  readonly type: RequestCostType;
  readonly weight: number;
}

export interface ModelCost {
  readonly model: string;
  readonly multiplier: number;
}

export interface TokenBudgetConfig {
  readonly perUser?: { readonly limit: number; readonly period: Period };
  readonly perMinute?: { readonly limit: number };
}

export interface TokenRateLimitConfig {
  readonly perUser?: {
    readonly inputTokensPerMinute?: number;
    readonly outputTokensPerMinute?: number;
    readonly totalTokensPerDay?: number;
    /** Extension to the spec: calls per minute. */
    readonly requestsPerMinute?: number;
  };
  /** Each entry has at least one of the two. */
  readonly perModel: Readonly<Record<string, ModelRateLimitConfig>>;
}

export interface ModelRateLimitConfig {
  readonly tokensPerMinute?: number;
  /** Extension to the spec: calls the model serves per minute, across its callers. */
  readonly requestsPerMinute?: number;
}

/** Where the user key comes from, in the order tried. */
export type UserIdSource =
  | { readonly kind: 'jwt'; readonly claim: string; readonly provider: string }
  | { readonly kind: 'header'; readonly header: string };

export interface UserIdentificationConfig {
  readonly sources: readonly UserIdSource[];
}

/** The per-token rates of a price, in US dollars per 1000 tokens. */
export interface TokenRates {
  readonly inputPer1k: number;
  readonly outputPer1k: number;
  /** Prompt tokens read from the provider's cache; absent = billed as `inputPer1k`. */
  readonly cachedInputPer1k?: number;
  /** Prompt tokens written to the provider's cache; absent = billed as `inputPer1k`. */
  readonly cacheWritePer1k?: number;
  /**
   * Prompt tokens written to the cache for an hour (Anthropic's `ttl: "1h"`, billed at twice
   * input); absent = billed as the other writes.
   */
  readonly cacheWrite1hPer1k?: number;
  /**
   * Image input tokens (gpt-image-1's edits: the images sent, which OpenAI bills at twice
   * text input); absent = billed as `inputPer1k`. Chat models bill images as text input.
   */
  readonly imageInputPer1k?: number;
  /**
   * Image output tokens (the images an image model makes; gpt-image-1.5 bills them at $32
   * per 1M against $10 for its text output); absent = billed as `outputPer1k`.
   */
  readonly imageOutputPer1k?: number;
}

/**
 * The rates of a call whose prompt is longer than `aboveInputTokens` (Gemini 2.5 Pro, and
 * Claude with a 1M context, bill the whole call dearer past 200,000 prompt tokens). A rate a
 * tier leaves out is the one in force below it.
 */
export interface PriceTier extends Partial<TokenRates> {
  readonly aboveInputTokens: number;
}

export interface ModelPricing extends TokenRates {
  /** Long-prompt tiers, in ascending `aboveInputTokens`; absent = one price for any prompt. */
  readonly tiers?: readonly PriceTier[];
  /** US dollars per 1000 audio input tokens (gpt-4o-transcribe); absent = `inputPer1k`. */
  readonly audioInputPer1k?: number;
  /** US dollars per 1000 audio output tokens (gpt-realtime speaking); absent = `outputPer1k`. */
  readonly audioOutputPer1k?: number;
  /** US dollars per minute of audio, for models billed by duration (whisper-1). */
  readonly perMinute?: number;
  /** US dollars per 1000 characters spoken, for models billed by the character (tts-1). */
  readonly per1kCharacters?: number;
  /** US dollars per image made, for models billed by the image (dall-e-3). */
  readonly perImage?: number;
  /**
   * Per-image prices by what was asked: `quality/size`, `quality` or `size` as the request
   * sent them (`hd/1792x1024`, `hd`, `1024x1792`), looked up in that order before `perImage`.
   */
  readonly perImageVariants?: Readonly<Record<string, number>>;
  /**
   * US dollars per 1000 search units, for rerank models billed by the search (Cohere: one
   * unit per query of up to 100 documents, a long document counting as several).
   */
  readonly per1kSearches?: number;
  /**
   * US dollars per 1000 web searches a model ran as a server tool (Anthropic's web_search,
   * counted in `usage.server_tool_use`; Gemini's Google Search queries, its answer's
   * `groundingMetadata.webSearchQueries`); absent = Anthropic's list price
   * (DEFAULT_WEB_SEARCH_PER_1K, usage-cost.ts).
   */
  readonly webSearchPer1k?: number;
  /**
   * US dollars per 1000 calls that ran web searches, for models billed by the grounded
   * prompt rather than the search (Gemini 2.x grounding with Google Search: $35 per 1,000,
   * however many queries a call ran). When set, a call's searches are billed so and not at
   * `webSearchPer1k`.
   */
  readonly groundedPromptPer1k?: number;
  /**
   * The token price's multiplier by the service tier the provider billed a call at, as its
   * answer names it (OpenAI's `service_tier`: `{ flex: 0.5, priority: 2 }` for gpt-5);
   * absent for a tier = billed at these rates.
   */
  readonly serviceTierFactors?: Readonly<Record<string, number>>;
}

export interface CostControlConfig {
  /** US dollars per user per UTC day; undefined = no cap. */
  readonly maxDailyCostPerUser?: number;
  /** US dollars per user per day at which an alert fires. */
  readonly alertThreshold?: number;
  readonly modelPricing: Readonly<Record<string, ModelPricing>>;
}

export const CACHE_KEY_COMPONENTS = [
  'prompt',
  'model',
  'temperature',
  'topP',
  'maxTokens',
  'stop',
  'seed',
  'tools',
  'responseFormat',
  'user',
] as const;
export type CacheKeyComponent = (typeof CACHE_KEY_COMPONENTS)[number];

export const CACHE_BACKEND_TYPES = ['redis', 'memory'] as const;
export type CacheBackendType = (typeof CACHE_BACKEND_TYPES)[number];

export interface CachingConfig {
  readonly enabled: boolean;
  readonly ttlMs: number;
  readonly keyComponents: readonly CacheKeyComponent[];
  readonly maxSizeBytes?: number;
  /** `address` absent: the process default (REDIS_URL, or embedded when unset). */
  readonly backend: { readonly type: CacheBackendType; readonly address?: string };
}

export interface DeduplicationConfig {
  readonly enabled: boolean;
  readonly windowMs: number;
  readonly keyComponents: readonly CacheKeyComponent[];
}

export const FALLBACK_STRATEGIES = ['cheaperModel', 'none'] as const;
export type FallbackStrategy = (typeof FALLBACK_STRATEGIES)[number];

export interface RetryConfig {
  readonly maxAttempts: number;
  readonly fallbackStrategy: FallbackStrategy;
  readonly fallbackOrder: readonly string[];
}

export interface SecurityConfig {
  /** Lower-cased header names removed before forwarding upstream. */
  readonly stripHeaders: readonly string[];
  readonly promptValidation: {
    readonly enabled: boolean;
    /** JavaScript regular expression sources, already checked to compile. */
    readonly blockPatterns: readonly string[];
    /** Absent when nothing is redacted (or `enabled: false`): the edge then does no work. */
    readonly redact?: RedactConfig;
  };
  /**
   * An extension to the spec: blockPatterns and redact applied to the model's answers.
   * Absent when off, so the edge does no work on answers.
   */
  readonly responseValidation?: ResponseValidationConfig;
  /**
   * An extension to the spec: present when prompts may not hold image or file URLs (which
   * the backend would fetch itself) other than to `allowedHosts`; absent, they pass.
   */
  readonly mediaUrls?: MediaUrlsConfig;
}

export interface MediaUrlsConfig {
  /** Lower-cased host names whose URLs still pass; `*.example.com` names its subdomains. */
  readonly allowedHosts: readonly string[];
}

export interface ResponseValidationConfig {
  /** JavaScript regular expression sources: a match withholds the answer (content_filter). */
  readonly blockPatterns: readonly string[];
  readonly redact?: RedactConfig;
  /** Characters of a streamed answer's text held back so a split match is still caught. */
  readonly streamHoldChars: number;
}

export type TierTokenBudget =
  { readonly kind: 'daily'; readonly tokens: number } | { readonly kind: 'unlimited' };

export interface UserTierConfig {
  readonly name: string;
  readonly selector: { readonly header: string; readonly value: string };
  readonly tokenBudget: TierTokenBudget;
  /** Empty = every model. */
  readonly allowedModels: readonly string[];
  readonly costTracking: { readonly enabled: boolean; readonly alertThreshold?: number };
  /**
   * `default: true` (an extension to the spec): requests matching no selector get this
   * tier. At most one per list: a route's own `userTiers`, and the global ones.
   */
  readonly default: boolean;
  /**
   * `clientSelectable: true` (an extension to the spec): on a JWT route, a client's own
   * selector header may choose this tier even when its token does not grant it. Absent or
   * false: there, a tier header naming a tier the token does not grant is refused (403).
   */
  readonly clientSelectable?: boolean;
}

export interface RouteConfig {
  readonly name: string;
  /** Sorted by priority (stable for equal priorities). */
  readonly backends: readonly BackendConfig[];
  readonly failover: FailoverConfig;
  readonly llmRequestCosts: readonly RequestCost[];
  readonly modelCosts: readonly ModelCost[];
  /** Absent in a hand-built config: weighted-round-robin. */
  readonly loadBalancing?: LoadBalancingConfig;
  readonly tokenBudget?: TokenBudgetConfig;
  readonly tokenRateLimit?: TokenRateLimitConfig;
  readonly userIdentification: UserIdentificationConfig;
  readonly costControl?: CostControlConfig;
  readonly caching: CachingConfig;
  readonly deduplication: DeduplicationConfig;
  readonly retry?: RetryConfig;
  readonly security: SecurityConfig;
  readonly userTiers: readonly UserTierConfig[];
  /** Absent unless the route logs prompts and answers (an extension to the spec). */
  readonly payloadLogging?: PayloadLoggingConfig;
}

/** What a route logs of the requests it serves and their answers. */
export interface PayloadLoggingConfig {
  /** Each of the request and the answer is cut at this many UTF-8 bytes. */
  readonly maxBytes: number;
  /** The share of requests logged, 0 to 1. */
  readonly sampleRate: number;
}

export interface JwtProviderConfig {
  readonly name: string;
  readonly issuer: string;
  readonly jwksUri: string;
  readonly audiences: readonly string[];
  readonly claimToHeaders: readonly { readonly claim: string; readonly header: string }[];
}

export interface SecurityPolicyConfig {
  readonly name: string;
  readonly targetRefs: readonly { readonly kind: string; readonly name: string }[];
  readonly jwtProviders: readonly JwtProviderConfig[];
}

export interface GatewayConfig {
  /** Number of YAML documents in the file (empty documents excluded). */
  readonly documentCount: number;
  readonly routes: readonly RouteConfig[];
  readonly securityPolicies: readonly SecurityPolicyConfig[];
  /** Tiers from top-level `userTiers:` documents (routes may carry their own). */
  readonly userTiers: readonly UserTierConfig[];
}

/**
 * Callable as far as its key goes: the key is loaded here, held by the provider-adapter, or
 * not needed. A backend skipped for a missing key is one that is not.
 */
export function isAuthenticated(backend: Pick<BackendConfig, 'auth'>): boolean {
  const auth = backend.auth;
  return auth.kind !== 'apiKey' || auth.apiKey !== undefined || auth.keyHeldElsewhere === true;
}
