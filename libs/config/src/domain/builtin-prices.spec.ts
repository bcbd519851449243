import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { createRequire } from 'node:module';
import net from 'node:net';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import tls from 'node:tls';
import type * as GenAiPrices from '@pydantic/genai-prices';
import {
  builtinCatalogLoaded,
  builtinPrice,
  catalogProviderId,
  configureBuiltinPrices,
} from './builtin-prices';
import { PROVIDER_KINDS } from './providers';
import { dollarsAt } from './usage-cost';

// Every way out of the process fails and is recorded, from before the catalog is first
// loaded to the end of the file: the last test asserts that none was tried. Sockets are
// refused under http, https and undici alike; fetch is Node's own undici, stubbed whole.
const network: string[] = [];
const realFetch = globalThis.fetch;
const exits: [string, Record<string, unknown>, string][] = [
  ['http', http, 'request'],
  ['http', http, 'get'],
  ['https', https, 'request'],
  ['https', https, 'get'],
  ['net', net, 'connect'],
  ['net', net, 'createConnection'],
  ['tls', tls, 'connect'],
];
const realExits = exits.map(([, module, name]) => module[name]);
function refuse(what: string): never {
  network.push(what);
  throw new Error('no network in this test');
}
globalThis.fetch = async (input: unknown) => refuse(`fetch ${String(input)}`);
for (const [label, module, name] of exits) module[name] = () => refuse(`${label}.${name}`);

after(() => {
  globalThis.fetch = realFetch;
  exits.forEach(([, module, name], index) => (module[name] = realExits[index]));
});

/** The package's own exports object, the one the catalog module requires. */
const packageExports = (): typeof GenAiPrices =>
  createRequire(__filename)('@pydantic/genai-prices') as typeof GenAiPrices;

const catalogVersion = (): string => {
  const main = createRequire(__filename).resolve('@pydantic/genai-prices');
  const manifest = JSON.parse(readFileSync(join(dirname(main), '..', 'package.json'), 'utf8')) as {
    version: string;
  };
  return manifest.version;
};

/** A model's prices as the package lists them (the first, undated ones when conditional). */
function listedPrices(providerId: string, modelId: string): GenAiPrices.ModelPrice {
  const model = packageExports()
    .findProvider({ providerId })
    ?.models.find((entry) => entry.id === modelId);
  assert.ok(model, `${providerId} lists ${modelId}`);
  return Array.isArray(model.prices) ? model.prices[0].prices : model.prices;
}

/** The prices the package matches a model name to, as in force now. */
function matchedPrices(providerId: string, model: string): GenAiPrices.ModelPrice {
  const found = packageExports().calcPrice({ input_tokens: 0, output_tokens: 0 }, model, {
    providerId,
  });
  assert.ok(found, `${providerId} prices ${model}`);
  return found.model_price;
}

/** Per 1000 tokens, from the base tier of a tiered price. */
function per1k(value: GenAiPrices.ModelPrice[string]): number {
  const perMillion = typeof value === 'number' ? value : value?.base;
  assert.equal(typeof perMillion, 'number');
  return (perMillion as number) / 1000;
}

interface Logged {
  readonly level: 'info' | 'warn';
  readonly message: string;
}

function recordingLog(): {
  lines: Logged[];
  log: Parameters<typeof configureBuiltinPrices>[0]['log'];
} {
  const lines: Logged[] = [];
  return {
    lines,
    log: {
      info: (message) => lines.push({ level: 'info', message }),
      warn: (message) => lines.push({ level: 'warn', message }),
    },
  };
}

/** Counts the catalog's look-ups and any update it is asked for; `restore` ends it. */
function spyOnCatalog(): { lookups: () => number; updates: () => number; restore: () => void } {
  const lib = packageExports() as {
    -readonly [K in keyof typeof GenAiPrices]: (typeof GenAiPrices)[K];
  };
  const { calcPrice, updatePrices } = lib;
  let lookups = 0;
  let updates = 0;
  lib.calcPrice = (...args) => {
    lookups++;
    return calcPrice(...args);
  };
  lib.updatePrices = (...args) => {
    updates++;
    return updatePrices(...args);
  };
  return {
    lookups: () => lookups,
    updates: () => updates,
    restore: () => {
      lib.calcPrice = calcPrice;
      lib.updatePrices = updatePrices;
    },
  };
}

