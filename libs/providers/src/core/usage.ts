import type { JsonObject, TokenUsage } from '@aigw/contracts/data-plane';

/**
 * A token count as a provider reported it, made a whole non-negative number the events
 * accept (a fraction rounds up; a negative, missing or non-numeric count is 0).
 */
export function reportedTokens(value: unknown): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) return 0;
  return Math.min(Math.ceil(value), Number.MAX_SAFE_INTEGER);
}

/** Reads an OpenAI-format `usage` object, or undefined when there is none. */
export function openAiUsage(usage: unknown): TokenUsage | undefined {
  if (!usage || typeof usage !== 'object') return undefined;
  const u = usage as JsonObject;
  const details = (u.prompt_tokens_details ?? {}) as JsonObject;
  return {
    inputTokens: reportedTokens(u.prompt_tokens),
    outputTokens: reportedTokens(u.completion_tokens),
    cachedInputTokens: reportedTokens(details.cached_tokens),
    source: 'reported',
  };
}

export const NO_USAGE: TokenUsage = {
  inputTokens: 0,
  outputTokens: 0,
  cachedInputTokens: 0,
  source: 'estimated',
};
