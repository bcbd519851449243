import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { configureBuiltinPrices } from './builtin-prices';
import type { RouteConfig } from './gateway-config';
import {
  DEFAULT_WEB_SEARCH_PER_1K,
  dollarCost,
  dollarsAt,
  modelPrice,
  ratesForPrompt,
  servedModelPrice,
  usageCost,
  type TokenCounts,
} from './usage-cost';

const route = (modelPricing: unknown, backends: unknown[] = []): RouteConfig =>
  ({
    name: 'r',
    backends,
    llmRequestCosts: [],
    modelCosts: [],
    costControl: { modelPricing },
  }) as unknown as RouteConfig;

const backend = (provider: string, model?: string, modelNameOverride?: string) => ({
  name: `${provider}-${model ?? 'any'}`,
  provider,
  model,
  virtualModel: modelNameOverride ?? model,
});

const counts = { inputTokens: 1000, outputTokens: 2000 };

// Each test starts from the catalog on, with nothing looked up yet.
afterEach(() => configureBuiltinPrices({ enabled: true }));

describe('servedModelPrice', () => {
  const azure = { provider: 'azure', model: 'prod-chat' };
  const pricing = {
    'prod-chat': { inputPer1k: 1, outputPer1k: 2 },
    'gpt-4o': { inputPer1k: 3, outputPer1k: 4 },
  };

  it('prices the model sent first, then the model the provider answered as', () => {
    const own = route(pricing, [backend('azure', 'prod-chat', 'chat')]);
    assert.deepEqual(
      servedModelPrice(own, azure, { answeredModel: 'gpt-4o' }),
      pricing['prod-chat'],
    );
    const other = route({ 'gpt-4o': pricing['gpt-4o'] }, [backend('azure', 'prod-chat', 'chat')]);
    assert.deepEqual(
      servedModelPrice(other, azure, { answeredModel: 'gpt-4o' }),
      pricing['gpt-4o'],
    );
    assert.equal(servedModelPrice(other, azure, {}), undefined);
  });

  it("prices the model the provider ran over the catalog's price of a deployment's name", () => {
    configureBuiltinPrices({ enabled: true });
    // A deployment named for one model and running another (upgraded in place, or named so
    // by its owner): the catalog's guess from its name is not what Azure bills.
    const named = route({}, [backend('azure', 'gpt-4o-mini', 'chat')]);
    const sent = { provider: 'azure', model: 'gpt-4o-mini' };
    assert.deepEqual(
      servedModelPrice(named, sent, { answeredModel: 'gpt-4o-2024-05-13' }),
      modelPrice(named, 'gpt-4o-2024-05-13', 'azure'),
    );
    assert.ok(modelPrice(named, 'gpt-4o-2024-05-13', 'azure'), 'the catalog prices it');
    // The same on a wildcard backend, whose deployment the client names.
    const wildcard = route({}, [backend('azure')]);
    assert.deepEqual(
      servedModelPrice(wildcard, sent, { answeredModel: 'gpt-4o-2024-05-13' }),
      modelPrice(wildcard, 'gpt-4o-2024-05-13', 'azure'),
    );
    // An answered model the catalog does not know leaves the name's price.
    assert.deepEqual(
      servedModelPrice(named, sent, { answeredModel: 'no-such-model-anywhere' }),
      modelPrice(named, 'gpt-4o-mini', 'azure'),
    );
  });
});

describe('dollarCost', () => {
  it('prices a model from its own entry', () => {
    const r = route({ 'gpt-4': { inputPer1k: 0.03, outputPer1k: 0.06 } });
    assert.equal(dollarCost(r, 'gpt-4', counts), 0.03 + 0.12);
  });

  it('costs 0, not NaN, for a model named like an Object.prototype member', () => {
    const r = route({ 'gpt-4': { inputPer1k: 0.03, outputPer1k: 0.06 } });
    for (const model of ['constructor', '__proto__', 'toString', 'hasOwnProperty']) {
      assert.equal(dollarCost(r, model, counts), 0, model);
      assert.equal(usageCost(r, model, counts).dollars, 0, model);
    }
  });

  it('still prices a model literally configured as "constructor"', () => {
    const pricing = Object.fromEntries([['constructor', { inputPer1k: 1, outputPer1k: 1 }]]);
    assert.equal(dollarCost(route(pricing), 'constructor', counts), 3);
  });
});

