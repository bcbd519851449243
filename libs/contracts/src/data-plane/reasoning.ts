// Reasoning ("extended thinking") in the gateway's canonical format, OpenAI chat
// completions extended the way LiteLLM and DeepSeek extend it, so a client of either API
// reaches the reasoning of any backend that has some:
//
// - asked for with OpenAI's `reasoning_effort`, or with `thinking` in Anthropic's shape:
//   a token budget (`enabled`, Claude up to 4.5), or `adaptive` (Claude 4.6 and later, the
//   model choosing how much to think, with `reasoning_effort` as its effort; the Messages
//   edge carries Anthropic's `output_config.effort` there); `thinking` wins over an effort
//   alone;
// - an assistant turn carries its earlier reasoning back in `thinking_blocks`: Anthropic
//   (and Claude on Bedrock) need a tool-using turn's signed thinking blocks returned as
//   they came, or refuse the request;
// - an answer carries the reasoning text in `message.reasoning_content` (streams: in
//   `delta.reasoning_content` fragments) and, where the provider signs or redacts it, the
//   blocks to send back in `message.thinking_blocks` (streams: a `delta.thinking_blocks`
//   entry when a block's signature, or a redacted block, arrives).

/** A block of reasoning an assistant turn carries, as Anthropic returns it. */
export type ThinkingBlock =
  | { readonly type: 'thinking'; readonly thinking: string; readonly signature: string }
  /** Reasoning the provider encrypted: sent back as it came, never shown. */
  | { readonly type: 'redacted_thinking'; readonly data: string };

/** How an adaptive model shows its thinking: a summary, or nothing (newer Claude's default). */
export type ThinkingDisplay = 'summarized' | 'omitted';

/** The `thinking` request field, Anthropic's shape. */
export type ThinkingConfig =
  | {
      readonly type: 'enabled';
      readonly budget_tokens: number;
      readonly display?: ThinkingDisplay;
    }
  | { readonly type: 'adaptive'; readonly display?: ThinkingDisplay }
  | { readonly type: 'disabled' };

/** The smallest budget Anthropic takes; the gateway asks the same of every client. */
export const MIN_THINKING_BUDGET = 1024;

/**
 * The output a request that asks for reasoning (an effort, adaptive or budgeted thinking,
 * in any dialect) and sets no `max_tokens` is given at least, in place of the plain
 * default (AI_GATEWAY_DEFAULT_MAX_OUTPUT_TOKENS, 4096 unless set): the thinking shares
 * the output with the answer, and 4096 cuts a long think's answer short. Anthropic's
 * adaptive-thinking guide (platform.claude.com/docs/en/build-with-claude/adaptive-thinking)
 * writes its adaptive and effort requests with `max_tokens: 16000` and names no other
 * figure; this is that, rounded up to the power of two the gateway has always sent.
 * Budget admission holds it and the Claude adapters send it: what is held is what Claude
 * may write.
 */
export const REASONING_DEFAULT_MAX_OUTPUT_TOKENS = 16_384;

/**
 * The efforts translating adapters know how to map: OpenAI's `reasoning_effort` values
 * (`xhigh` since gpt-5.1) and Anthropic's `output_config.effort` ones (`max`).
 */
export const REASONING_EFFORTS = [
  'none',
  'minimal',
  'low',
  'medium',
  'high',
  'xhigh',
  'max',
] as const;
export type ReasoningEffort = (typeof REASONING_EFFORTS)[number];

export function isReasoningEffort(value: unknown): value is ReasoningEffort {
  return typeof value === 'string' && (REASONING_EFFORTS as readonly string[]).includes(value);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * A `thinking` value rebuilt with its known fields alone: `{"type": "enabled",
 * "budget_tokens": N}` with N a whole number of at least 1024, or `{"type": "adaptive"}`,
 * each with an optional `display` of "summarized" or "omitted", or `{"type": "disabled"}`;
 * undefined for anything else. The edges and the adapters check it with this, each in its
 * own error style.
 */
export function normalizedThinking(value: unknown): ThinkingConfig | undefined {
  if (!isRecord(value)) return undefined;
  if (value.type === 'disabled') return { type: 'disabled' };
  const display = value.display;
  let shown: { display?: ThinkingDisplay } = {};
  if (display === 'summarized' || display === 'omitted') shown = { display };
  else if (display !== undefined && display !== null) return undefined;
  if (value.type === 'adaptive') return { type: 'adaptive', ...shown };
  const budget = value.budget_tokens;
  if (value.type !== 'enabled' || typeof budget !== 'number') return undefined;
  if (!Number.isSafeInteger(budget) || budget < MIN_THINKING_BUDGET) return undefined;
  return { type: 'enabled', budget_tokens: budget, ...shown };
}

/** One entry of `thinking_blocks` rebuilt with its known fields; undefined when malformed. */
export function normalizedThinkingBlock(value: unknown): ThinkingBlock | undefined {
  if (!isRecord(value)) return undefined;
  if (value.type === 'redacted_thinking') {
    return typeof value.data === 'string' && value.data !== ''
      ? { type: 'redacted_thinking', data: value.data }
      : undefined;
  }
  if (value.type !== 'thinking' || typeof value.thinking !== 'string') return undefined;
  // A block without a signature (another provider's reasoning) is kept with an empty one:
  // an adapter whose provider verifies signatures leaves such blocks out.
  const signature = value.signature ?? '';
  if (typeof signature !== 'string') return undefined;
  return { type: 'thinking', thinking: value.thinking, signature };
}

/**
 * The reasoning text of an answer's message or a stream's delta: `reasoning_content`
 * (DeepSeek, LiteLLM, this gateway's adapters), else `reasoning`, which vLLM, Groq, Ollama
 * and OpenRouter write in its place; undefined when there is none.
 */
export function reasoningTextOf(messageOrDelta: Record<string, unknown>): string | undefined {
  const text = messageOrDelta.reasoning_content ?? messageOrDelta.reasoning;
  return typeof text === 'string' && text !== '' ? text : undefined;
}
