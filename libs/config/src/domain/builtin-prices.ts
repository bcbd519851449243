// The built-in price catalog: what a model costs when no route prices it, from the data
// bundled in the `@pydantic/genai-prices` package. The package can replace its data with a
// download, but only when `updatePrices` is called, which nothing here does: prices never
// come from the network. It is loaded on the first model it is asked about (its data is
// about 18 MB of resident memory), so a gateway whose models are all priced, or all on
// self-hosted backends, never loads it.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type * as GenAiPrices from '@pydantic/genai-prices';
import type { ModelPricing, PriceTier } from './gateway-config';
import { canonicalProvider, type ProviderKind } from './providers';
import { googleSearchPriceOf } from './google-search-prices';
import { serviceTierFactorsOf } from './service-tier-prices';
import { vertexCharacterPrice } from './vertex-character-prices';

const CATALOG_PACKAGE = '@pydantic/genai-prices';

/**
 * The catalog's provider id for each of our providers. Self-hosted and generic endpoints
 * (and the offline `local` one) have no list price.
 */
const CATALOG_PROVIDERS: Readonly<Record<ProviderKind, string | undefined>> = {
  openai: 'openai',
  azure: 'azure',
  anthropic: 'anthropic',
  'google-gemini': 'google',
  bedrock: 'aws',
  // The catalog's Google provider prices Vertex AI too (Gemini and Claude on Vertex).
  vertex: 'google',
  mistral: 'mistral',
  groq: 'groq',
  deepseek: 'deepseek',
  together: 'together',
  cohere: 'cohere',
  vllm: undefined,
  kserve: undefined,
  'openai-compatible': undefined,
  local: undefined,
};

/** The catalog's id for a provider name (ours, or one of its aliases); none for self-hosted. */
export function catalogProviderId(provider: string): string | undefined {
  const kind = canonicalProvider(provider);
  return kind === undefined ? undefined : CATALOG_PROVIDERS[kind];
}

/** Where the catalog says what it priced; the service's logger fits. */
export interface PriceLog {
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
}

export interface BuiltinPriceOptions {
  /** AI_GATEWAY_BUILTIN_PRICES; false leaves every unpriced model at $0. */
  readonly enabled: boolean;
  readonly log?: PriceLog;
  readonly now?: () => number;
}

const SILENT: PriceLog = { info: () => undefined, warn: () => undefined };

/** A conditional (dated or time-of-day) price is looked up again after this long. */
const CONDITIONAL_PRICE_TTL_MS = 60_000;
/** Wildcard backends pass clients' model names through: the memo must not grow with them. */
const MAX_MEMO_ENTRIES = 1024;

interface MemoEntry {
  readonly price: ModelPricing | undefined;
  /** When to look it up again: Infinity for all but conditional prices. */
  readonly until: number;
}

/** A catalog price as found, with what the log says about it. */
interface CatalogFind {
  readonly price: ModelPricing;
  readonly catalogModel: string;
  readonly conditional: boolean;
  readonly notes: readonly string[];
  /** Where the price comes from when not the catalog package. */
  readonly source?: string;
}

let settings: Required<BuiltinPriceOptions> = { enabled: true, log: SILENT, now: Date.now };
// By provider, then model: a `provider\nmodel` key was a new string to build and hash on
// every priced call (bench/micro/policies.ts).
const memo = new Map<string, Map<string, MemoEntry>>();
let memoEntries = 0;
let loaded: { readonly lib: typeof GenAiPrices; readonly version: string } | undefined;

/** Sets up the catalog for this process (and forgets what it had looked up). */
export function configureBuiltinPrices(options: BuiltinPriceOptions): void {
  settings = {
    enabled: options.enabled,
    log: options.log ?? SILENT,
    now: options.now ?? Date.now,
  };
  memo.clear();
  memoEntries = 0;
}

/** Whether this process has loaded the catalog package (it loads on first need). */
export function builtinCatalogLoaded(): boolean {
  return loaded !== undefined;
}

/**
 * The catalog's price of `model` on a backend of `provider`, or undefined when it has none
 * (or the catalog is off). Found once per (provider, model), hit or miss, and said so in the
 * log; after that a Map lookup.
 */
export function builtinPrice(provider: string, model: string): ModelPricing | undefined {
  const known = memo.get(provider)?.get(model);
  if (known !== undefined && (known.until === Infinity || settings.now() < known.until)) {
    return known.price;
  }
  const now = settings.now();
  const providerId = catalogProviderId(provider);
  const listed = catalogModelName(provider, model);
  const found =
    settings.enabled && providerId
      ? (findInCatalog(providerId, listed, now) ?? listedApart(provider, listed))
      : undefined;
  if (known === undefined) report(provider, model, found);
  const until = found?.conditional ? now + CONDITIONAL_PRICE_TTL_MS : Infinity;
  remember(provider, model, { price: found?.price, until });
  return found?.price;
}

