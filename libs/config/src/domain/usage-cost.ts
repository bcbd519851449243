// What a call costs under a route's rules: `llmRequestCosts` weights and `modelCosts`
// multipliers give budget tokens; `costControl.modelPricing` gives dollars, and for a model
// it does not price, the built-in catalog (builtin-prices.ts).
import { bedrockBaseModelId } from './bedrock-model-ids';
import { builtinPrice } from './builtin-prices';
import { inferenceGeoFactor } from './inference-geo-price';
import {
  type BackendConfig,
  type ModelPricing,
  type RouteConfig,
  type TokenRates,
} from './gateway-config';
import { canonicalProvider } from './providers';

/**
 * What one call used, in every measure a price may bill; the data plane's TokenUsage is
 * this plus where the counts came from. Parts are absent when the call had none.
 */
export interface TokenCounts {
  readonly inputTokens: number;
  readonly outputTokens: number;
  /** The part of `inputTokens` read from the provider's prompt cache. */
  readonly cachedInputTokens?: number;
  /**
   * The part of `inputTokens` written to the provider's prompt cache (billed above input
   * by Anthropic and Bedrock; only those providers report it).
   */
  readonly cacheWriteInputTokens?: number;
  /**
   * The part of `cacheWriteInputTokens` written with a 1-hour lifetime (Anthropic bills it
   * at twice input, not the 5-minute write's 1.25 times; `cacheWrite1hPer1k`).
   */
  readonly cacheWrite1hInputTokens?: number;
  /** The part of `inputTokens` that was audio (gpt-4o-transcribe; `audioInputPer1k`). */
  readonly audioInputTokens?: number;
  /**
   * The part of `inputTokens` that was images (gpt-image-1's edits bill their input images
   * at twice text input; `imageInputPer1k`). Chat models bill images as text input.
   */
  readonly imageInputTokens?: number;
  /**
   * The part of `outputTokens` that was images (gpt-image-1.5 bills them above its text
   * output; `imageOutputPer1k`).
   */
  readonly imageOutputTokens?: number;
  /**
   * The part of `outputTokens` that was audio (gpt-realtime's speech, billed at four times
   * its text output; `audioOutputPer1k`).
   */
  readonly audioOutputTokens?: number;
  /** Seconds of audio, for models billed by the minute (whisper-1; `perMinute`). */
  readonly audioSeconds?: number;
  /** Characters spoken, for models billed by the character (tts-1; `per1kCharacters`). */
  readonly characters?: number;
  /** Images made, for models billed by the image (dall-e-3; `perImage`). */
  readonly images?: number;
  /** What the images were asked as (`quality/size`, either alone), for `perImageVariants`. */
  readonly imageVariant?: string;
  /** Search units of a rerank (Cohere bills one per query of up to 100 document chunks). */
  readonly searches?: number;
  /**
   * Runs of the provider's server tools, as it reported them (Anthropic's
   * `usage.server_tool_use`); absent when none ran.
   */
  readonly serverToolRequests?: ServerToolCounts;
  /**
   * The service tier the call was billed at, as the provider's answer named it (OpenAI's
   * `service_tier`: `flex` at half the token price, `priority` above it); for a budget hold,
   * the tier the request asks for. Priced by the price's `serviceTierFactors`.
   */
  readonly serviceTier?: string;
  /**
   * Where Anthropic ran the call (its answer's `usage.inference_geo`, else the request's
   * `inference_geo`); for a budget hold, the geography the request asks for. `us` bills
   * the tokens dearer (inferenceGeoFactor).
   */
  readonly inferenceGeo?: string;
}

/**
 * Server tool runs by tool. `web_search` also counts the Google Search queries a Gemini
 * model ran for grounding (its answer's `groundingMetadata.webSearchQueries`). Only web
 * searches are billed per run (`webSearchPer1k`, or per call: `groundedPromptPer1k`): a web
 * fetch has no fee of its own (the page it reads is billed as input tokens), and code
 * execution is billed by container hours per organisation, which no call's usage reports.
 */
export interface ServerToolCounts {
  readonly web_search?: number;
  readonly web_fetch?: number;
  readonly code_execution?: number;
}

/**
 * Anthropic's list price of web search: $10 per 1000 searches, beside the tokens (the
 * results the model reads bill as input). The price of a search when the model's price
 * sets no `webSearchPer1k`: Anthropic's Messages usage reports searches (the Anthropic
 * API, and Claude on Vertex AI, which bills them the same); Gemini's grounding searches
 * are priced by the catalog (google-search-prices.ts) or the operator.
 */
