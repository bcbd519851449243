import type { BatchUsage } from '../batch-jsonl';

/** For the batches specs: a finished batch of one request, 10 tokens in and 5 out. */
export function oneRequestUsage(): BatchUsage {
  return { inputTokens: 10, outputTokens: 5, cachedInputTokens: 0, requests: 1, perRequest: [] };
}