describe('dollarCost with cached input', () => {
  const cachedCounts = { inputTokens: 10_000, cachedInputTokens: 8_000, outputTokens: 1_000 };

  it('bills cache reads at cachedInputPer1k and the rest of the input at inputPer1k', () => {
    const r = route({
      claude: { inputPer1k: 0.003, cachedInputPer1k: 0.0003, outputPer1k: 0.015 },
    });
    const expected = 2 * 0.003 + 8 * 0.0003 + 1 * 0.015;
    assert.ok(Math.abs(dollarCost(r, 'claude', cachedCounts) - expected) < 1e-12);
    assert.ok(Math.abs(usageCost(r, 'claude', cachedCounts).dollars - expected) < 1e-12);
  });

  it('bills cache reads as input when the entry sets no cachedInputPer1k', () => {
    const r = route({ claude: { inputPer1k: 0.003, outputPer1k: 0.015 } });
    const expected = 10 * 0.003 + 1 * 0.015;
    assert.ok(Math.abs(dollarCost(r, 'claude', cachedCounts) - expected) < 1e-12);
  });

  it('never bills more cached tokens than input tokens, nor a negative count', () => {
    const price = { inputPer1k: 1, cachedInputPer1k: 0.1, outputPer1k: 0 };
    assert.equal(
      dollarsAt(price, { inputTokens: 1000, cachedInputTokens: 5000, outputTokens: 0 }),
      0.1,
    );
    assert.equal(
      dollarsAt(price, { inputTokens: 1000, cachedInputTokens: -5, outputTokens: 0 }),
      1,
    );
  });
});