export const DEFAULT_WEB_SEARCH_PER_1K = 10;

export interface UsageCost {
  /** Tokens as budgets count them. */
  readonly weightedTokens: number;
  /** US dollars; 0 when the model has no price. */
  readonly dollars: number;
}

/** Weighted budget tokens. With no `llmRequestCosts`, a token is a token. */
export function weightedTokens(route: RouteConfig, model: string, counts: TokenCounts): number {
  const costs = route.llmRequestCosts.length > 0 ? route.llmRequestCosts : undefined;
  let base = counts.inputTokens + counts.outputTokens;
  if (costs) {
    base = 0;
    for (const cost of costs) {
      switch (cost.type) {
        case 'InputToken':
          base += cost.weight * counts.inputTokens;
          break;
        case 'OutputToken':
          base += cost.weight * counts.outputTokens;
          break;
        case 'TotalToken':
          base += cost.weight * (counts.inputTokens + counts.outputTokens);
          break;
      }
    }
  }
  return base * modelMultiplier(route, model);
}

/** The model's `modelCosts` multiplier (the first entry naming it), else 1. */
function modelMultiplier(route: RouteConfig, model: string): number {
  // A loop, not find(): no closure per call, and this runs three times a request.
  for (const entry of route.modelCosts) if (entry.model === model) return entry.multiplier;
  return 1;
}

/** The route's own `costControl.modelPricing` entry for a model, if it has one. */
export function configuredPrice(route: RouteConfig, model: string): ModelPricing | undefined {
  // Own keys only: the model name comes from the client, and `constructor` would hit Object's.
  const pricing = route.costControl?.modelPricing;
  return pricing && Object.hasOwn(pricing, model) ? pricing[model] : undefined;
}

/**
 * What a model costs on a route: its `modelPricing` entry (the operator's price wins), else
 * the built-in catalog's list price for the backend that serves it. `provider` is that
 * backend's when the caller knows it (a served call); else the route's backend of that
 * model tells it.
 */
export function modelPrice(
  route: RouteConfig,
  model: string,
  provider?: string,
): ModelPricing | undefined {
  return priceFrom(priceSourceOf(route, model, provider));
}

/**
 * What a served call costs on a route: the route's own price of the model it was sent,
 * else, when the provider answered as another model, that model's (`modelPrice`), else
 * the catalog's for the name sent. An Azure deployment is named by its owner (`prod-chat`,
 * or `gpt-4o-mini` for one upgraded in place to gpt-4o) and answers as the model it runs:
 * that is what Azure bills, not what the catalog makes of the deployment's name.
 */
export function servedModelPrice(
  route: RouteConfig,
  served: { readonly model: string; readonly provider: string },
  usage: { readonly answeredModel?: string },
): ModelPricing | undefined {
  const sent = priceSourceOf(route, served.model, served.provider);
  if (sent?.own !== undefined || usage.answeredModel === undefined) return priceFrom(sent);
  return modelPrice(route, usage.answeredModel, served.provider) ?? priceFrom(sent);
}

function priceFrom(source: PriceSource | undefined): ModelPricing | undefined {
  if (source === undefined) return undefined;
  return source.own ?? builtinPrice(source.provider, source.model);
}

/** Where a model's price on a route comes from: the route's own entry, or the catalog's. */
type PriceSource =
  | { readonly own: ModelPricing; readonly provider?: undefined; readonly model?: undefined }
  | { readonly own?: undefined; readonly provider: string; readonly model: string };

/** Per route object, then provider ('' when not given), then model; undefined = no price. */
const priceSources = new WeakMap<RouteConfig, Map<string, Map<string, PriceSource | undefined>>>();
/** Wildcard backends pass clients' model names through: bounded per route. */
const MAX_PRICE_SOURCES = 1_000;

/**
 * `modelPrice`'s look-ups in the route (its pricing, its backends), once per route object
 * and model: they ran three times a request (admission, usage event, cost header), ~1 us
 * of the bench config's policies (bench/micro/policies.ts). The catalog's own price is
 * still asked each time (builtinPrice keeps it, and re-reads a dated one when it expires).
 */
