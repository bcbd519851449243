import type { ChatReasoning, ThinkingEffort } from './chat-request';

/** The token budget an adapter thinks with for each effort the client may ask for. */
export type EffortBudgets = Readonly<Record<ThinkingEffort, number>>;

/**
 * Budgets where a provider documents none of its own: doubling from 1024, the least Claude
 * takes (minimal is low), as LiteLLM maps OpenAI's efforts for Claude.
 */
export const DOUBLING_EFFORT_BUDGETS: EffortBudgets = {
  minimal: 1024,
  low: 1024,
  medium: 2048,
  high: 4096,
  xhigh: 8192,
  max: 16384,
};

/** The effort a model thinks at when left to decide: Anthropic's and OpenAI's default. */
const DEFAULT_EFFORT: ThinkingEffort = 'high';

/**
 * The budget to think with: the client's own (`thinking`), the adapter's for the effort
 * it asked (`reasoning_effort`; adaptive thinking at the default effort when it gave
 * none), or 0 for no thinking; undefined when it asked for nothing in particular, so the
 * model does what it does by default.
 */
export function thinkingBudget(
  reasoning: ChatReasoning | undefined,
  budgets: EffortBudgets,
): number | undefined {
  switch (reasoning?.kind) {
    case undefined:
      return undefined;
    case 'off':
      return 0;
    case 'budget':
      return reasoning.budgetTokens;
    case 'effort':
      return budgets[reasoning.effort];
    case 'adaptive':
      return budgets[reasoning.effort ?? DEFAULT_EFFORT];
  }
}
