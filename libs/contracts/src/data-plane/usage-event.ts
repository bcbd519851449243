import { UsageSource } from '../events/event-enums';
import { createTokenUsageRecorded } from '../events/event-factories';
import type { TokenUsageRecorded } from '../events/token-usage-recorded.event';
import {
  callerBudgetKey,
  type GatewayRequest,
  type ServedBy,
  type TokenUsage,
} from './data-plane.types';

/** What an answer's tokens cost: budget-weighted tokens and dollars. */
export interface UsagePrice {
  readonly weightedTokens: number;
  readonly dollars: number;
}

/**
 * The usage event of one answer: the caller, the model asked for and the hold of
 * `request`, the backend that served it, its tokens and their price. `cacheHit` marks an
 * answer reused without a provider call of its own (a cache hit, a deduplicated follower).
 */
export function usageRecordedEvent(
  request: GatewayRequest,
  servedBy: ServedBy,
  usage: TokenUsage,
  price: UsagePrice,
  cacheHit: boolean,
): TokenUsageRecorded {
  return createTokenUsageRecorded({
    requestId: request.requestId,
    // By budget: one budget's usage settles in order, on one partition.
    partitionKey: callerBudgetKey(request.caller),
    userId: request.caller.userKey,
    budgetKey: request.caller.budgetKey,
    inputTokens: usage.inputTokens,
    outputTokens: usage.outputTokens,
    cachedInputTokens: usage.cachedInputTokens,
    // Left out rather than 0 (see the event): only cache-writing answers carry it.
    cacheWriteInputTokens: usage.cacheWriteInputTokens || undefined,
    cacheWrite1hInputTokens: usage.cacheWrite1hInputTokens || undefined,
    imageInputTokens: usage.imageInputTokens || undefined,
    imageOutputTokens: usage.imageOutputTokens || undefined,
    webSearchRequests: usage.serverToolRequests?.web_search || undefined,
    webFetchRequests: usage.serverToolRequests?.web_fetch || undefined,
    usageSource: usage.source === 'reported' ? UsageSource.Reported : UsageSource.Estimated,
    modelRequested: request.requestedModel,
    modelServed: servedBy.model,
    provider: servedBy.provider,
    backend: servedBy.backend,
    route: servedBy.route,
    tier: request.caller.tier,
    costDollars: price.dollars,
    weightedTokenCost: price.weightedTokens,
    cacheHit,
    reservationId: request.reservationId,
    operation: request.operation,
  });
}
