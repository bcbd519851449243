import type { JsonObject, TokenUsage } from '@aigw/contracts/data-plane';

function count(value: unknown): number {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0 ? value : 0;
}

/** Reads an OpenAI-format `usage` object, or undefined when there is none. */
export function openAiUsage(usage: unknown): TokenUsage | undefined {
  if (!usage || typeof usage !== 'object') return undefined;
  const u = usage as JsonObject;
  const details = (u.prompt_tokens_details ?? {}) as JsonObject;
  return {
    inputTokens: count(u.prompt_tokens),
    outputTokens: count(u.completion_tokens),
    cachedInputTokens: count(details.cached_tokens),
    source: 'reported',
  };
}

export const NO_USAGE: TokenUsage = {
  inputTokens: 0,
  outputTokens: 0,
  cachedInputTokens: 0,
  source: 'estimated',
};