function priceSourceOf(
  route: RouteConfig,
  model: string,
  provider: string | undefined,
): PriceSource | undefined {
  let byProvider = priceSources.get(route);
  if (!byProvider) {
    byProvider = new Map();
    priceSources.set(route, byProvider);
  }
  const providerKey = provider ?? '';
  let byModel = byProvider.get(providerKey);
  if (!byModel) {
    byModel = new Map();
    byProvider.set(providerKey, byModel);
  }
  let source = byModel.get(model);
  if (source === undefined && !byModel.has(model)) {
    source = findPriceSource(route, model, provider);
    if (byModel.size >= MAX_PRICE_SOURCES) byModel.clear();
    byModel.set(model, source);
  }
  return source;
}

function findPriceSource(
  route: RouteConfig,
  model: string,
  provider: string | undefined,
): PriceSource | undefined {
  const own = configuredPrice(route, model);
  if (own) return { own };
  const served = provider === undefined ? servingBackend(route, model) : { provider, model };
  if (!served) return undefined;
  // A name clients use for another model (modelNameOverride): that model's own entry.
  const upstream = served.model === model ? undefined : configuredPrice(route, served.model);
  if (upstream) return { own: upstream };
  const base = bedrockBaseEntry(route, served);
  return base ? { own: base } : served;
}

/**
 * A Bedrock inference profile or ARN (us.anthropic..., arn:...:inference-profile/...) with
 * no entry of its own: the route's entry for the base model it serves, where the route
 * prices by that name. An exact entry always wins; no other provider is read so.
 */
function bedrockBaseEntry(
  route: RouteConfig,
  served: { provider: string; model: string },
): ModelPricing | undefined {
  if (canonicalProvider(served.provider) !== 'bedrock') return undefined;
  const base = bedrockBaseModelId(served.model);
  return base === served.model ? undefined : configuredPrice(route, base);
}

/**
 * The provider and upstream model behind a model name on a route: the backend of that
 * model, else one presenting another model under that name, else a wildcard backend
 * (which sends the name on as it is).
 */
function servingBackend(
  route: RouteConfig,
  model: string,
): { provider: string; model: string } | undefined {
  const backends = route.backends;
  const own = backends.find((backend) => backend.model === model);
  if (own) return { provider: own.provider, model };
  const renamed = backends.find((backend) => backend.virtualModel === model && backend.model);
  if (renamed?.model) return { provider: renamed.provider, model: renamed.model };
  const wildcard = backends.find((backend) => backend.model === undefined);
  return wildcard && { provider: wildcard.provider, model };
}

/**
 * US dollars for `counts` at `price`: the input read from the cache at `cachedInputPer1k`
 * (providers bill cache reads at a fraction of input), the input written to it at
 * `cacheWritePer1k` (billed above input; the part written for an hour at `cacheWrite1hPer1k`,
 * else as the rest), each at `inputPer1k` without its own price, the
 * rest of the input at `inputPer1k` (its audio tokens at `audioInputPer1k`, its image tokens
 * at `imageInputPer1k`, each else at `inputPer1k`); the output at `outputPer1k`, its image
 * tokens at `imageOutputPer1k`, its audio tokens at `audioOutputPer1k` (each else
 * `outputPer1k`); audio billed by
 * duration at `perMinute`, speech by its characters at `per1kCharacters`, images by the
 * image at `perImage` (or the variant asked), reranks by the search unit at `per1kSearches`,
 * server-tool web searches by the search at `webSearchPer1k` (else Anthropic's list price),
 * or once for the call at `groundedPromptPer1k` where the price bills grounded prompts.
 * The tokens' part is multiplied by the service tier's factor (`serviceTierFactors`: OpenAI
 * bills flex at half, priority above standard) and by where Anthropic ran it (US-only
 * inference at 1.1 times: inferenceGeoFactor); fees by the minute, image or search are not.
 *
 * What a call spends: the usage event's dollars, which budgets settle with. The budget
 * admission's estimate (budget-admission.ts) holds the searches a web_search tool's
 * `max_uses` allows, and one search for a Gemini request enabling Google Search
 * (web-search-hold.ts); a tool without a bound has its further searches charged at
 * settlement.
 */
export function dollarsAt(price: ModelPricing, counts: TokenCounts): number {
  return (
    tokenDollars(price, counts) *
      serviceTierFactor(price, counts.serviceTier) *
      inferenceGeoFactor(counts.inferenceGeo) +
    ((counts.audioSeconds ?? 0) / 60) * (price.perMinute ?? 0) +
    ((counts.characters ?? 0) / 1000) * (price.per1kCharacters ?? 0) +
    (counts.images ?? 0) * imagePrice(price, counts.imageVariant) +
    ((counts.searches ?? 0) / 1000) * (price.per1kSearches ?? 0) +
    webSearchDollars(price, counts.serverToolRequests)
  );
}