describe('dollarCost with cache writes', () => {
  // 10k prompt tokens: 6k read from the cache, 3k written to it, 1k neither.
  const counts = {
    inputTokens: 10_000,
    cachedInputTokens: 6_000,
    cacheWriteInputTokens: 3_000,
    outputTokens: 1_000,
  };

  it('bills cache writes at cacheWritePer1k, reads at cachedInputPer1k, the rest as input', () => {
    const r = route({
      claude: {
        inputPer1k: 0.003,
        cachedInputPer1k: 0.0003,
        cacheWritePer1k: 0.00375,
        outputPer1k: 0.015,
      },
    });
    const expected = 1 * 0.003 + 6 * 0.0003 + 3 * 0.00375 + 1 * 0.015;
    assert.ok(Math.abs(dollarCost(r, 'claude', counts) - expected) < 1e-12);
    assert.ok(Math.abs(usageCost(r, 'claude', counts).dollars - expected) < 1e-12);
  });

  it('bills audio seconds at perMinute beside the tokens, and none without a perMinute', () => {
    const whisper = route({ 'whisper-1': { inputPer1k: 0, outputPer1k: 0, perMinute: 0.006 } });
    const audio = { inputTokens: 0, outputTokens: 0, audioSeconds: 90 };
    assert.ok(Math.abs(dollarCost(whisper, 'whisper-1', audio) - 1.5 * 0.006) < 1e-12);
    const tokens = route({ 'gpt-4o-transcribe': { inputPer1k: 0.006, outputPer1k: 0.01 } });
    const both = { inputTokens: 1000, outputTokens: 100, audioSeconds: 90 };
    assert.ok(Math.abs(dollarCost(tokens, 'gpt-4o-transcribe', both) - (0.006 + 0.001)) < 1e-12);
  });

  it('bills images at their variant, then their quality, their size, then perImage', () => {
    const r = route({
      'dall-e-3': {
        inputPer1k: 0,
        outputPer1k: 0,
        perImage: 0.04,
        perImageVariants: { hd: 0.08, '1792x1024': 0.08, 'hd/1792x1024': 0.12 },
      },
    });
    const cost = (imageVariant?: string) =>
      dollarCost(r, 'dall-e-3', { inputTokens: 0, outputTokens: 0, images: 2, imageVariant });
    assert.equal(cost('hd/1792x1024'), 0.24);
    assert.equal(cost('hd/1024x1024'), 0.16);
    assert.equal(cost('standard/1792x1024'), 0.16);
    assert.equal(cost('1792x1024'), 0.16);
    assert.equal(cost('standard/1024x1024'), 0.08);
    assert.equal(cost(undefined), 0.08);
    assert.equal(cost('constructor'), 0.08, 'only its own keys');
    const tokens = route({ 'gpt-image-1': { inputPer1k: 0.005, outputPer1k: 0.04 } });
    const drawn = { inputTokens: 1000, outputTokens: 1000, images: 1 };
    assert.ok(Math.abs(dollarCost(tokens, 'gpt-image-1', drawn) - 0.045) < 1e-12);
  });

  it('bills rerank search units at per1kSearches beside the tokens', () => {
    const r = route({ 'rerank-v3.5': { inputPer1k: 0.001, outputPer1k: 0, per1kSearches: 2 } });
    const ranked = { inputTokens: 1000, outputTokens: 0, searches: 3 };
    assert.ok(Math.abs(dollarCost(r, 'rerank-v3.5', ranked) - (0.001 + 0.006)) < 1e-12);
    const tokensOnly = route({ m: { inputPer1k: 0.001, outputPer1k: 0 } });
    assert.ok(Math.abs(dollarCost(tokensOnly, 'm', ranked) - 0.001) < 1e-12);
  });

  it("bills a server tool's web searches at webSearchPer1k, else at Anthropic's $10 per 1000", () => {
    const claude = { inputPer1k: 0.003, outputPer1k: 0.015 };
    const searched = {
      inputTokens: 1000,
      outputTokens: 1000,
      serverToolRequests: { web_search: 3, web_fetch: 2 },
    };
    const listed = route({ 'claude-sonnet-4-5': claude });
    // Web fetches have no fee of their own: only the three searches add to the tokens.
    assert.ok(Math.abs(dollarCost(listed, 'claude-sonnet-4-5', searched) - (0.018 + 0.03)) < 1e-12);
    assert.equal(DEFAULT_WEB_SEARCH_PER_1K, 10);
    const own = route({ 'claude-sonnet-4-5': { ...claude, webSearchPer1k: 5 } });
    assert.ok(Math.abs(dollarCost(own, 'claude-sonnet-4-5', searched) - (0.018 + 0.015)) < 1e-12);
    const free = route({ 'claude-sonnet-4-5': { ...claude, webSearchPer1k: 0 } });
    assert.ok(Math.abs(dollarCost(free, 'claude-sonnet-4-5', searched) - 0.018) < 1e-12);
    const fetchedOnly = { ...searched, serverToolRequests: { web_fetch: 2 } };
    assert.ok(Math.abs(dollarCost(listed, 'claude-sonnet-4-5', fetchedOnly) - 0.018) < 1e-12);
  });

  it('bills US-only inference (inferenceGeo: us) at 1.1 times every token, not the searches', () => {
    const claude = route({
      'claude-opus-4-6': { inputPer1k: 0.005, outputPer1k: 0.025, cachedInputPer1k: 0.0005 },
    });
    const used = { inputTokens: 2000, cachedInputTokens: 1000, outputTokens: 1000 };
    const tokens = 0.005 + 0.0005 + 0.025;
    const at = (counts: TokenCounts) => dollarCost(claude, 'claude-opus-4-6', counts);
    assert.ok(Math.abs(at(used) - tokens) < 1e-12);
    assert.ok(Math.abs(at({ ...used, inferenceGeo: 'us' }) - tokens * 1.1) < 1e-12);
    assert.ok(Math.abs(at({ ...used, inferenceGeo: 'global' }) - tokens) < 1e-12);
    const searched = { ...used, inferenceGeo: 'us', serverToolRequests: { web_search: 1 } };
    assert.ok(Math.abs(at(searched) - (tokens * 1.1 + 0.01)) < 1e-12);
  });

  it('multiplies the tokens alone by the service tier and the geography, together', () => {
    const price = {
      inputPer1k: 0.001,
      outputPer1k: 0.004,
      perMinute: 0.006,
      webSearchPer1k: 10,
      serviceTierFactors: { flex: 0.5, priority: 2 },
    };
    const tokens = 0.001 + 0.004;
    const fees = 0.006 + 0.01; // a minute of audio, a web search: fees by the piece
    const used: TokenCounts = {
      inputTokens: 1000,
      outputTokens: 1000,
      audioSeconds: 60,
      serverToolRequests: { web_search: 1 },
    };
    const near = (actual: number, expected: number, what: string) =>
      assert.ok(Math.abs(actual - expected) < 1e-12, `${what}: ${actual} != ${expected}`);
    near(dollarsAt(price, used), tokens + fees, 'standard');
    near(dollarsAt(price, { ...used, serviceTier: 'priority' }), tokens * 2 + fees, 'priority');
    near(dollarsAt(price, { ...used, serviceTier: 'flex' }), tokens * 0.5 + fees, 'flex');
    near(
      dollarsAt(price, { ...used, serviceTier: 'priority', inferenceGeo: 'us' }),
      tokens * 2 * 1.1 + fees,
      'priority in the US',
    );
    // A tier the price has no factor for bills at its own rates.
    near(dollarsAt(price, { ...used, serviceTier: 'scale' }), tokens + fees, 'scale');
  });

  it('bills web searches on a catalog price too (Claude on the Anthropic API and Vertex AI)', () => {
    const searched = {
      inputTokens: 0,
      outputTokens: 0,
      serverToolRequests: { web_search: 2 },
    };
    for (const provider of ['anthropic', 'vertex']) {
      const price = modelPrice(route({}), 'claude-sonnet-4-5', provider);
      assert.ok(price, `${provider} lists claude-sonnet-4-5`);
      assert.ok(Math.abs(dollarsAt(price, searched) - 0.02) < 1e-12, provider);
    }
  });

  it('bills characters spoken at per1kCharacters beside the tokens', () => {
    const r = route({ 'tts-1': { inputPer1k: 0.001, outputPer1k: 0, per1kCharacters: 0.015 } });
    const spoken = { inputTokens: 1000, outputTokens: 0, characters: 4096 };
    assert.ok(Math.abs(dollarCost(r, 'tts-1', spoken) - (0.001 + 4.096 * 0.015)) < 1e-12);
    const tokensOnly = route({ m: { inputPer1k: 0.001, outputPer1k: 0 } });
    assert.ok(Math.abs(dollarCost(tokensOnly, 'm', spoken) - 0.001) < 1e-12);
  });

  it('bills audio input tokens at audioInputPer1k, else at inputPer1k', () => {
    const audio = { inputTokens: 1000, audioInputTokens: 800, outputTokens: 0 };
    const rated = route({
      m: { inputPer1k: 0.0025, audioInputPer1k: 0.006, outputPer1k: 0.01 },
    });
    assert.ok(Math.abs(dollarCost(rated, 'm', audio) - (0.2 * 0.0025 + 0.8 * 0.006)) < 1e-12);
    const flat = route({ m: { inputPer1k: 0.0025, outputPer1k: 0.01 } });
    assert.ok(Math.abs(dollarCost(flat, 'm', audio) - 0.0025) < 1e-12);
    // Never more audio than the input: the excess is not billed twice.
    const over = { inputTokens: 100, audioInputTokens: 500, outputTokens: 0 };
    assert.ok(Math.abs(dollarCost(rated, 'm', over) - 0.1 * 0.006) < 1e-12);
  });

  it('bills 1-hour cache writes at cacheWrite1hPer1k and the other writes at cacheWritePer1k', () => {
    const price = {
      inputPer1k: 0.003,
      cachedInputPer1k: 0.0003,
      cacheWritePer1k: 0.00375,
      cacheWrite1hPer1k: 0.006,
      outputPer1k: 0.015,
    };
    // Of the 3k written: 1k for an hour, 2k for five minutes.
    const mixed = { ...counts, cacheWrite1hInputTokens: 1_000 };
    const expected = 1 * 0.003 + 6 * 0.0003 + 2 * 0.00375 + 1 * 0.006 + 1 * 0.015;
    assert.ok(Math.abs(dollarsAt(price, mixed) - expected) < 1e-12);
    const allHour = { ...counts, cacheWrite1hInputTokens: 3_000 };
    const hourOnly = 1 * 0.003 + 6 * 0.0003 + 3 * 0.006 + 1 * 0.015;
    assert.ok(Math.abs(dollarsAt(price, allHour) - hourOnly) < 1e-12);
    // More 1-hour tokens than were written at all: no more than the writes.
    const over = { ...counts, cacheWrite1hInputTokens: 9_000 };
    assert.ok(Math.abs(dollarsAt(price, over) - hourOnly) < 1e-12);
    // A negative count is none.
    const negative = { ...counts, cacheWrite1hInputTokens: -5 };
    const noHour = 1 * 0.003 + 6 * 0.0003 + 3 * 0.00375 + 1 * 0.015;
    assert.ok(Math.abs(dollarsAt(price, negative) - noHour) < 1e-12);
  });

  it('bills 1-hour writes at cacheWritePer1k without cacheWrite1hPer1k, else at inputPer1k', () => {
    const mixed = { ...counts, cacheWrite1hInputTokens: 1_000 };
    const writes = { inputPer1k: 0.003, cacheWritePer1k: 0.00375, outputPer1k: 0 };
    // 6k read and 1k neither at input (no read price), the 3k written all at the write price.
    assert.ok(Math.abs(dollarsAt(writes, mixed) - (7 * 0.003 + 3 * 0.00375)) < 1e-12);
    const flat = { inputPer1k: 0.003, outputPer1k: 0 };
    assert.ok(Math.abs(dollarsAt(flat, mixed) - 10 * 0.003) < 1e-12);
    // Only a 1-hour price: the 5-minute writes are billed as input, the 1-hour ones at theirs.
    const hourOnly = { inputPer1k: 0.003, cacheWrite1hPer1k: 0.006, outputPer1k: 0 };
    assert.ok(Math.abs(dollarsAt(hourOnly, mixed) - (9 * 0.003 + 1 * 0.006)) < 1e-12);
  });

  it('bills cache writes as input when the entry sets no cacheWritePer1k', () => {
    const r = route({
      claude: { inputPer1k: 0.003, cachedInputPer1k: 0.0003, outputPer1k: 0.015 },
    });
    const expected = 4 * 0.003 + 6 * 0.0003 + 1 * 0.015;
    assert.ok(Math.abs(dollarCost(r, 'claude', counts) - expected) < 1e-12);
  });

  it('never bills more written tokens than the input not read from the cache, nor a negative count', () => {
    const price = { inputPer1k: 1, cachedInputPer1k: 0.1, cacheWritePer1k: 2, outputPer1k: 0 };
    const at = (cachedInputTokens: number, cacheWriteInputTokens: number) =>
      dollarsAt(price, {
        inputTokens: 1000,
        cachedInputTokens,
        cacheWriteInputTokens,
        outputTokens: 0,
      });
    assert.ok(Math.abs(at(400, 5000) - (0.04 + 1.2)) < 1e-12);
    assert.equal(at(0, -5), 1);
    assert.ok(Math.abs(at(0, 1000) - 2) < 1e-12);
  });
});

