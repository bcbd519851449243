import { dollarCost, weightedTokens, type RouteConfig, type TokenCounts } from '@aigw/config';
import type { LimitUnit } from './budget-limits';

/** A call's counts as budgets weigh them: the price's own (tokens, audio, characters, images). */
export type { TokenCounts };

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
