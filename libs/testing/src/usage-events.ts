import { createTokenUsageRecorded, UsageSource, type TokenUsageRecorded } from '@aigw/contracts';

/**
 * The `n`th usage event of `user`, for suites about carrying events rather than their
 * content: `n` input tokens (so order can be read back), keyed by the user.
 */
export function numberedUsageEvent(user: string, n: number): TokenUsageRecorded {
  return createTokenUsageRecorded({
    requestId: `req-${user}-${n}`,
    partitionKey: user,
    userId: user,
    inputTokens: n,
    outputTokens: 1,
    cachedInputTokens: 0,
    usageSource: UsageSource.Reported,
    modelRequested: 'gpt-4o-mini',
    modelServed: 'gpt-4o-mini',
    provider: 'openai',
    backend: 'openai',
    costDollars: 0,
    weightedTokenCost: n + 1,
    cacheHit: false,
  });
}
