import type { ModelPricing } from './gateway-config';

/**
 * What Google bills grounding with Google Search at, which the catalog (genai-prices) does
 * not list; the Gemini API and Vertex AI list the same prices:
 *
 * - Gemini 3 models: $14 per 1,000 search queries the model runs (`webSearchPer1k`).
 * - Gemini 2.x (and 1.5's googleSearchRetrieval): $35 per 1,000 grounded prompts, a call
 *   that searched once however many queries it ran (`groundedPromptPer1k`).
 *
 * Both come after a free allowance (per day for 2.x, per month for Gemini 3) counted per
 * billing account, which the gateway cannot see: every grounded call is billed at list
 * price. An operator whose calls stay inside it prices the model with `webSearchPer1k: 0`
 * (Gemini 3) or `groundedPromptPer1k: 0` (2.x).
 */
const GEMINI_3_PER_1K_QUERIES = 14;
const GEMINI_2_PER_1K_GROUNDED_PROMPTS = 35;

/**
 * The Google Search grounding price of a catalog model (`catalogModel`: the catalog's id
 * it matched) on a provider (the catalog's provider id): Google's Gemini models only, not
 * Claude on Vertex (whose web searches are Anthropic's, at `webSearchPer1k`'s default).
 */
export function googleSearchPriceOf(
  providerId: string,
  catalogModel: string,
): Pick<ModelPricing, 'webSearchPer1k' | 'groundedPromptPer1k'> | undefined {
  if (providerId !== 'google') return undefined;
  const family = /^gemini-(\d+)/i.exec(catalogModel)?.[1];
  if (family === undefined) return undefined;
  return Number(family) >= 3
    ? { webSearchPer1k: GEMINI_3_PER_1K_QUERIES }
    : { groundedPromptPer1k: GEMINI_2_PER_1K_GROUNDED_PROMPTS };
}