describe('catalogProviderId', () => {
  it('maps each provider with list prices to the catalog’s id, and self-hosted ones to none', () => {
    const expected: Record<string, string | undefined> = {
      openai: 'openai',
      anthropic: 'anthropic',
      'google-gemini': 'google',
      bedrock: 'aws',
      vertex: 'google',
      azure: 'azure',
      mistral: 'mistral',
      cohere: 'cohere',
      groq: 'groq',
      deepseek: 'deepseek',
      together: 'together',
      vllm: undefined,
      kserve: undefined,
      'openai-compatible': undefined,
      local: undefined,
    };
    assert.deepEqual(
      Object.fromEntries(PROVIDER_KINDS.map((kind) => [kind, catalogProviderId(kind)])),
      expected,
    );
    // Aliases, as the config accepts them; an unknown name has none.
    assert.equal(catalogProviderId('gemini'), 'google');
    assert.equal(catalogProviderId('aws-bedrock'), 'aws');
    assert.equal(catalogProviderId('Together-AI'), 'together');
    assert.equal(catalogProviderId('acme'), undefined);
  });

  it('names only ids the catalog has', () => {
    const lib = packageExports();
    for (const kind of PROVIDER_KINDS) {
      const id = catalogProviderId(kind);
      if (id !== undefined) assert.equal(lib.findProvider({ providerId: id })?.id, id, kind);
    }
  });
});

