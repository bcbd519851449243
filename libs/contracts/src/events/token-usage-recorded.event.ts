import { Equals, IsBoolean, IsEnum, IsOptional } from 'class-validator';
import { UsageSource } from './event-enums';
import { RequestEventEnvelope } from './event-envelope';
import { Amount, Count, Name } from './event-fields';

export const USAGE_RECORDED = { type: 'usage.recorded', version: 1 } as const;

/** Longest operation name a usage event may carry (today's are under 16 characters). */
export const OPERATION_NAME_LENGTH = 64;

/**
 * Tokens one request consumed. The budget service settles the request's reservation
 * with it, and it is the log balances are rebuilt from, so it must never be lost.
 */
export class TokenUsageRecorded extends RequestEventEnvelope {
  @Equals(USAGE_RECORDED.type)
  override type: typeof USAGE_RECORDED.type = USAGE_RECORDED.type;

  @Equals(USAGE_RECORDED.version)
  override version: typeof USAGE_RECORDED.version = USAGE_RECORDED.version;

  /** The user as identified (analytics' `user`): the same id however it was identified. */
  @Name()
  userId!: string;

  /**
   * The key the user's budgets are kept under, when it is not `userId`: where the
   * configuration identifies users more than one way, the id qualified by how
   * (`jwt:auth0:sub:alice`, `header:x-user-id:alice`). Optional and left out otherwise:
   * events of older builds have none (their budget key is `userId`, as it was), and a
   * consumer of an older build still reads every event of a single-identification setup.
   */
  @IsOptional()
  @Name()
  budgetKey?: string;

  @Count()
  inputTokens!: number;

  @Count()
  outputTokens!: number;

  /** Part of `inputTokens` the provider served from its prompt cache. */
  @Count()
  cachedInputTokens!: number;

  /**
   * Part of `inputTokens` the provider wrote to its prompt cache. Optional, and left out
   * when none was written: events of older builds have no such field, and a consumer of
   * an older build (which refuses fields it does not know) still reads every event
   * without a write.
   */
  @IsOptional()
  @Count()
  cacheWriteInputTokens?: number;

  /**
   * Part of `cacheWriteInputTokens` written with a 1-hour lifetime (priced apart, at
   * `cacheWrite1hPer1k`). Optional and left out when none was, for the same reason.
   */
  @IsOptional()
  @Count()
  cacheWrite1hInputTokens?: number;

  /**
   * Part of `inputTokens` that was images (an image edit's inputs, priced at
   * `imageInputPer1k`). Optional and left out when none was, for the same reason.
   */
  @IsOptional()
  @Count()
  imageInputTokens?: number;

  /**
   * Part of `outputTokens` that was images (an image model's, priced at `imageOutputPer1k`).
   * Optional and left out when none was, for the same reason.
   */
  @IsOptional()
  @Count()
  imageOutputTokens?: number;

  /**
   * Web searches the model ran as a server tool (Anthropic's
   * `usage.server_tool_use.web_search_requests`), billed per search in `costDollars`.
   * Optional and left out when none ran, for the same reason as the cache writes.
   */
  @IsOptional()
  @Count()
  webSearchRequests?: number;

  /**
   * Web fetches the model ran as a server tool (`web_fetch_requests`): no fee of their own
   * (the pages read bill as input tokens). Optional and left out when none ran.
   */
  @IsOptional()
  @Count()
  webFetchRequests?: number;

  @IsEnum(UsageSource)
  usageSource!: UsageSource;

  @Name()
  modelRequested!: string;

  @Name()
  modelServed!: string;

  /** For a gateway cache hit: the provider and backend recorded with the cached answer. */
  @Name()
  provider!: string;

  @Name()
  backend!: string;

  /**
   * The route (AIGatewayRoute name) of `backend`: a backend name is unique only within its
   * route, so consumers find the backend, its prices and budgets by (route, backend).
   * Optional and left out when unknown: events of older builds have none, and are read by
   * the backend name alone (the first route naming it), as they were priced.
   */
  @IsOptional()
  @Name()
  route?: string;

  @IsOptional()
  @Name()
  tier?: string;

  /** Estimated dollars from `costControl.modelPricing` (0 when the model has no price). */
  @Amount()
  costDollars!: number;

  /** Tokens after `llmRequestCosts` weights and `modelCosts` multipliers. */
  @Amount()
  weightedTokenCost!: number;

  /** Answered from the gateway's response cache: no provider tokens were spent. */
  @IsBoolean()
  cacheHit!: boolean;

  @IsOptional()
  @Name(128)
  reservationId?: string;

  /**
   * The model operation served (`Operation` of the data plane: chat, embeddings,
   * transcriptions, speech, images, ...), so an audio or image call's usage is told apart
   * without joining request.completed. Set by every producer of this build; absent in
   * events of older builds, which analytics store and report as '' (unknown). A name
   * rather than an enum: a consumer of an older build must keep reading (and settling)
   * usage of an operation added after it, not refuse the event.
   */
  @IsOptional()
  @Name(OPERATION_NAME_LENGTH)
  operation?: string;
}
