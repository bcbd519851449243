import { dollarCost, weightedTokens, type RouteConfig } from '@aigw/config';
import type { LimitUnit } from './budget-limits';

export interface TokenCounts {
  readonly inputTokens: number;
  readonly outputTokens: number;
  /** The part of `inputTokens` read from the provider's prompt cache (billed lower). */
  readonly cachedInputTokens?: number;
  /** The part of `inputTokens` written to the provider's prompt cache (billed higher). */
  readonly cacheWriteInputTokens?: number;
  /** The part of `inputTokens` that was audio (billed at its own rate). */
  readonly audioInputTokens?: number;
  /** Seconds of audio, for models billed by the minute. */
  readonly audioSeconds?: number;
  /** Characters spoken, for models billed by the character. */
  readonly characters?: number;
  /** Images made, for models billed by the image, and their `quality/size` as asked. */
  readonly images?: number;
  readonly imageVariant?: string;
}

/** What one call of `counts` tokens of `model` weighs in each unit a limit may count. */
export function amountsFor(
  route: RouteConfig,
  model: string,
  counts: TokenCounts,
): Record<LimitUnit, number> {
  return {
    tokens: weightedTokens(route, model, counts),
    inputTokens: counts.inputTokens,
    outputTokens: counts.outputTokens,
    totalTokens: counts.inputTokens + counts.outputTokens,
    dollars: dollarCost(route, model, counts),
    requests: 1,
  };
}
