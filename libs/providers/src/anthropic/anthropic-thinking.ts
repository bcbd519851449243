import { MIN_THINKING_BUDGET, type ThinkingBlock } from '@aigw/contracts/data-plane';
import type { AnswerTool } from '../core/answer-tool';
import type { ChatPrompt } from '../core/chat-request';
import { thinkingBudget, type EffortBudgets } from '../core/reasoning';

// Claude's extended thinking, as the Messages API and Claude on Bedrock (Converse) both
// take it: the same budgets and the same rules, each adapter writing its own fields.

/**
 * Anthropic requires `max_tokens`; OpenAI clients often leave it out. 4096 is what every
 * current Claude model can produce, so a missing value never fails a call.
 */
export const ANTHROPIC_DEFAULT_MAX_TOKENS = 4096;

/** The thinking budget for each `reasoning_effort`; 1024 is the least Claude takes. */
export const ANTHROPIC_EFFORT_BUDGETS: EffortBudgets = {
  minimal: 1024,
  low: 1024,
  medium: 2048,
  high: 4096,
};

/** What a Claude request says about thinking, when it says anything. */
export type ClaudeThinking =
  | { readonly kind: 'enabled'; readonly budgetTokens: number; readonly maxTokens: number }
  /** The client asked for no thinking. */
  | { readonly kind: 'disabled' };

/**
 * The thinking to ask Claude for, with the `max_tokens` that goes with it (Claude wants
 * it above the budget); undefined to leave thinking out, so the model does its default.
 */
export function claudeThinking(
  prompt: ChatPrompt,
  answerTool: AnswerTool | undefined,
): ClaudeThinking | undefined {
  // Claude refuses forced tool use with thinking on, and the answer tool is forced: the
  // JSON answer the client asked for matters more than the reasoning behind it.
  if (answerTool) return undefined;
  const budget = thinkingBudget(prompt.reasoning, ANTHROPIC_EFFORT_BUDGETS);
  if (budget === undefined) return undefined;
  if (budget === 0) return { kind: 'disabled' };
  const maxTokens = prompt.maxTokens;
  if (maxTokens === undefined) {
    return enabled(budget, budget + ANTHROPIC_DEFAULT_MAX_TOKENS);
  }
  // A budget the client chose goes as given: if it does not fit, Anthropic's own 400
  // tells the client so.
  if (prompt.reasoning?.kind === 'budget' || maxTokens > budget) {
    return enabled(budget, maxTokens);
  }
  // An effort's budget is ours to fit under the client's max_tokens; when even the least
  // budget does not fit, the answer is better had without thinking than refused.
  const fitted = maxTokens - 1;
  return fitted >= MIN_THINKING_BUDGET ? enabled(fitted, maxTokens) : undefined;
}

function enabled(budgetTokens: number, maxTokens: number): ClaudeThinking {
  return { kind: 'enabled', budgetTokens, maxTokens };
}

/**
 * The blocks of an assistant turn's reasoning that Claude takes back: a thinking block
 * without a signature (another provider's reasoning) would be refused, so it is left out.
 */
export function replayableThinking(blocks: readonly ThinkingBlock[]): ThinkingBlock[] {
  return blocks.filter((block) => block.type === 'redacted_thinking' || block.signature !== '');
}
