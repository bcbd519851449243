/**
 * What a provider bills its service tiers at, beside its standard per-token price, which
 * the catalog (genai-prices) does not list. A call's answer names the tier it was served
 * at (`service_tier`), and its tokens cost the standard price times the tier's factor.
 *
 * - OpenAI's flex processing is billed at its Batch API rates, half the standard price;
 *   its priority processing at a premium per model (its "Priority processing" price
 *   list: gpt-5 $2.50/$20 per 1M tokens against $1.25/$10; the cached input alike).
 * - Azure OpenAI's flex processing is likewise half the standard price.
 * - Groq's flex tier is billed as its on-demand tier.
 */
const OPENAI_FLEX = 0.5;

/**
 * OpenAI's priority price over its standard price, by the catalog's model id (input,
 * cached input and output alike). A model not here has no known priority price: its
 * priority calls are billed at the standard price and counted as unpriced.
 */
const OPENAI_PRIORITY: Readonly<Record<string, number>> = {
  'gpt-5.5': 2.5,
  'gpt-5.4': 2,
  'gpt-5.4-mini': 2,
  'gpt-5.2': 2,
  'gpt-5.1': 2,
  'gpt-5': 2,
  'gpt-5-mini': 1.8,
  'gpt-4.1': 1.75,
  'gpt-4.1-mini': 1.75,
  'gpt-4.1-nano': 2,
  'gpt-4o': 1.7,
  'gpt-4o-2024-05-13': 1.75,
  'gpt-4o-mini': 0.25 / 0.15,
  o3: 1.75,
  'o4-mini': 2 / 1.1,
};

/**
 * The service tier factors of a catalog model (`catalogModel`: the catalog's id it matched)
 * on a provider (the catalog's provider id), or undefined where the provider bills no tier
 * apart.
 */
export function serviceTierFactorsOf(
  providerId: string,
  catalogModel: string,
): Readonly<Record<string, number>> | undefined {
  switch (providerId) {
    case 'openai': {
      const priority = Object.hasOwn(OPENAI_PRIORITY, catalogModel)
        ? OPENAI_PRIORITY[catalogModel]
        : undefined;
      return priority === undefined ? { flex: OPENAI_FLEX } : { flex: OPENAI_FLEX, priority };
    }
    case 'azure':
      return { flex: OPENAI_FLEX };
    case 'groq':
      return { flex: 1 };
    default:
      return undefined;
  }
}