describe('dollarsAt with image input', () => {
  // gpt-image-1: $5 text, $10 image input, $40 output per 1M tokens.
  const image = { inputPer1k: 0.005, imageInputPer1k: 0.01, outputPer1k: 0.04 };
  // An edit: 1,300 input tokens of which 1,200 were the images sent, 4,160 out.
  const edit = { inputTokens: 1_300, imageInputTokens: 1_200, outputTokens: 4_160 };

  it('bills image input tokens at imageInputPer1k and the text at inputPer1k', () => {
    const expected = 0.1 * 0.005 + 1.2 * 0.01 + 4.16 * 0.04;
    assert.ok(Math.abs(dollarsAt(image, edit) - expected) < 1e-12);
  });

  it('bills them at inputPer1k without imageInputPer1k', () => {
    const flat = { inputPer1k: 0.005, outputPer1k: 0.04 };
    assert.ok(Math.abs(dollarsAt(flat, edit) - (1.3 * 0.005 + 4.16 * 0.04)) < 1e-12);
  });

  it('never bills more image tokens than the input, nor a negative count', () => {
    const over = { ...edit, imageInputTokens: 9_000 };
    assert.ok(Math.abs(dollarsAt(image, over) - (1.3 * 0.01 + 4.16 * 0.04)) < 1e-12);
    const negative = { ...edit, imageInputTokens: -5 };
    assert.ok(Math.abs(dollarsAt(image, negative) - (1.3 * 0.005 + 4.16 * 0.04)) < 1e-12);
  });

  it('takes a tier’s image rate past its threshold, else the one below', () => {
    const tiered = {
      ...image,
      tiers: [{ aboveInputTokens: 1_000, inputPer1k: 0.006, imageInputPer1k: 0.02 }],
    };
    const expected = 0.1 * 0.006 + 1.2 * 0.02 + 4.16 * 0.04;
    assert.ok(Math.abs(dollarsAt(tiered, edit) - expected) < 1e-12);
    const inherited = { ...image, tiers: [{ aboveInputTokens: 1_000, inputPer1k: 0.006 }] };
    const below = 0.1 * 0.006 + 1.2 * 0.01 + 4.16 * 0.04;
    assert.ok(Math.abs(dollarsAt(inherited, edit) - below) < 1e-12);
  });
});