function remember(provider: string, model: string, entry: MemoEntry): void {
  if (memoEntries >= MAX_MEMO_ENTRIES) {
    memo.clear();
    memoEntries = 0;
  }
  let models = memo.get(provider);
  if (!models) {
    models = new Map();
    memo.set(provider, models);
  }
  if (!models.has(model)) memoEntries++;
  models.set(model, entry);
}

/**
 * The model's name as the catalog lists it. A Vertex backend may name its model by its
 * resource path ("publishers/google/models/gemini-2.5-flash", as the adapter accepts),
 * which the catalog does not know: without the id alone such a backend's calls cost $0.
 */
function catalogModelName(provider: string, model: string): string {
  return canonicalProvider(provider) === 'vertex'
    ? model.replace(/^publishers\/[^/]+\/models\//i, '')
    : model;
}

/** A list price the catalog lacks, kept here: Vertex's per-character text embeddings. */
function listedApart(provider: string, model: string): CatalogFind | undefined {
  if (canonicalProvider(provider) !== 'vertex') return undefined;
  const price = vertexCharacterPrice(model);
  if (!price) return undefined;
  return {
    price,
    catalogModel: model,
    conditional: false,
    notes: [],
    source: "Google's per-character list price for Vertex text embeddings",
  };
}

function report(provider: string, model: string, found: CatalogFind | undefined): void {
  if (found === undefined) {
    // An Azure deployment's name is its owner's: its calls are priced as the model it answers as.
    const fallback =
      canonicalProvider(provider) === 'azure' ? ' unless priced as the model Azure answers as' : '';
    settings.log.warn(
      `no price for ${model}: its calls cost $0 in metrics and budgets${fallback}`,
      {
        provider,
        builtinPrices: settings.enabled,
        fix: 'add it to costControl.modelPricing',
      },
    );
    return;
  }
  const source = [
    found.source ?? `genai-prices ${loaded?.version ?? 'unknown'}`,
    ...found.notes,
  ].join('; ');
  settings.log.info(`priced ${model} from the built-in catalog (${source})`, {
    provider,
    catalogModel: found.catalogModel,
    ...found.price,
  });
}

function catalog(): NonNullable<typeof loaded> {
  if (loaded === undefined) {
    // Deferred on purpose: see the top of the file.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const lib = require(CATALOG_PACKAGE) as typeof GenAiPrices;
    loaded = { lib, version: packageVersion() };
  }
  return loaded;
}

/** The package's version, which dates its bundled prices. */
function packageVersion(): string {
  try {
    const main = require.resolve(CATALOG_PACKAGE);
    const manifest = JSON.parse(
      readFileSync(join(dirname(main), '..', 'package.json'), 'utf8'),
    ) as { version?: unknown };
    return typeof manifest.version === 'string' ? manifest.version : 'unknown';
  } catch {
    return 'unknown';
  }
}

function findInCatalog(providerId: string, model: string, now: number): CatalogFind | undefined {
  const { lib } = catalog();
  let result: GenAiPrices.PriceCalculationResult;
  try {
    // No usage: only the model's match and the price in force at `now` are wanted.
    result = lib.calcPrice({ input_tokens: 0, output_tokens: 0 }, model, {
      providerId,
      timestamp: new Date(now),
    });
  } catch {
    return undefined;
  }
  if (!result) return undefined;
  const listed = result.model_price;
  const hourByRule = hourWritesByRule(providerId, result.model.id, listed);
  const prices = hourByRule ? { ...listed, cache_write_1h_mtok: hourByRule } : listed;
  const input = baseRate(prices.input_mtok);
  const output = baseRate(prices.output_mtok);
  const cached = baseRate(prices.cache_read_mtok);
  // The 5-minute write price where the catalog tells a 1-hour one apart.
  const written = baseRate(prices.cache_write_mtok);
  const writtenFor1h = baseRate(prices.cache_write_1h_mtok);
  const audio = baseRate(prices.input_audio_mtok);
  // What a speech model says (gpt-realtime), listed apart from its text output.
  const audioOutput = baseRate(prices.output_audio_mtok);
  // Images sent to an image model (gpt-image-1 edits), listed apart from text input.
  const image = baseRate(prices.input_image_mtok);
  // The images an image model makes, where listed apart from its text output (gpt-image-1.5,
  // Gemini's image models); else they are its output_mtok.
  const imageOutput = baseRate(prices.output_image_mtok);
  // Speech to text billed by the hour of audio (whisper-1, Whisper on Groq).
  const hourly = baseRate(prices.input_audio_hours) ?? baseRate(prices.audio_hours);
  // Priced by something else still (pages, images): not ours to price.
  if (
    input === undefined &&
    output === undefined &&
    hourly === undefined &&
    Object.keys(prices).length > 0
  ) {
    return undefined;
  }
  const tiers = catalogTiers(prices);
  const serviceTierFactors = serviceTierFactorsOf(providerId, result.model.id);
  const googleSearch = googleSearchPriceOf(providerId, result.model.id);
  const price: ModelPricing = {
    inputPer1k: (input ?? 0) / 1000,
    outputPer1k: (output ?? 0) / 1000,
    ...(cached === undefined ? {} : { cachedInputPer1k: cached / 1000 }),
    ...(written === undefined ? {} : { cacheWritePer1k: written / 1000 }),
    ...(writtenFor1h === undefined ? {} : { cacheWrite1hPer1k: writtenFor1h / 1000 }),
    ...(image === undefined ? {} : { imageInputPer1k: image / 1000 }),
    ...(imageOutput === undefined ? {} : { imageOutputPer1k: imageOutput / 1000 }),
    ...(audio === undefined ? {} : { audioInputPer1k: audio / 1000 }),
    ...(audioOutput === undefined ? {} : { audioOutputPer1k: audioOutput / 1000 }),
    ...(hourly === undefined ? {} : { perMinute: hourly / 60 }),
    ...(tiers.length === 0 ? {} : { tiers }),
    ...(serviceTierFactors === undefined ? {} : { serviceTierFactors }),
    ...googleSearch,
  };
  const conditional = Array.isArray(result.model.prices);
  return {
    price,
    catalogModel: result.model.id,
    conditional,
    notes: [
      ...tierNote(prices),
      ...(hourByRule ? ['1-hour cache writes at twice input, as Anthropic bills them'] : []),
      ...(conditional
        ? conditionNote(result.model.prices as GenAiPrices.ConditionalPrice[], prices)
        : []),
    ],
  };
}

/**
 * The 1-hour cache-write price of a Claude model whose catalog entry lists none (Claude on
 * Bedrock): twice input, Anthropic's documented rule for 1-hour writes. Undefined where the
 * catalog lists one (Anthropic's own entries do) and for other providers' models, whose
 * 1-hour writes, if any, stay at the write price.
 */
function hourWritesByRule(
  providerId: string,
  modelId: string,
  prices: GenAiPrices.ModelPrice,
): GenAiPrices.ModelPrice[string] {
  const claude = providerId === 'anthropic' || modelId.toLowerCase().includes('claude');
  const input = prices.input_mtok;
  if (!claude || prices.cache_write_1h_mtok !== undefined || input === undefined) return undefined;
  if (typeof input === 'number') return input * 2;
  return { base: input.base * 2, tiers: input.tiers.map((t) => ({ ...t, price: t.price * 2 })) };
}

/** Dollars per million tokens of a flat price, or of a tiered price's base tier. */
function baseRate(value: GenAiPrices.ModelPrice[string]): number | undefined {
  if (typeof value === 'number') return value;
  if (value !== undefined && typeof value.base === 'number') return value.base;
  return undefined;
}

/** Dollars per million tokens of a price for a prompt of `inputTokens`, tiers included. */
function rateFor(value: GenAiPrices.ModelPrice[string], inputTokens: number): number | undefined {
  if (typeof value !== 'object') return baseRate(value);
  let rate = value.base;
  // The catalog's rule: a tier is in force for a prompt longer than its start.
  for (const tier of value.tiers) if (inputTokens > tier.start) rate = tier.price;
  return rate;
}

/**
 * The catalog's long-prompt tiers as ours: one tier at each threshold where any of the
 * rates changes, each carrying every rate the model has, as in force past that threshold.
 */
function catalogTiers(prices: GenAiPrices.ModelPrice): PriceTier[] {
  const rates = {
    inputPer1k: prices.input_mtok,
    outputPer1k: prices.output_mtok,
    cachedInputPer1k: prices.cache_read_mtok,
    cacheWritePer1k: prices.cache_write_mtok,
    cacheWrite1hPer1k: prices.cache_write_1h_mtok,
    imageInputPer1k: prices.input_image_mtok,
    imageOutputPer1k: prices.output_image_mtok,
  };
  const starts = new Set<number>();
  for (const value of Object.values(rates)) {
    if (typeof value === 'object') for (const tier of value.tiers) starts.add(tier.start);
  }
  return [...starts]
    .sort((a, b) => a - b)
    .map((start) => {
      const tier: Record<string, number> = { aboveInputTokens: start };
      for (const [field, value] of Object.entries(rates)) {
        const rate = rateFor(value, start + 1);
        if (rate !== undefined) tier[field] = rate / 1000;
      }
      return tier as unknown as PriceTier;
    });
}

/** The log says where a price has long-prompt tiers, which the catalog's entry carries. */
function tierNote(prices: GenAiPrices.ModelPrice): string[] {
  const tiers = catalogTiers(prices);
  if (tiers.length === 0) return [];
  const from = tiers.map((tier) => tier.aboveInputTokens).join(', ');
  return [`dearer past ${from} prompt tokens, as the catalog charges`];
}

/** Which of a model's conditional prices is in force (it is looked up again each minute). */
function conditionNote(
  conditions: readonly GenAiPrices.ConditionalPrice[],
  inForce: GenAiPrices.ModelPrice,
): string[] {
  const constraint = conditions.find((condition) => condition.prices === inForce)?.constraint;
  if (constraint === undefined) return ['its default price, of several by date or hour'];
  if (constraint.type === 'start_date') return [`price in force since ${constraint.start_date}`];
  return [`price of ${constraint.start_time} to ${constraint.end_time}`];
}
