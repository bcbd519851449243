import {
  MIN_THINKING_BUDGET,
  REASONING_DEFAULT_MAX_OUTPUT_TOKENS,
  type DroppedSettingName,
  type SettingDropReason,
  type ThinkingBlock,
  type ThinkingDisplay,
} from '@aigw/contracts/data-plane';
import type { AnswerTool } from '../core/answer-tool';
import type { ChatPrompt, ChatReasoning, ChatTurn, ThinkingEffort } from '../core/chat-request';
import { DOUBLING_EFFORT_BUDGETS, thinkingBudget } from '../core/reasoning';
import { isAtLeast, readClaudeModel } from './claude-models';
import type { SettingsDroppedListener } from './claude-sampling';

// Claude's thinking, as the Messages API and Claude on Bedrock (Converse) both take it:
// the same rules, each adapter writing its own fields. Two generations: Claude 4.5 and
// older think within a token budget (`thinking: {type: enabled, budget_tokens}`); Claude
// 4.6 and later think adaptively (`thinking: {type: adaptive}` with `output_config.effort`),
// and from Opus 4.7 refuse a budget with a 400. Each request is written for its model's.

/**
 * Anthropic requires `max_tokens`; OpenAI clients often leave it out. Without one the
 * output the request's admission held is sent (`heldOutput`); 4096, what every current
 * Claude model can produce, when it carries neither that nor the held default (a call not
 * admitted).
 */
export const ANTHROPIC_DEFAULT_MAX_TOKENS = 4096;

/**
 * The default output admission held for the request (AI_GATEWAY_DEFAULT_MAX_OUTPUT_TOKENS),
 * at least REASONING_DEFAULT_MAX_OUTPUT_TOKENS when it asks for reasoning, as
 * budget-admission's unboundedOutputTokens reckons it. For a request of an older ingress
 * only (see heldOutput).
 */
function heldDefault(prompt: ChatPrompt): number {
  const fallback = prompt.defaultMaxTokens ?? ANTHROPIC_DEFAULT_MAX_TOKENS;
  const reasoning = prompt.reasoning;
  return reasoning === undefined || reasoning.kind === 'off'
    ? fallback
    : Math.max(fallback, REASONING_DEFAULT_MAX_OUTPUT_TOKENS);
}

/**
 * The output admission held for each choice of a request without `max_tokens`. Claude is
 * asked for exactly this, with thinking or without (beside the answer tool), so it writes
 * no more than was held and a reasoning answer keeps its room. Admission says it
 * (`heldOutputTokens`), and it is sent as it is: one reckoning, so the two cannot drift.
 * A request from an ingress of an older build carries only the held default: the output
 * is then reckoned from it here as admission did, the held default after the client's
 * thinking budget when it gave one (to go once no such ingress is left).
 */
function heldOutput(prompt: ChatPrompt): number {
  if (prompt.heldOutputTokens !== undefined) return prompt.heldOutputTokens;
  const held = heldDefault(prompt);
  return prompt.reasoning?.kind === 'budget' ? prompt.reasoning.budgetTokens + held : held;
}

/** `max_tokens` for a request Claude answers without thinking: the client's, else the held one. */
export function claudeMaxTokens(prompt: ChatPrompt): number {
  return prompt.maxTokens ?? heldOutput(prompt);
}

/** Anthropic's `output_config.effort` for each effort (it has no minimal: that is its low). */
const ANTHROPIC_EFFORTS: Readonly<Record<ThinkingEffort, string>> = {
  minimal: 'low',
  low: 'low',
  medium: 'medium',
  high: 'high',
  xhigh: 'xhigh',
  max: 'max',
};

/**
 * Whether a Claude model takes a thinking budget only, not adaptive thinking: the models
 * from before it (3.x, 4, 4.1, 4.5). Any other Claude, including models newer than this
 * code, is taken to think adaptively: that is where Anthropic has gone.
 */
export function thinksWithinBudgetOnly(model: string): boolean {
  const claude = readClaudeModel(model);
  return claude !== undefined && !isAtLeast(claude.version, 4, 6);
}

/** Told when the thinking a client asked for is left out, and why; never of its value. */
export type ThinkingDroppedListener = (
  setting: Extract<DroppedSettingName, 'reasoning'>,
  reason: Extract<SettingDropReason, 'tool_loop' | 'model'>,
) => void;

/** Told of each setting a Claude request leaves out: a sampling setting, or its thinking. */
export type ClaudeSettingsDroppedListener = SettingsDroppedListener & ThinkingDroppedListener;

