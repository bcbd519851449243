import type { TokenUsage } from '@aigw/contracts/data-plane';

// A request an adapter serves in several upstream calls (a long embeddings list) may fail
// after some of them answered: the provider billed those, though the request failed. The
// failure carries their usage to metering, which records it; any error may, so it is kept
// beside the error rather than in one error type's fields.
const spent = new WeakMap<object, TokenUsage>();

/** `error`, marked as failing after `usage` was spent upstream. */
export function withSpentUsage(error: unknown, usage: TokenUsage): unknown {
  if (typeof error === 'object' && error !== null) spent.set(error, usage);
  return error;
}

/** Whether the failed call spent anything upstream before it failed (left to be taken). */
export function hasSpentUsage(error: unknown): boolean {
  return typeof error === 'object' && error !== null && spent.has(error);
}

/**
 * What the failed call spent upstream before it failed, if anything, read once: an error
 * object met again (one abort reason for every attempt of a request) is not billed twice.
 */
export function takeSpentUsage(error: unknown): TokenUsage | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const usage = spent.get(error);
  spent.delete(error);
  return usage;
}

/**
 * What a call the backend refused before answering spent: no token (a stream's refusal is
 * billed nothing, as the same refusal as an HTTP status is not). A count, not none, which
 * the relay would replace by an estimate of the prompt (it still marks a stream cut short
 * as estimated).
 */
export const NOTHING_SPENT: TokenUsage = {
  inputTokens: 0,
  outputTokens: 0,
  cachedInputTokens: 0,
  source: 'reported',
};