/**
 * The tiers every price bills at its own rates: OpenAI's `default` (and `auto`, which a hold
 * reads from a request), Anthropic's `standard`, Groq's `on_demand`.
 */
const STANDARD_TIERS: ReadonlySet<string> = new Set(['default', 'auto', 'standard', 'on_demand']);

/**
 * What a call's token price is multiplied by for the service tier it was billed at: the
 * price's `serviceTierFactors` entry, else 1 (its own rates; `serviceTierPriced` tells
 * whether that is known to be right).
 */
export function serviceTierFactor(price: ModelPricing, tier: string | undefined): number {
  if (tier === undefined) return 1;
  const factors = price.serviceTierFactors;
  return factors && Object.hasOwn(factors, tier) ? factors[tier] : 1;
}

/**
 * Whether `price` knows what a call billed at `tier` costs: a standard tier, or one its
 * `serviceTierFactors` lists. A `priority` call on a price without a factor for it is
 * billed at the standard rates, below what the provider charges.
 */
export function serviceTierPriced(price: ModelPricing, tier: string | undefined): boolean {
  if (tier === undefined || STANDARD_TIERS.has(tier)) return true;
  const factors = price.serviceTierFactors;
  return factors !== undefined && Object.hasOwn(factors, tier);
}

/** The tokens' dollars at the standard tier: everything `dollarsAt` bills by the token. */
function tokenDollars(price: ModelPricing, counts: TokenCounts): number {
  const input = counts.inputTokens;
  const rates = price.tiers ? ratesForPrompt(price, input) : price;
  const cached = Math.min(Math.max(counts.cachedInputTokens ?? 0, 0), input);
  // Reads and writes are disjoint parts of the prompt: together never more than all of it.
  const written = Math.min(Math.max(counts.cacheWriteInputTokens ?? 0, 0), input - cached);
  const writtenFor1h = Math.min(Math.max(counts.cacheWrite1hInputTokens ?? 0, 0), written);
  const audio = Math.min(Math.max(counts.audioInputTokens ?? 0, 0), input - cached - written);
  const image = Math.min(
    Math.max(counts.imageInputTokens ?? 0, 0),
    input - cached - written - audio,
  );
  const output = counts.outputTokens;
  const imageOutput = Math.min(Math.max(counts.imageOutputTokens ?? 0, 0), output);
  const audioOutput = Math.min(Math.max(counts.audioOutputTokens ?? 0, 0), output - imageOutput);
  const writeRate = rates.cacheWritePer1k ?? rates.inputPer1k;
  return (
    ((input - cached - written - audio - image) / 1000) * rates.inputPer1k +
    (audio / 1000) * (price.audioInputPer1k ?? rates.inputPer1k) +
    (image / 1000) * (rates.imageInputPer1k ?? rates.inputPer1k) +
    (cached / 1000) * (rates.cachedInputPer1k ?? rates.inputPer1k) +
    ((written - writtenFor1h) / 1000) * writeRate +
    (writtenFor1h / 1000) * (rates.cacheWrite1hPer1k ?? writeRate) +
    ((output - imageOutput - audioOutput) / 1000) * rates.outputPer1k +
    (imageOutput / 1000) * (rates.imageOutputPer1k ?? rates.outputPer1k) +
    (audioOutput / 1000) * (price.audioOutputPer1k ?? rates.outputPer1k)
  );
}

/**
 * The web searches a model ran as a server tool: one grounded prompt for the call where
 * the price bills so (`groundedPromptPer1k`: Gemini 2.x), else each search at the price's
 * rate or Anthropic's.
 */
function webSearchDollars(price: ModelPricing, runs: ServerToolCounts | undefined): number {
  const searches = runs?.web_search;
  // Guarded: most calls run none, and a count is never below 0 in the dollars.
  if (searches === undefined || !(searches > 0)) return 0;
  if (price.groundedPromptPer1k !== undefined) return price.groundedPromptPer1k / 1000;
  return (searches / 1000) * (price.webSearchPer1k ?? DEFAULT_WEB_SEARCH_PER_1K);
}

/** One image's price: its `quality/size`, then its quality, then its size, then `perImage`. */
export function imagePrice(price: ModelPricing, variant: string | undefined): number {
  const variants = price.perImageVariants;
  if (variants && variant) {
    const [first, second] = variant.split('/');
    for (const key of [variant, first, second]) {
      if (key && Object.hasOwn(variants, key)) return variants[key];
    }
  }
  return price.perImage ?? 0;
}