describe('builtinPrice', () => {
  let catalog: ReturnType<typeof spyOnCatalog>;
  before(() => {
    catalog = spyOnCatalog();
  });
  after(() => catalog.restore());

  it('is off: no price, a warning, and no look-up', () => {
    const { lines, log } = recordingLog();
    configureBuiltinPrices({ enabled: false, log });
    assert.equal(builtinPrice('openai', 'gpt-4o-mini'), undefined);
    assert.equal(catalog.lookups(), 0);
    assert.deepEqual(lines, [
      {
        level: 'warn',
        message: 'no price for gpt-4o-mini: its calls cost $0 in metrics and budgets',
      },
    ]);
  });

  it('says an Azure deployment without a price is priced as the model it answers as', () => {
    const { lines, log } = recordingLog();
    configureBuiltinPrices({ enabled: false, log });
    assert.equal(builtinPrice('azure', 'prod-chat'), undefined);
    assert.deepEqual(lines, [
      {
        level: 'warn',
        message:
          'no price for prod-chat: its calls cost $0 in metrics and budgets unless priced as the model Azure answers as',
      },
    ]);
  });

  it('prices gpt-4o-mini on openai as the catalog lists it, cache reads included', () => {
    const { lines, log } = recordingLog();
    configureBuiltinPrices({ enabled: true, log });
    const listed = listedPrices('openai', 'gpt-4o-mini');
    const price = builtinPrice('openai', 'gpt-4o-mini');
    assert.deepEqual(price, {
      inputPer1k: per1k(listed.input_mtok),
      outputPer1k: per1k(listed.output_mtok),
      cachedInputPer1k: per1k(listed.cache_read_mtok),
      // OpenAI's flex at half, priority at $0.25/$1 per 1M tokens against $0.15/$0.60.
      serviceTierFactors: { flex: 0.5, priority: 0.25 / 0.15 },
    });
    // The package's own arithmetic for the same usage agrees with ours.
    const usage = { inputTokens: 12_000, cachedInputTokens: 10_000, outputTokens: 700 };
    const theirs = packageExports().calcPrice(
      { input_tokens: 12_000, cache_read_tokens: 10_000, output_tokens: 700 },
      'gpt-4o-mini',
      { providerId: 'openai' },
    );
    assert.ok(theirs);
    assert.ok(price);
    assert.ok(Math.abs(dollarsAt(price, usage) - theirs.total_price) < 1e-12);
    assert.deepEqual(lines, [
      {
        level: 'info',
        message: `priced gpt-4o-mini from the built-in catalog (genai-prices ${catalogVersion()})`,
      },
    ]);
  });

  it('prices claude-sonnet-4-5 on anthropic with its long-prompt tier, and says so', () => {
    const { lines, log } = recordingLog();
    configureBuiltinPrices({ enabled: true, log });
    const listed = listedPrices('anthropic', 'claude-sonnet-4-5');
    assert.equal(typeof listed.input_mtok, 'object', 'a tiered price in the catalog');
    const tiered = listed.input_mtok as GenAiPrices.TieredPrices;
    const start = tiered.tiers[0].start;
    const price = builtinPrice('anthropic', 'claude-sonnet-4-5');
    assert.deepEqual(
      { ...price, tiers: undefined },
      {
        inputPer1k: per1k(listed.input_mtok),
        outputPer1k: per1k(listed.output_mtok),
        cachedInputPer1k: per1k(listed.cache_read_mtok),
        cacheWritePer1k: per1k(listed.cache_write_mtok),
        cacheWrite1hPer1k: per1k(listed.cache_write_1h_mtok),
        tiers: undefined,
      },
    );
    assert.equal(price?.tiers?.[0].aboveInputTokens, start);
    assert.equal(price?.tiers?.[0].inputPer1k, tiered.tiers[0].price / 1000);
    // A dated snapshot name is the same model to the catalog.
    assert.deepEqual(builtinPrice('anthropic', 'claude-sonnet-4-5-20250929'), price);
    assert.equal(lines.length, 2);
    assert.match(
      lines[0].message,
      /^priced claude-sonnet-4-5 from the built-in catalog \(genai-prices /,
    );
    assert.ok(lines[0].message.includes(`dearer past ${start} prompt tokens`), lines[0].message);
  });

  it('bills a long prompt at the tier it reaches, as the package itself does', () => {
    configureBuiltinPrices({ enabled: true });
    for (const [provider, providerId, model] of [
      ['anthropic', 'anthropic', 'claude-sonnet-4-5'],
      ['google-gemini', 'google', 'gemini-2.5-pro'],
    ]) {
      const price = builtinPrice(provider, model);
      assert.ok(price?.tiers && price.tiers.length > 0, `${model} has long-prompt tiers`);
      const threshold = price.tiers[0].aboveInputTokens;
      // Just under the threshold, just over it, and far past it: base, tier, tier.
      for (const inputTokens of [threshold, threshold + 1, threshold * 2]) {
        const usage = {
          inputTokens,
          cachedInputTokens: 10_000,
          outputTokens: 3_000,
        };
        const theirs = packageExports().calcPrice(
          { input_tokens: inputTokens, cache_read_tokens: 10_000, output_tokens: 3_000 },
          model,
          { providerId },
        );
        assert.ok(theirs, model);
        const ours = dollarsAt(price, usage);
        assert.ok(
          Math.abs(ours - theirs.total_price) < 1e-9,
          `${model} at ${inputTokens}: ${ours} vs ${theirs.total_price}`,
        );
      }
      const below = dollarsAt(price, { inputTokens: threshold, outputTokens: 0 });
      const above = dollarsAt(price, { inputTokens: threshold + 1, outputTokens: 0 });
      assert.ok(above > below * 1.5, `${model}: the whole prompt is dearer past the threshold`);
    }
  });

  it('prices cache writes as the catalog lists them, as the package itself does', () => {
    configureBuiltinPrices({ enabled: true });
    const usage = {
      inputTokens: 12_000,
      cachedInputTokens: 6_000,
      cacheWriteInputTokens: 5_000,
      outputTokens: 700,
    };
    for (const [provider, providerId, model] of [
      ['anthropic', 'anthropic', 'claude-3-5-haiku-latest'],
      ['bedrock', 'aws', 'anthropic.claude-sonnet-4-5-20250929-v1:0'],
    ]) {
      const price = builtinPrice(provider, model);
      assert.ok(price?.cacheWritePer1k !== undefined, `${model} has a cache-write price`);
      assert.ok(price.cacheWritePer1k > price.inputPer1k, 'writes cost more than input');
      const theirs = packageExports().calcPrice(
        {
          input_tokens: 12_000,
          cache_read_tokens: 6_000,
          cache_write_tokens: 5_000,
          output_tokens: 700,
        },
        model,
        { providerId },
      );
      assert.ok(theirs);
      assert.ok(Math.abs(dollarsAt(price, usage) - theirs.total_price) < 1e-12, model);
    }
  });

  it('prices 1-hour cache writes as the package itself does, and Claude without one at twice input', () => {
    const { lines, log } = recordingLog();
    configureBuiltinPrices({ enabled: true, log });
    // 12k prompt tokens: 6k read, 5k written (2k of them for an hour), 1k neither.
    const usage = {
      inputTokens: 12_000,
      cachedInputTokens: 6_000,
      cacheWriteInputTokens: 5_000,
      cacheWrite1hInputTokens: 2_000,
      outputTokens: 700,
    };
    for (const model of ['claude-3-5-haiku-latest', 'claude-sonnet-4-5']) {
      const price = builtinPrice('anthropic', model);
      assert.ok(price?.cacheWrite1hPer1k !== undefined, `${model} has a 1-hour write price`);
      assert.equal(
        price.cacheWrite1hPer1k,
        per1k(matchedPrices('anthropic', model).cache_write_1h_mtok),
      );
      const theirs = packageExports().calcPrice(
        {
          input_tokens: 12_000,
          cache_read_tokens: 6_000,
          cache_write_tokens: 5_000,
          cache_write_1h_tokens: 2_000,
          output_tokens: 700,
        },
        model,
        { providerId: 'anthropic' },
      );
      assert.ok(theirs);
      assert.ok(Math.abs(dollarsAt(price, usage) - theirs.total_price) < 1e-12, model);
    }
    // Claude on Bedrock: the catalog lists no 1-hour price; Anthropic's rule is twice input.
    const bedrockModel = 'anthropic.claude-sonnet-4-5-20250929-v1:0';
    assert.equal(matchedPrices('aws', bedrockModel).cache_write_1h_mtok, undefined);
    const onBedrock = builtinPrice('bedrock', bedrockModel);
    assert.ok(onBedrock?.cacheWrite1hPer1k !== undefined);
    assert.ok(Math.abs(onBedrock.cacheWrite1hPer1k - 2 * onBedrock.inputPer1k) < 1e-15);
    const said = lines.find((line) => line.message.startsWith(`priced ${bedrockModel}`));
    assert.ok(said?.message.includes('1-hour cache writes at twice input'), said?.message);
    // Not Claude: no 1-hour price is made up.
    assert.equal(builtinPrice('openai', 'gpt-4o-mini')?.cacheWrite1hPer1k, undefined);
  });

  it('prices transcription audio tokens as the package does, and Whisper by the minute', () => {
    configureBuiltinPrices({ enabled: true });
    const price = builtinPrice('openai', 'gpt-4o-transcribe');
    assert.ok(price?.audioInputPer1k !== undefined, 'gpt-4o-transcribe has an audio rate');
    assert.ok(price.audioInputPer1k > price.inputPer1k, 'audio costs more than text');
    const theirs = packageExports().calcPrice(
      { input_tokens: 1_000, input_audio_tokens: 800, output_tokens: 100 },
      'gpt-4o-transcribe',
      { providerId: 'openai' },
    );
    assert.ok(theirs);
    const usage = { inputTokens: 1_000, audioInputTokens: 800, outputTokens: 100 };
    assert.ok(Math.abs(dollarsAt(price, usage) - theirs.total_price) < 1e-12);
    // $0.36 an hour of audio, the catalog says: $0.006 a minute, no token rates.
    const whisper = builtinPrice('openai', 'whisper-1');
    assert.ok(whisper?.perMinute !== undefined);
    assert.ok(Math.abs(whisper.perMinute - 0.006) < 1e-12);
    assert.equal(whisper.inputPer1k, 0);
    assert.ok(builtinPrice('groq', 'whisper-large-v3')?.perMinute !== undefined);
  });

  it('prices gpt-image input images at the catalog’s image rate, as the package does', () => {
    configureBuiltinPrices({ enabled: true });
    for (const model of ['gpt-image-1', 'gpt-image-1-mini']) {
      const price = builtinPrice('openai', model);
      const listed = matchedPrices('openai', model);
      assert.ok(price?.imageInputPer1k !== undefined, `${model} has an image input rate`);
      assert.equal(price.imageInputPer1k, per1k(listed.input_image_mtok));
      assert.ok(price.imageInputPer1k > price.inputPer1k, 'images cost more than text');
      const theirs = packageExports().calcPrice(
        { input_tokens: 1_300, input_image_tokens: 1_200, output_tokens: 4_160 },
        model,
        { providerId: 'openai' },
      );
      assert.ok(theirs);
      const usage = { inputTokens: 1_300, imageInputTokens: 1_200, outputTokens: 4_160 };
      assert.ok(Math.abs(dollarsAt(price, usage) - theirs.total_price) < 1e-12, model);
    }
    // gpt-image-1: $5 text and $10 image input per 1M tokens.
    assert.ok(
      Math.abs((builtinPrice('openai', 'gpt-image-1')?.imageInputPer1k ?? 0) - 0.01) < 1e-15,
    );
    // A chat model bills images as text input: no image rate.
    assert.equal(builtinPrice('openai', 'gpt-4o-mini')?.imageInputPer1k, undefined);
  });

  it('prices image output tokens at the catalog’s image output rate where it lists one, as the package does', () => {
    configureBuiltinPrices({ enabled: true });
    // Every model of ours the package lists an output_image_mtok for.
    const listing = [
      ['openai', 'openai'],
      ['google-gemini', 'google'],
    ] as const;
    let checked = 0;
    for (const [ours, theirsId] of listing) {
      for (const entry of packageExports().findProvider({ providerId: theirsId })?.models ?? []) {
        if (listedPrices(theirsId, entry.id).output_image_mtok === undefined) continue;
        const price = builtinPrice(ours, entry.id);
        assert.ok(price?.imageOutputPer1k !== undefined, `${entry.id} has an image output rate`);
        assert.equal(
          price.imageOutputPer1k,
          per1k(matchedPrices(theirsId, entry.id).output_image_mtok),
        );
        // 120 text and 4,160 image tokens out.
        const theirs = packageExports().calcPrice(
          { input_tokens: 50, output_tokens: 4_280, output_image_tokens: 4_160 },
          entry.id,
          { providerId: theirsId },
        );
        assert.ok(theirs, entry.id);
        const usage = { inputTokens: 50, outputTokens: 4_280, imageOutputTokens: 4_160 };
        assert.ok(Math.abs(dollarsAt(price, usage) - theirs.total_price) < 1e-12, entry.id);
        checked++;
      }
    }
    assert.ok(checked >= 2, `${checked} models checked`);
    // gpt-image-1.5: $10 text and $32 image output per 1M tokens.
    const image15 = builtinPrice('openai', 'gpt-image-1.5');
    assert.ok(Math.abs((image15?.imageOutputPer1k ?? 0) - 0.032) < 1e-15);
    assert.ok(Math.abs((image15?.outputPer1k ?? 0) - 0.01) < 1e-15);
    // One price for all its output (gpt-image-1, a chat model): no image output rate.
    assert.equal(builtinPrice('openai', 'gpt-image-1')?.imageOutputPer1k, undefined);
    assert.equal(builtinPrice('openai', 'gpt-4o-mini')?.imageOutputPer1k, undefined);
  });

  it("gives OpenAI's models their service tiers' factors, which dated names share", () => {
    configureBuiltinPrices({ enabled: true });
    // gpt-5: priority $2.50/$20 per 1M tokens against $1.25/$10 (OpenAI's priority list).
    assert.deepEqual(builtinPrice('openai', 'gpt-5-2025-08-07')?.serviceTierFactors, {
      flex: 0.5,
      priority: 2,
    });
    // gpt-5-nano is not served at priority: flex alone, and a priority answer is unpriced.
    assert.deepEqual(builtinPrice('openai', 'gpt-5-nano')?.serviceTierFactors, { flex: 0.5 });
    // Groq bills flex as on-demand; Anthropic names no tier billed apart.
    assert.deepEqual(builtinPrice('groq', 'llama-3.3-70b-versatile')?.serviceTierFactors, {
      flex: 1,
    });
    assert.equal(builtinPrice('anthropic', 'claude-sonnet-4-5')?.serviceTierFactors, undefined);
  });

  it('reaches Gemini and Bedrock through their catalog ids', () => {
    configureBuiltinPrices({ enabled: true });
    assert.ok(builtinPrice('google-gemini', 'gemini-2.5-flash'));
    assert.ok(builtinPrice('bedrock', 'anthropic.claude-3-haiku-20240307-v1:0'));
  });

  it("prices Vertex's text-embedding models by the character, which the catalog does not list", () => {
    const { lines, log } = recordingLog();
    configureBuiltinPrices({ enabled: true, log });
    for (const model of ['text-embedding-005', 'text-multilingual-embedding-002@001']) {
      const price = builtinPrice('vertex', model);
      assert.deepEqual(price, { inputPer1k: 0, outputPer1k: 0, per1kCharacters: 0.000025 });
      // 2,000 characters of a 400-token input: the characters are what costs.
      assert.equal(
        dollarsAt(price, { inputTokens: 400, outputTokens: 0, characters: 2000 }),
        0.00005,
      );
    }
    assert.match(lines[0].message, /per-character list price for Vertex text embeddings/);
    assert.doesNotMatch(lines[0].message, /genai-prices/);
    // Only on Vertex (the Gemini API's own embeddings are priced by the token), and never
    // in place of a catalog price (gemini-embedding-001 is billed by the token).
    assert.equal(builtinPrice('google-gemini', 'text-embedding-005'), undefined);
    assert.equal(builtinPrice('vertex', 'gemini-embedding-001')?.per1kCharacters, undefined);
  });

  it('prices a Vertex model named by its full publisher path as the model itself', () => {
    configureBuiltinPrices({ enabled: true });
    // Vertex backends may name their model "publishers/{publisher}/models/{id}" (the
    // adapter calls the same URL); the catalog lists the id alone.
    // text-embedding-005: Google's per-character price, which the catalog lacks.
    const ids = [
      'gemini-2.5-flash',
      'gemini-embedding-001',
      'claude-sonnet-4-5@20250929',
      'text-embedding-005',
    ];
    for (const id of ids) {
      const publisher = id.startsWith('claude') ? 'anthropic' : 'google';
      const price = builtinPrice('vertex', id);
      assert.ok(price, id);
      assert.deepEqual(builtinPrice('vertex', `publishers/${publisher}/models/${id}`), price, id);
    }
  });

  it('misses an unknown model, and a self-hosted backend without asking the catalog', () => {
    const { lines, log } = recordingLog();
    configureBuiltinPrices({ enabled: true, log });
    assert.equal(builtinPrice('openai', 'no-such-model-anywhere'), undefined);
    const asked = catalog.lookups();
    assert.equal(builtinPrice('vllm', 'gpt-4o-mini'), undefined);
    assert.equal(catalog.lookups(), asked);
    assert.deepEqual(
      lines.map((line) => line.level),
      ['warn', 'warn'],
    );
    assert.match(lines[0].message, /^no price for no-such-model-anywhere: /);
  });

  it('looks each (provider, model) up once, hit or miss, and logs it once', () => {
    const { lines, log } = recordingLog();
    configureBuiltinPrices({ enabled: true, log });
    const before = catalog.lookups();
    const first = builtinPrice('openai', 'gpt-4o-mini');
    for (let i = 0; i < 5; i++) {
      assert.equal(builtinPrice('openai', 'gpt-4o-mini'), first);
      assert.equal(builtinPrice('openai', 'no-such-model-anywhere'), undefined);
    }
    assert.equal(catalog.lookups() - before, 2);
    assert.equal(lines.length, 2);
    // Another provider is another entry.
    builtinPrice('azure', 'gpt-4o-mini');
    assert.equal(catalog.lookups() - before, 3);
  });

  it('takes the conditional price in force now, and the next one once it applies', () => {
    const lib = packageExports();
    const o3 = lib.findProvider({ providerId: 'openai' })?.models.find((m) => m.id === 'o3');
    assert.ok(o3 && Array.isArray(o3.prices), 'o3 has dated prices in the catalog');
    const [earlier, dated] = o3.prices;
    assert.equal(dated.constraint?.type, 'start_date');
    const switchAt = Date.parse(`${dated.constraint.start_date}T00:00:00Z`);
    let now = switchAt - 30_000;
    const { lines, log } = recordingLog();
    configureBuiltinPrices({ enabled: true, log, now: () => now });
    assert.equal(builtinPrice('openai', 'o3')?.inputPer1k, per1k(earlier.prices.input_mtok));
    now = switchAt + 31_000; // a minute on: looked up again
    assert.equal(builtinPrice('openai', 'o3')?.inputPer1k, per1k(dated.prices.input_mtok));
    assert.notEqual(per1k(earlier.prices.input_mtok), per1k(dated.prices.input_mtok));
    assert.equal(lines.length, 1, 'logged once');
  });

  it('never asked for an update, nor reached the network', () => {
    assert.ok(builtinCatalogLoaded());
    assert.equal(catalog.updates(), 0);
    assert.deepEqual(network, []);
  });
});
