// One event of every type, for the codec's specs: with the fields the factories need
// ('required'), or with every optional field filled too ('every'), so each validator runs.
import { BudgetAdjustmentAction } from './budget-adjusted.event';
import type { GatewayEvent } from './event-catalog';
import {
  BudgetState,
  BudgetUnit,
  CompletionStatus,
  FallbackReason,
  GatewayEndpoint,
  LimitKind,
  RejectReason,
  UsageSource,
} from './event-enums';
import {
  createAlertRaised,
  createBudgetAdjusted,
  createBudgetStateChanged,
  createFallbackOccurred,
  createRequestAccepted,
  createRequestCompleted,
  createRequestPayloadLogged,
  createRequestRejected,
  createTokenUsageRecorded,
} from './event-factories';
import type { TokenUsageRecorded } from './token-usage-recorded.event';

export type FilledFields = 'required' | 'every';

/** `extra` when every field is to be filled, else nothing. */
function optional<T extends object>(fields: FilledFields, extra: T): Partial<T> {
  return fields === 'every' ? extra : {};
}

export function usageRecorded(fields: FilledFields): TokenUsageRecorded {
  return createTokenUsageRecorded({
    requestId: 'req-1',
    partitionKey: 'alice',
    userId: 'alice',
    ...optional(fields, { budgetKey: 'header:x-user-id:alice' }),
    inputTokens: 120,
    outputTokens: 40,
    cachedInputTokens: 100,
    ...optional(fields, {
      cacheWriteInputTokens: 10,
      cacheWrite1hInputTokens: 5,
      imageInputTokens: 3,
      imageOutputTokens: 2,
      webSearchRequests: 2,
      webFetchRequests: 1,
    }),
    usageSource: UsageSource.Reported,
    modelRequested: 'gpt-4',
    modelServed: 'claude-3-opus',
    provider: 'anthropic',
    backend: 'anthropic-claude',
    ...optional(fields, { route: 'default' }),
    tier: 'pro',
    costDollars: 0.0048,
    weightedTokenCost: 2400,
    cacheHit: false,
    reservationId: 'res-9',
    ...optional(fields, { operation: 'chat' }),
  });
}

/** One event of each type, in catalog order; 'every' adds a budget reset (no amount). */
export function oneOfEachEvent(fields: FilledFields): GatewayEvent[] {
  return [
    createRequestAccepted({
      requestId: 'req-1',
      partitionKey: 'alice',
      userId: 'alice',
      endpoint: GatewayEndpoint.ChatCompletions,
      modelRequested: 'gpt-4',
      stream: true,
      tier: 'pro',
      reservationId: 'res-9',
      reservedTokens: 5000,
      ...optional(fields, { estimatedInputTokens: 40 }),
    }),
    createRequestRejected({
      requestId: 'req-2',
      partitionKey: 'bob',
      userId: 'bob',
      endpoint: GatewayEndpoint.Embeddings,
      reason: RejectReason.BudgetExhausted,
      httpStatus: 429,
      ...optional(fields, { modelRequested: 'text-embedding-3-small', tier: 'free' }),
      limitKind: LimitKind.TokenBudgetPerUser,
      message: 'token budget exhausted until 2025-07-01T00:00:00Z',
    }),
    createRequestCompleted({
      requestId: 'req-1',
      partitionKey: 'alice',
      userId: 'alice',
      endpoint: GatewayEndpoint.ChatCompletions,
      status: CompletionStatus.Success,
      httpStatus: 200,
      latencyMs: 812.5,
      ttfbMs: 143,
      provider: 'anthropic',
      backend: 'anthropic-claude',
      ...optional(fields, { route: 'default' }),
      modelRequested: 'gpt-4',
      modelServed: 'claude-3-opus',
      stream: true,
      cached: false,
      attempts: 2,
      ...optional(fields, { tier: 'pro', errorCode: 'none' }),
    }),
    usageRecorded(fields),
    createFallbackOccurred({
      requestId: 'req-1',
      partitionKey: 'alice',
      userId: 'alice',
      modelRequested: 'gpt-4',
      fromBackend: 'openai-gpt4',
      fromProvider: 'openai',
      fromModel: 'gpt-4',
      toBackend: 'anthropic-claude',
      toProvider: 'anthropic',
      toModel: 'claude-3-opus',
      reason: FallbackReason.RateLimit,
      attempt: 1,
      upstreamStatus: 429,
    }),
    createBudgetStateChanged({
      requestId: null,
      partitionKey: 'alice',
      budgetKey: 'alice',
      limitKind: LimitKind.MaxDailyCostPerUser,
      windowId: '2025-06-30',
      state: BudgetState.Recovered,
      remaining: 10,
      limit: 10,
      unit: BudgetUnit.Dollars,
      resetAt: '2025-07-01T00:00:00.000Z',
    }),
    createAlertRaised({
      requestId: 'req-1',
      partitionKey: 'alice',
      budgetKey: 'alice',
      limitKind: LimitKind.MaxDailyCostPerUser,
      windowId: '2025-06-30',
      threshold: 8,
      used: 8.01,
      limit: 10,
      unit: BudgetUnit.Dollars,
      ...optional(fields, { tier: 'pro' }),
      message: 'alice spent $8.01 of $10.00 today',
    }),
    createBudgetAdjusted({
      partitionKey: 'alice',
      userKey: 'alice',
      limitKind: LimitKind.MaxDailyCostPerUser,
      action: BudgetAdjustmentAction.Credit,
      amount: 2.5,
      reason: 'runaway script',
      ...optional(fields, { operator: 'ops-bob' }),
    }),
    ...(fields === 'every'
      ? [
          createBudgetAdjusted({
            partitionKey: 'alice',
            userKey: 'alice',
            action: BudgetAdjustmentAction.Reset,
          }),
        ]
      : []),
    createRequestPayloadLogged({
      requestId: 'req-1',
      partitionKey: 'alice',
      userId: 'alice',
      endpoint: GatewayEndpoint.ChatCompletions,
      modelRequested: 'gpt-4o',
      modelServed: 'gpt-4o-2024-08-06',
      provider: 'openai',
      backend: 'openai-gpt4o',
      stream: false,
      httpStatus: 200,
      ...optional(fields, { errorCode: 'none' }),
      startedAt: '2025-06-30T12:00:00.000Z',
      requestBody: '{"model":"gpt-4o","messages":[]}',
      requestTruncated: false,
      requestBytes: 32,
      responseBody: '{"choices":[]}',
      responseTruncated: false,
      responseBytes: 14,
      latencyMs: 120,
    }),
  ];
}
