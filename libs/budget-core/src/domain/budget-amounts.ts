import { dollarCost, weightedTokens, type RouteConfig } from '@aigw/config';
import type { LimitUnit } from './budget-limits';

export interface TokenCounts {
  readonly inputTokens: number;
  readonly outputTokens: number;
  /** The part of `inputTokens` read from the provider's prompt cache (billed lower). */
  readonly cachedInputTokens?: number;
  /** The part of `inputTokens` written to the provider's prompt cache (billed higher). */
  readonly cacheWriteInputTokens?: number;
}

/** What `counts` tokens of `model` weigh in each unit a limit may count. */
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
  };
}
