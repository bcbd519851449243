import type { JsonObject, TokenUsage } from '@aigw/contracts/data-plane';
import { chatCompletion, type FinishReason, type OpenAiToolCall } from '../core/openai-output';
import { reportedTokens } from '../core/usage';

/**
 * Anthropic's usage in our terms. Anthropic's `input_tokens` excludes prompt-cache reads
 * and writes, so `inputTokens` is all three added up (the whole prompt, like OpenAI's
 * `prompt_tokens`) and `cachedInputTokens` is the part read from the cache. Cache writes
 * count as ordinary input here.
 */
export function anthropicUsage(usage: unknown): TokenUsage | undefined {
  if (!usage || typeof usage !== 'object') return undefined;
  const u = usage as JsonObject;
  const cacheRead = reportedTokens(u.cache_read_input_tokens);
  return {
    inputTokens:
      reportedTokens(u.input_tokens) + reportedTokens(u.cache_creation_input_tokens) + cacheRead,
    outputTokens: reportedTokens(u.output_tokens),
    cachedInputTokens: cacheRead,
    source: 'reported',
  };
}

/** Anthropic's stop_reason as an OpenAI finish_reason. */
export function anthropicFinishReason(stopReason: unknown): FinishReason {
  switch (stopReason) {
    case 'max_tokens':
    case 'model_context_window_exceeded':
      return 'length';
    case 'tool_use':
      return 'tool_calls';
    case 'refusal':
      return 'content_filter';
    default: // end_turn, stop_sequence, pause_turn
      return 'stop';
  }
}

/**
 * A Messages API response as an OpenAI chat.completion: text blocks joined, tool_use
 * blocks as tool_calls; thinking blocks are not part of OpenAI's answer shape.
 * Returns undefined when the body is not a message.
 */
export function fromAnthropicMessage(
  body: JsonObject,
): { completion: JsonObject; usage: TokenUsage } | undefined {
  if (body.type !== 'message' || !Array.isArray(body.content)) return undefined;
  let text = '';
  const toolCalls: OpenAiToolCall[] = [];
  for (const block of body.content as JsonObject[]) {
    if (block.type === 'text' && typeof block.text === 'string') text += block.text;
    if (
      block.type === 'tool_use' &&
      typeof block.id === 'string' &&
      typeof block.name === 'string'
    ) {
      toolCalls.push({
        id: block.id,
        name: block.name,
        argumentsJson: JSON.stringify(block.input ?? {}),
      });
    }
  }
  const usage = anthropicUsage(body.usage);
  if (!usage) return undefined;
  const completion = chatCompletion({
    id: typeof body.id === 'string' ? body.id : 'msg',
    model: typeof body.model === 'string' ? body.model : '',
    text,
    toolCalls,
    finishReason: anthropicFinishReason(body.stop_reason),
    usage,
  });
  return { completion, usage };
}
