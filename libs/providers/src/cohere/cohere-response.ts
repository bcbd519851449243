import type { JsonObject, TokenUsage } from '@aigw/contracts/data-plane';
import { chatCompletion, type FinishReason, type OpenAiToolCall } from '../core/openai-output';
import { reportedTokens } from '../core/usage';

/**
 * Cohere's usage in our terms: `billed_units` (what Cohere charges) when present, else
 * `tokens` (which also counts Cohere's own prompt template); `cached_tokens` when given.
 */
export function cohereUsage(usage: unknown): TokenUsage | undefined {
  if (!usage || typeof usage !== 'object') return undefined;
  const u = usage as JsonObject;
  const units = (u.billed_units ?? u.tokens) as JsonObject | undefined;
  if (!units || typeof units !== 'object') return undefined;
  return {
    inputTokens: reportedTokens(units.input_tokens),
    outputTokens: reportedTokens(units.output_tokens),
    cachedInputTokens: reportedTokens(u.cached_tokens),
    source: 'reported',
  };
}

export function cohereFinishReason(reason: unknown): FinishReason {
  switch (reason) {
    case 'MAX_TOKENS':
      return 'length';
    case 'TOOL_CALL':
      return 'tool_calls';
    default: // COMPLETE, STOP_SEQUENCE, ERROR, TIMEOUT
      return 'stop';
  }
}

/** Tool calls of a Cohere message, already in OpenAI's shape. */
function toolCalls(message: JsonObject): OpenAiToolCall[] {
  const calls = Array.isArray(message.tool_calls) ? (message.tool_calls as JsonObject[]) : [];
  return calls.flatMap((call) => {
    const fn = (call.function ?? {}) as JsonObject;
    if (typeof call.id !== 'string' || typeof fn.name !== 'string') return [];
    const args = typeof fn.arguments === 'string' ? fn.arguments : '{}';
    return [{ id: call.id, name: fn.name, argumentsJson: args }];
  });
}

/** A v2 chat response as an OpenAI chat.completion; undefined if it is not one. */
export function fromCohereResponse(
  body: JsonObject,
  model: string,
): { completion: JsonObject; usage: TokenUsage } | undefined {
  const message = body.message as JsonObject | undefined;
  const usage = cohereUsage(body.usage);
  if (!message || typeof message !== 'object' || !usage) return undefined;
  const parts = Array.isArray(message.content) ? (message.content as JsonObject[]) : [];
  const text = parts
    .map((part) => (part.type === 'text' && typeof part.text === 'string' ? part.text : ''))
    .join('');
  const completion = chatCompletion({
    id: typeof body.id === 'string' ? body.id : 'chatcmpl-cohere',
    model,
    text,
    toolCalls: toolCalls(message),
    finishReason: cohereFinishReason(body.finish_reason),
    usage,
  });
  return { completion, usage };
}
