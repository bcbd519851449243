import type { ReasoningEffort } from '@aigw/contracts/data-plane';
import type { ChatReasoning } from './chat-request';

/** The token budget an adapter thinks with for each effort the client may ask for. */
export type EffortBudgets = Readonly<Record<Exclude<ReasoningEffort, 'none'>, number>>;

/**
 * The budget to think with: the client's own (`thinking`), the adapter's for the effort
 * it asked (`reasoning_effort`), or 0 for no thinking; undefined when it asked for
 * nothing in particular, so the model does what it does by default.
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
  }
}