describe('dollarsAt with image output', () => {
  // gpt-image-1.5: $5 text input, $10 text output, $32 image output per 1M tokens.
  const image = { inputPer1k: 0.005, outputPer1k: 0.01, imageOutputPer1k: 0.032 };
  // A generation: 50 in, 4,280 out of which 4,160 were the image.
  const made = { inputTokens: 50, outputTokens: 4_280, imageOutputTokens: 4_160 };

  it('bills image output tokens at imageOutputPer1k and the text at outputPer1k, else all at outputPer1k', () => {
    const expected = 0.05 * 0.005 + 0.12 * 0.01 + 4.16 * 0.032;
    assert.ok(Math.abs(dollarsAt(image, made) - expected) < 1e-12);
    // Without imageOutputPer1k, at outputPer1k.
    const flat = { inputPer1k: 0.005, outputPer1k: 0.01 };
    assert.ok(Math.abs(dollarsAt(flat, made) - (0.05 * 0.005 + 4.28 * 0.01)) < 1e-12);
  });

  it('never bills more image tokens than the output, nor a negative count', () => {
    const over = { ...made, imageOutputTokens: 9_000 };
    assert.ok(Math.abs(dollarsAt(image, over) - (0.05 * 0.005 + 4.28 * 0.032)) < 1e-12);
    const negative = { ...made, imageOutputTokens: -5 };
    assert.ok(Math.abs(dollarsAt(image, negative) - (0.05 * 0.005 + 4.28 * 0.01)) < 1e-12);
  });

  it('takes a tier’s image output rate past its threshold, else the one below', () => {
    const tiered = {
      ...image,
      tiers: [{ aboveInputTokens: 10, outputPer1k: 0.02, imageOutputPer1k: 0.064 }],
    };
    const expected = 0.05 * 0.005 + 0.12 * 0.02 + 4.16 * 0.064;
    assert.ok(Math.abs(dollarsAt(tiered, made) - expected) < 1e-12);
    const inherited = { ...image, tiers: [{ aboveInputTokens: 10, outputPer1k: 0.02 }] };
    const below = 0.05 * 0.005 + 0.12 * 0.02 + 4.16 * 0.032;
    assert.ok(Math.abs(dollarsAt(inherited, made) - below) < 1e-12);
  });
});