/** What a Claude request says about thinking, when it says anything. */
export type ClaudeThinking =
  | {
      readonly kind: 'budget';
      readonly budgetTokens: number;
      readonly maxTokens: number;
      /** The client's own `display`, when it set one; else the model's default. */
      readonly display?: ThinkingDisplay;
    }
  | {
      readonly kind: 'adaptive';
      /** Anthropic's `output_config.effort`; absent for the model's default. */
      readonly effort?: string;
      readonly display?: ThinkingDisplay;
      readonly maxTokens: number;
    };

/**
 * The thinking to ask `model` for, with the `max_tokens` that goes with it; undefined to
 * leave thinking out. "None" is left out too rather than sent as `disabled`, which the
 * newest models refuse: without the field no Claude thinks.
 */
export function claudeThinking(
  prompt: ChatPrompt,
  answerTool: AnswerTool | undefined,
  model: string,
  /** Told when the thinking asked for is left out for a reason worth counting. */
  onDropped?: ThinkingDroppedListener,
): ClaudeThinking | undefined {
  const reasoning = prompt.reasoning;
  if (reasoning === undefined || reasoning.kind === 'off') return undefined;
  // Claude refuses forced tool use with thinking on, and the answer tool is forced: the
  // JSON answer the client asked for matters more than the reasoning behind it (counted).
  if (answerTool) {
    onDropped?.('reasoning', 'model');
    return undefined;
  }
  // So is the client's own forced call ("Thinking may not be enabled when tool_choice forces
  // tool use"): the call it asked for comes without the reasoning, counted, not refused.
  if (forcesToolCall(prompt)) {
    onDropped?.('reasoning', 'model');
    return undefined;
  }
  return thinksWithinBudgetOnly(model)
    ? budgetThinking(prompt, reasoning, onDropped)
    : adaptiveThinking(reasoning, prompt.maxTokens ?? heldOutput(prompt));
}

/** Whether the client forces a tool call (`required`, or a function by name). */
function forcesToolCall(prompt: ChatPrompt): boolean {
  const kind = prompt.toolChoice?.kind;
  return kind === 'required' || kind === 'function';
}

function budgetThinking(
  prompt: ChatPrompt,
  reasoning: ChatReasoning,
  onDropped: ThinkingDroppedListener | undefined,
): ClaudeThinking | undefined {
  const budget = thinkingBudget(reasoning, DOUBLING_EFFORT_BUDGETS);
  if (budget === undefined || budget === 0) return undefined;
  if (toolLoopLostItsThinking(prompt)) {
    // Answered without the reasoning the client asked for: counted, not silent.
    onDropped?.('reasoning', 'tool_loop');
    return undefined;
  }
  // Without the client's max_tokens: what was held. An effort's budget that leaves no room
  // in it (max's 16384) is fitted as under a client's max_tokens too small for it.
  const maxTokens = prompt.maxTokens ?? heldOutput(prompt);
  const display = reasoning.kind === 'budget' ? reasoning.display : undefined;
  // A budget the client chose goes as given: if it does not fit, Anthropic's own 400
  // tells the client so.
  if (reasoning.kind === 'budget' || maxTokens > budget) {
    return budgeted(budget, maxTokens, display);
  }
  // An effort's budget is ours to fit under the client's max_tokens; when even the least
  // budget does not fit, the answer is better had without thinking than refused.
  const fitted = maxTokens - 1;
  return fitted >= MIN_THINKING_BUDGET ? budgeted(fitted, maxTokens) : undefined;
}

/**
 * Whether the request goes on a tool loop whose turn began without its signed thinking: an
 * OpenAI client keeps no `thinking_blocks`, and with budget thinking Claude refuses such a
 * loop (400: "a final `assistant` message must start with a thinking block (preceeding the
 * lastmost set of `tool_use` and `tool_result` blocks) ... To avoid this requirement,
 * disable `thinking`"). Every next call of the loop would be refused, so the answer is had
 * without thinking, as Anthropic advises; the loop's next question thinks again. Adaptive
 * thinking (Claude 4.6 on) may skip thinking on any turn, so it is left as asked.
 */
function toolLoopLostItsThinking(prompt: ChatPrompt): boolean {
  const start = toolLoopStart(prompt.turns);
  const first = start === undefined ? undefined : prompt.turns[start];
  return first?.role === 'assistant' && !beginsWithThinking(first);
}

/**
 * Whether an assistant turn goes back to Claude beginning with its signed thinking: its
 * `thinking_blocks`, or, in a turn that used Anthropic's server tools, a thinking block the
 * Messages edge placed at the start of its content among theirs.
 */