/**
 * The rates a call with a prompt of `inputTokens` pays: those of the last tier its prompt
 * is longer than, over the tiers below it and the base price. The whole call is billed at
 * them (as Google and Anthropic bill long prompts), not only the tokens past the threshold.
 */
export function ratesForPrompt(price: ModelPricing, inputTokens: number): TokenRates {
  let rates: TokenRates = price;
  for (const tier of price.tiers ?? []) {
    if (inputTokens <= tier.aboveInputTokens) break;
    rates = {
      inputPer1k: tier.inputPer1k ?? rates.inputPer1k,
      outputPer1k: tier.outputPer1k ?? rates.outputPer1k,
      cachedInputPer1k: tier.cachedInputPer1k ?? rates.cachedInputPer1k,
      cacheWritePer1k: tier.cacheWritePer1k ?? rates.cacheWritePer1k,
      cacheWrite1hPer1k: tier.cacheWrite1hPer1k ?? rates.cacheWrite1hPer1k,
      imageInputPer1k: tier.imageInputPer1k ?? rates.imageInputPer1k,
      imageOutputPer1k: tier.imageOutputPer1k ?? rates.imageOutputPer1k,
    };
  }
  return rates;
}

/** US dollars; 0 when the model has no price (`modelPrice` tells which). */
export function dollarCost(
  route: RouteConfig,
  model: string,
  counts: TokenCounts,
  provider?: string,
): number {
  const price = modelPrice(route, model, provider);
  return price ? dollarsAt(price, counts) : 0;
}

export function usageCost(
  route: RouteConfig,
  model: string,
  counts: TokenCounts,
  provider?: string,
): UsageCost {
  return {
    weightedTokens: weightedTokens(route, model, counts),
    dollars: dollarCost(route, model, counts, provider),
  };
}

/** A routes array's backends: by name alone (the first route's) and by route, then name. */
interface BackendRoutes {
  readonly byName: Map<string, RouteConfig>;
  readonly byRoute: Map<string, Map<string, RouteConfig>>;
}

/** Per routes array (a config reload brings a new one). */
const routesByBackend = new WeakMap<readonly RouteConfig[], BackendRoutes>();

/**
 * The route a backend belongs to. Backend names are unique only within a route, so a
 * usage that names its route (`routeName`) is found by both: two routes may each have an
 * `openai` backend at different prices. Without a route (an event of an older build), or
 * when that route no longer has the backend (a reload), the first route naming it. An
 * index per routes array: this runs three times a request (usage price, cost header,
 * settlement), so two map look-ups and no allocation.
 */
export function routeOfBackend(
  routes: readonly RouteConfig[],
  backendName: string,
  routeName?: string,
): RouteConfig | undefined {
  const index = backendRoutes(routes);
  if (routeName !== undefined) {
    const named = index.byRoute.get(routeName)?.get(backendName);
    if (named) return named;
  }
  return index.byName.get(backendName);
}

/**
 * The backend a call goes to: the named route's own (exact: a route that no longer has it,
 * after a reload, gives none, so a call never goes out with another route's URL and key),
 * else, for a caller that names no route (an older build), the first route naming it, the
 * one pricing and budgets fall back to (routeOfBackend), so a call and its charge agree.
 */
export function backendForCall(
  routes: readonly RouteConfig[],
  backendName: string,
  routeName?: string,
): BackendConfig | undefined {
  const route =
    routeName === undefined
      ? routeOfBackend(routes, backendName)
      : backendRoutes(routes).byRoute.get(routeName)?.get(backendName);
  return route?.backends.find((backend) => backend.name === backendName);
}

function backendRoutes(routes: readonly RouteConfig[]): BackendRoutes {
  let index = routesByBackend.get(routes);
  if (!index) {
    index = indexBackends(routes);
    routesByBackend.set(routes, index);
  }
  return index;
}

function indexBackends(routes: readonly RouteConfig[]): BackendRoutes {
  const byName = new Map<string, RouteConfig>();
  const byRoute = new Map<string, Map<string, RouteConfig>>();
  for (const route of routes) {
    let ofRoute = byRoute.get(route.name);
    if (!ofRoute) {
      ofRoute = new Map();
      byRoute.set(route.name, ofRoute);
    }
    for (const backend of route.backends) {
      if (!byName.has(backend.name)) byName.set(backend.name, route);
      if (!ofRoute.has(backend.name)) ofRoute.set(backend.name, route);
    }
  }
  return { byName, byRoute };
}