describe('long-prompt tiers', () => {
  const price = {
    inputPer1k: 1,
    outputPer1k: 10,
    cachedInputPer1k: 0.1,
    tiers: [
      { aboveInputTokens: 200_000, inputPer1k: 2, outputPer1k: 15, cachedInputPer1k: 0.2 },
      // Sets input only: output and cache reads stay at the tier below's.
      { aboveInputTokens: 1_000_000, inputPer1k: 4 },
    ],
  };

  it('bills the whole call at the rates of the last tier its prompt is longer than', () => {
    const at = (inputTokens: number) => dollarsAt(price, { inputTokens, outputTokens: 1000 });
    assert.equal(at(200_000), 200 + 10, 'at the threshold: the base rates');
    assert.equal(at(200_001), 200_001 * 0.002 + 15, 'past it: every token at the tier');
    assert.equal(at(1_000_001), 1_000_001 * 0.004 + 15, 'a tier inherits what it leaves out');
  });

  it('prices cache reads at the tier’s own read rate', () => {
    const counts = { inputTokens: 300_000, cachedInputTokens: 100_000, outputTokens: 0 };
    assert.ok(Math.abs(dollarsAt(price, counts) - (200 * 2 + 100 * 0.2)) < 1e-9);
    assert.deepEqual(ratesForPrompt(price, 300_000), {
      inputPer1k: 2,
      outputPer1k: 15,
      cachedInputPer1k: 0.2,
      cacheWritePer1k: undefined,
      cacheWrite1hPer1k: undefined,
      imageInputPer1k: undefined,
      imageOutputPer1k: undefined,
    });
  });

  it('prices 1-hour cache writes at the tier’s own 1-hour rate, else the one below', () => {
    const hourly = {
      ...price,
      cacheWritePer1k: 1.25,
      cacheWrite1hPer1k: 2,
      tiers: [
        { aboveInputTokens: 200_000, inputPer1k: 2, cacheWritePer1k: 2.5, cacheWrite1hPer1k: 4 },
      ],
    };
    const counts = {
      inputTokens: 300_000,
      cacheWriteInputTokens: 100_000,
      cacheWrite1hInputTokens: 100_000,
      outputTokens: 0,
    };
    assert.ok(Math.abs(dollarsAt(hourly, counts) - (200 * 2 + 100 * 4)) < 1e-9);
    const { cacheWrite1hPer1k: _, ...tier } = hourly.tiers[0];
    const inherited = { ...hourly, tiers: [tier] };
    assert.ok(Math.abs(dollarsAt(inherited, counts) - (200 * 2 + 100 * 2)) < 1e-9);
  });

  it('holds a budget for the tier the prompt estimate reaches', () => {
    const r = route({ 'gemini-2.5-pro': price });
    const short = dollarCost(r, 'gemini-2.5-pro', { inputTokens: 1000, outputTokens: 1000 });
    const long = dollarCost(r, 'gemini-2.5-pro', { inputTokens: 250_000, outputTokens: 1000 });
    assert.equal(short, 1 + 10);
    assert.equal(long, 500 + 15);
  });
});

