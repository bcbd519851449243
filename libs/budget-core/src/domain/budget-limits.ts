import type { RouteConfig, UserTierConfig } from '@aigw/config';
import { LimitKind } from '@aigw/contracts';
import { DAY, MINUTE, windowAt, type BudgetWindow, type WindowSpec } from './budget-window';

/**
 * What a limit counts. `tokens` are weighted by `llmRequestCosts` and `modelCosts`;
 * `requests` are calls, one each whatever their size.
 */
export type LimitUnit =
  'tokens' | 'inputTokens' | 'outputTokens' | 'totalTokens' | 'dollars' | 'requests';

/** One limit as it applies to one request. */
export interface BudgetLimit {
  readonly kind: LimitKind;
  /** Whose budget: a user key, or a model name for per-model limits. */
  readonly subject: string;
  readonly unit: LimitUnit;
  readonly limit: number;
  readonly window: WindowSpec;
}

/**
 * A limit of 0 allows nothing: every call it binds is refused from the config (no store
 * call, nothing held); it is never "no limit" (that is leaving the field out).
 */
export function allowsNothing(limit: BudgetLimit): boolean {
  return limit.limit === 0;
}

/** A limit in its current window: the balance the store keeps. */
export interface BoundLimit extends BudgetLimit {
  readonly key: string;
  readonly windowRef: BudgetWindow;
}

export interface LimitContext {
  readonly route: RouteConfig;
  readonly userKey: string;
  readonly tier?: UserTierConfig;
}

/**
 * Every limit of the spec that binds this caller (per-model limits are separate: they
 * depend on the backend the router picks).
 */
export function userLimits({ route, userKey, tier }: LimitContext): BudgetLimit[] {
  const limits: BudgetLimit[] = [];
  // A limit of 0 allows nothing (admission refuses every call); it is never "no limit".
  const add = (kind: LimitKind, unit: LimitUnit, limit: number | undefined, window: WindowSpec) => {
    if (limit !== undefined && limit >= 0)
      limits.push({ kind, subject: userKey, unit, limit, window });
  };
  const budget = route.tokenBudget;
  if (budget?.perUser)
    add(LimitKind.TokenBudgetPerUser, 'tokens', budget.perUser.limit, budget.perUser.period);
  if (budget?.perMinute)
    add(LimitKind.TokenBudgetPerMinute, 'tokens', budget.perMinute.limit, MINUTE);
  const perUser = route.tokenRateLimit?.perUser;
  add(LimitKind.UserInputTokensPerMinute, 'inputTokens', perUser?.inputTokensPerMinute, MINUTE);
  add(LimitKind.UserOutputTokensPerMinute, 'outputTokens', perUser?.outputTokensPerMinute, MINUTE);
  add(LimitKind.UserTotalTokensPerDay, 'totalTokens', perUser?.totalTokensPerDay, DAY);
  add(LimitKind.UserRequestsPerMinute, 'requests', perUser?.requestsPerMinute, MINUTE);
  if (tier?.tokenBudget.kind === 'daily') {
    add(LimitKind.TierDailyTokens, 'tokens', tier.tokenBudget.tokens, DAY);
  }
  add(LimitKind.MaxDailyCostPerUser, 'dollars', route.costControl?.maxDailyCostPerUser, DAY);
  return limits;
}

/** `tokenRateLimit.perModel`: shared by every caller of that (served) model. */
export function modelLimits(route: RouteConfig, model: string): BudgetLimit[] {
  const limits = route.tokenRateLimit?.perModel;
  // Own entries only: a client may name a model "constructor".
  const perModel = limits && Object.hasOwn(limits, model) ? limits[model] : undefined;
  if (!perModel) return [];
  const bound: BudgetLimit[] = [];
  const add = (kind: LimitKind, unit: LimitUnit, limit: number | undefined) => {
    if (limit !== undefined && limit >= 0)
      bound.push({ kind, subject: model, unit, limit, window: MINUTE });
  };
  add(LimitKind.ModelTokensPerMinute, 'totalTokens', perModel.tokensPerMinute);
  add(LimitKind.ModelRequestsPerMinute, 'requests', perModel.requestsPerMinute);
  return bound;
}

/** Balance keys are namespaced so several gateways can share one Redis. */
export function bindLimit(limit: BudgetLimit, now: number, namespace = 'aigw'): BoundLimit {
  const windowRef = windowAt(limit.window, now);
  // The subject is wrapped in braces: a Redis Cluster hash tag keeps one user's keys together.
  const key = `${namespace}:budget:{${limit.subject}${balanceKeyEnd(limit.kind, windowRef.id)}`;
  return { ...limit, key, windowRef };
}

/**
 * How a balance key ends after its subject (from the hash tag's closing brace): the same
 * limit of every subject in one window ends alike.
 */
export function balanceKeyEnd(kind: LimitKind, windowId: string): string {
  return `}:${kind}:${windowId}`;
}
