import type { JsonObject, TokenUsage } from '@aigw/contracts/data-plane';
import { chatCompletion, type FinishReason, type OpenAiToolCall } from '../core/openai-output';
import { reportedTokens } from '../core/usage';

/**
 * Converse usage in our terms. Bedrock's `inputTokens` leaves out prompt-cache reads and
 * writes, so `inputTokens` here adds them (the whole prompt) and `cachedInputTokens` is
 * the part read from the cache.
 */
export function bedrockUsage(usage: unknown): TokenUsage | undefined {
  if (!usage || typeof usage !== 'object') return undefined;
  const u = usage as JsonObject;
  const cacheRead = reportedTokens(u.cacheReadInputTokens);
  return {
    inputTokens:
      reportedTokens(u.inputTokens) + cacheRead + reportedTokens(u.cacheWriteInputTokens),
    outputTokens: reportedTokens(u.outputTokens),
    cachedInputTokens: cacheRead,
    source: 'reported',
  };
}

export function bedrockFinishReason(stopReason: unknown): FinishReason {
  switch (stopReason) {
    case 'max_tokens':
    case 'model_context_window_exceeded':
      return 'length';
    case 'tool_use':
      return 'tool_calls';
    case 'guardrail_intervened':
    case 'content_filtered':
      return 'content_filter';
    default: // end_turn, stop_sequence
      return 'stop';
  }
}

/** A Converse response as an OpenAI chat.completion; undefined if it is not one. */
export function fromConverseResponse(
  body: JsonObject,
  id: string,
  model: string,
): { completion: JsonObject; usage: TokenUsage } | undefined {
  const message = (body.output as JsonObject | undefined)?.message as JsonObject | undefined;
  const usage = bedrockUsage(body.usage);
  if (!message || !Array.isArray(message.content) || !usage) return undefined;
  let text = '';
  const toolCalls: OpenAiToolCall[] = [];
  for (const block of message.content as JsonObject[]) {
    if (typeof block.text === 'string') text += block.text;
    const toolUse = block.toolUse as JsonObject | undefined;
    if (toolUse && typeof toolUse.toolUseId === 'string' && typeof toolUse.name === 'string') {
      toolCalls.push({
        id: toolUse.toolUseId,
        name: toolUse.name,
        argumentsJson: JSON.stringify(toolUse.input ?? {}),
      });
    }
  }
  const completion = chatCompletion({
    id,
    model,
    text,
    toolCalls,
    finishReason: bedrockFinishReason(body.stopReason),
    usage,
  });
  return { completion, usage };
}