describe('modelPrice: the route’s entry, else the catalog for the backend serving it', () => {
  it('an entry of the route wins over the catalog, which is not consulted', () => {
    const logs: string[] = [];
    configureBuiltinPrices({
      enabled: true,
      log: { info: (m) => logs.push(m), warn: (m) => logs.push(m) },
    });
    const own = { inputPer1k: 9, outputPer1k: 9 };
    const r = route({ 'gpt-4o-mini': own }, [backend('openai', 'gpt-4o-mini')]);
    assert.equal(modelPrice(r, 'gpt-4o-mini'), own);
    assert.deepEqual(logs, []);
  });

  it('finds the provider from the backend of that model, or the one renaming another', () => {
    const r = route({}, [backend('openai', 'gpt-4o-mini'), backend('vllm', 'llama-3', 'fast')]);
    assert.ok(modelPrice(r, 'gpt-4o-mini'), 'openai has a list price for gpt-4o-mini');
    // The vllm backend serving `fast` as llama-3: self-hosted, so no list price.
    assert.equal(modelPrice(r, 'fast'), undefined);
    // The same model name behind a self-hosted backend: no list price either.
    assert.equal(modelPrice(route({}, [backend('vllm', 'gpt-4o-mini')]), 'gpt-4o-mini'), undefined);
  });

  it('a renamed model takes its upstream model’s entry', () => {
    const own = { inputPer1k: 2, outputPer1k: 2 };
    const r = route({ 'claude-sonnet-4-5': own }, [
      backend('anthropic', 'claude-sonnet-4-5', 'gpt-4o'),
    ]);
    assert.equal(modelPrice(r, 'gpt-4o'), own);
  });

  it('a wildcard backend passes the name on: priced by its provider', () => {
    const r = route({}, [backend('openai')]);
    assert.ok(modelPrice(r, 'gpt-4o-mini'));
    assert.equal(modelPrice(r, 'no-such-model-anywhere'), undefined);
  });

  it('a served call names its provider: the route’s backends are not searched', () => {
    const r = route({}, []);
    assert.ok(modelPrice(r, 'gpt-4o-mini', 'openai'));
    assert.equal(modelPrice(r, 'gpt-4o-mini', 'openai-compatible'), undefined);
    assert.ok(dollarCost(r, 'gpt-4o-mini', counts, 'openai') > 0);
  });

  it('a Bedrock profile or ARN without an entry of its own takes its base model’s entry', () => {
    configureBuiltinPrices({ enabled: false });
    const base = { inputPer1k: 3, outputPer1k: 15 };
    const exact = { inputPer1k: 4, outputPer1k: 16 };
    const profile = 'us.anthropic.claude-3-5-sonnet-20240620-v1:0';
    const arn = `arn:aws:bedrock:us-east-1:123456789012:inference-profile/${profile}`;
    const r = route({ 'anthropic.claude-3-5-sonnet-20240620-v1:0': base }, [
      backend('bedrock', profile),
      backend('bedrock', arn, 'sonnet'),
    ]);
    assert.equal(modelPrice(r, profile), base);
    assert.equal(modelPrice(r, 'sonnet'), base);
    assert.equal(modelPrice(r, arn, 'bedrock'), base);
    // An entry for the profile itself wins; another provider's ids are never read so.
    const both = route({ 'anthropic.claude-3-5-sonnet-20240620-v1:0': base, [profile]: exact }, [
      backend('bedrock', profile),
    ]);
    assert.equal(modelPrice(both, profile), exact);
    const other = route({ 'anthropic.claude-3-5-sonnet-20240620-v1:0': base }, [
      backend('openai-compatible', profile),
    ]);
    assert.equal(modelPrice(other, profile), undefined);
  });

  it('with the catalog off an unpriced model costs 0', () => {
    configureBuiltinPrices({ enabled: false });
    const r = route({}, [backend('openai', 'gpt-4o-mini')]);
    assert.equal(modelPrice(r, 'gpt-4o-mini'), undefined);
    assert.equal(dollarCost(r, 'gpt-4o-mini', counts), 0);
  });
});

