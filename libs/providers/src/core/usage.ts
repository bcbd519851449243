import type { JsonObject, Operation, TokenUsage } from '@aigw/contracts/data-plane';
import { isJsonObject } from './json-shape';

/**
 * A token count as a provider reported it, made a whole number the usage events accept:
 * a fraction rounds up (never bill less), a huge count is capped where numbers stop
 * being exact. Undefined when it is no count at all (missing, null, negative, a string,
 * NaN, Infinity), so the caller can tell "none" from a reported zero.
 */
export function tokenCount(value: unknown): number | undefined {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) return undefined;
  if (value === 0) return 0; // -0 too: deep equality and Object.is tell it from 0
  return Math.min(Math.ceil(value), Number.MAX_SAFE_INTEGER);
}

/** Token counts added up; capped counts can add up past what a number holds exactly. */
export function sumTokens(...counts: number[]): number {
  let sum = 0;
  for (const count of counts) sum += count;
  return Math.min(sum, Number.MAX_SAFE_INTEGER);
}

/** A count where a missing or unusable one means none was spent: 0. */
export function reportedTokens(value: unknown): number {
  return tokenCount(value) ?? 0;
}

/**
 * Reads an OpenAI-format `usage` object of an answer to `operation`. Undefined when
 * there is none, or when its prompt or completion count is not a usable count: the
 * caller then estimates the usage (and marks it so) rather than bill a zero as
 * reported. Embeddings generate nothing, so their usage has no completion count.
 */
export function openAiUsage(usage: unknown, operation: Operation): TokenUsage | undefined {
  if (!isJsonObject(usage)) return undefined;
  const inputTokens = tokenCount(usage.prompt_tokens);
  const outputTokens =
    operation === 'embeddings'
      ? (tokenCount(usage.completion_tokens) ?? 0)
      : tokenCount(usage.completion_tokens);
  if (inputTokens === undefined || outputTokens === undefined) return undefined;
  const audioInput = Math.min(audioTokens(usage.prompt_tokens_details), inputTokens);
  const audioOutput = Math.min(audioTokens(usage.completion_tokens_details), outputTokens);
  return {
    inputTokens,
    outputTokens,
    cachedInputTokens: cachedTokens(usage),
    ...(audioInput > 0 ? { audioInputTokens: audioInput } : {}),
    ...(audioOutput > 0 ? { audioOutputTokens: audioOutput } : {}),
    source: 'reported',
  };
}

/**
 * The audio part of a prompt or completion count (`prompt_tokens_details.audio_tokens`,
 * `completion_tokens_details.audio_tokens`): gpt-audio and gpt-4o-audio-preview bill audio
 * at many times their text rates, so it is priced apart (`audioInputPer1k`,
 * `audioOutputPer1k`), not as text.
 */
function audioTokens(details: unknown): number {
  return isJsonObject(details) ? reportedTokens(details.audio_tokens) : 0;
}

/**
 * The prompt tokens read from the provider's cache: OpenAI's `prompt_tokens_details.
 * cached_tokens`, else DeepSeek's `prompt_cache_hit_tokens` (DeepSeek names its cache hits
 * only there, and bills them at a tenth of the input price).
 */
function cachedTokens(usage: JsonObject): number {
  const details = isJsonObject(usage.prompt_tokens_details) ? usage.prompt_tokens_details : {};
  return tokenCount(details.cached_tokens) ?? reportedTokens(usage.prompt_cache_hit_tokens);
}

/**
 * `usage` with the service tier the backend says it served the call at (OpenAI's
 * `service_tier` beside the usage: `flex` bills half the tokens' price, `priority` more),
 * which the price's `serviceTierFactors` bill. A tier that is no short name is not kept.
 */
export function withServedTier(usage: TokenUsage, tier: unknown): TokenUsage {
  if (!isUsageLabel(tier)) return usage;
  return { ...usage, serviceTier: tier };
}

/**
 * A label a backend puts on its usage that a price is looked up by (a served tier, where
 * it ran): a short lower-case name, so nothing else reaches the usage record.
 */
export function isUsageLabel(value: unknown): value is string {
  return typeof value === 'string' && USAGE_LABEL.test(value);
}

const USAGE_LABEL = /^[a-z][a-z0-9_-]{0,31}$/;

export const NO_USAGE: TokenUsage = {
  inputTokens: 0,
  outputTokens: 0,
  cachedInputTokens: 0,
  source: 'estimated',
};