function beginsWithThinking(turn: Extract<ChatTurn, { role: 'assistant' }>): boolean {
  if (replayableThinking(turn.thinking).length > 0) return true;
  const lead = turn.serverToolBlocks?.[0];
  return lead !== undefined && lead.after === 0 && isReplayableThinking(lead.block);
}

/**
 * Where the tool loop the request goes on began: the first assistant turn since the last
 * message of the user's own. A loop is one assistant turn to Claude, thinking at its start
 * only (unless interleaved): its later calls come back with none, and need none. A user
 * message is the run of user and tool turns between two assistant turns (Anthropic merges
 * them, as it merges adjacent assistant turns); one with a tool result goes on the loop.
 * Undefined when the request ends on no tool result: no loop to go on.
 */
function toolLoopStart(turns: readonly ChatTurn[]): number | undefined {
  let start: number | undefined;
  let answersTools = false;
  for (let at = turns.length - 1; at >= 0; at -= 1) {
    const turn = turns[at];
    if (turn.role === 'tool') answersTools = true;
    else if (turn.role === 'assistant') {
      // Adjacent assistant turns are one message, which begins with the earlier.
      const mergedWithNext = turns[at + 1]?.role === 'assistant';
      if (!answersTools && !mergedWithNext) break;
      start = at;
      answersTools = false;
    }
  }
  return start;
}

function budgeted(
  budgetTokens: number,
  maxTokens: number,
  display?: ThinkingDisplay,
): ClaudeThinking {
  return { kind: 'budget', budgetTokens, maxTokens, ...(display ? { display } : {}) };
}

/** A client's budget, for a model that takes none, as the effort nearest its intent. */
function effortForBudget(budgetTokens: number): ThinkingEffort {
  if (budgetTokens <= 2048) return 'low';
  return budgetTokens <= 8192 ? 'medium' : 'high';
}

function adaptiveThinking(
  reasoning: Exclude<ChatReasoning, { kind: 'off' }>,
  maxTokens: number,
): ClaudeThinking {
  const effort =
    reasoning.kind === 'budget' ? effortForBudget(reasoning.budgetTokens) : reasoning.effort;
  return {
    kind: 'adaptive',
    ...(effort === undefined ? {} : { effort: ANTHROPIC_EFFORTS[effort] }),
    ...displayOf(reasoning),
    maxTokens,
  };
}

/**
 * How the thinking is shown. From Opus 4.7 Claude leaves the thinking text out unless
 * asked (`display` defaults to "omitted"; 4.6 defaulted to "summarized"), so its blocks
 * come back empty. A client that asked with an effort (OpenAI's `reasoning_effort`, a
 * Responses or Gemini level) or a budget (the older Claude, which showed its thinking)
 * expects to read the reasoning: it gets "summarized". A `display` the client set is never
 * overridden, and Anthropic's own adaptive thinking without one goes without, for the
 * model's default, as Anthropic would serve it.
 */
function displayOf(reasoning: Exclude<ChatReasoning, { kind: 'off' }>): {
  display?: ThinkingDisplay;
} {
  if (reasoning.kind !== 'effort' && reasoning.display !== undefined) {
    return { display: reasoning.display };
  }
  return reasoning.kind === 'adaptive' ? {} : { display: 'summarized' };
}

/** Claude's `thinking` field, and `output_config` when an effort goes with it. */
export function claudeThinkingFields(thinking: ClaudeThinking): {
  thinking: Record<string, unknown>;
  output_config?: Record<string, unknown>;
} {
  if (thinking.kind === 'budget') {
    const display = thinking.display ? { display: thinking.display } : {};
    return { thinking: { type: 'enabled', budget_tokens: thinking.budgetTokens, ...display } };
  }
  return {
    thinking: { type: 'adaptive', ...(thinking.display ? { display: thinking.display } : {}) },
    ...(thinking.effort ? { output_config: { effort: thinking.effort } } : {}),
  };
}

/**
 * Whether Claude takes a thinking or redacted_thinking block back in an assistant turn: a
 * redacted one always, a thinking one only with its signature (another provider's
 * reasoning has none, and Claude refuses it). Read from a parsed block or a raw one alike.
 */
export function isReplayableThinking(block: {
  readonly type?: unknown;
  readonly signature?: unknown;
}): boolean {
  if (block.type === 'redacted_thinking') return true;
  return block.type === 'thinking' && typeof block.signature === 'string' && block.signature !== '';
}

/** The blocks of an assistant turn's reasoning that Claude takes back (isReplayableThinking). */
export function replayableThinking(blocks: readonly ThinkingBlock[]): ThinkingBlock[] {
  return blocks.filter(isReplayableThinking);
}