describe('audio output (gpt-realtime speaking)', () => {
  const price = { inputPer1k: 0.004, outputPer1k: 0.016, audioOutputPer1k: 0.064 };

  it('bills the audio part of the output at audioOutputPer1k, the rest at outputPer1k', () => {
    const dollars = dollarsAt(price, { inputTokens: 0, outputTokens: 500, audioOutputTokens: 400 });
    assert.ok(Math.abs(dollars - (0.1 * 0.016 + 0.4 * 0.064)) < 1e-15, String(dollars));
  });

  it('without audioOutputPer1k audio output costs outputPer1k, and never more than the output', () => {
    const plain = { inputPer1k: 0.004, outputPer1k: 0.016 };
    assert.equal(
      dollarsAt(plain, { inputTokens: 0, outputTokens: 500, audioOutputTokens: 400 }),
      0.008,
    );
    assert.equal(
      dollarsAt(price, { inputTokens: 0, outputTokens: 100, audioOutputTokens: 900 }),
      0.1 * 0.064,
    );
  });

  it('the catalog gives gpt-realtime its output audio price', () => {
    const r = route({}, [backend('openai', 'gpt-realtime')]);
    const listed = modelPrice(r, 'gpt-realtime');
    assert.ok(listed);
    assert.equal(listed.outputPer1k, 0.016);
    assert.equal(listed.audioInputPer1k, 0.032);
    assert.equal(listed.audioOutputPer1k, 0.064);
  });
});
