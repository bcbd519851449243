import { randomUUID } from 'node:crypto';
import type { JsonObject, TokenUsage } from '@aigw/contracts/data-plane';
import { chatCompletion, type FinishReason, type OpenAiToolCall } from '../core/openai-output';
import { reportedTokens } from '../core/usage';

/**
 * Gemini's usageMetadata in our terms: `promptTokenCount` already includes cached
 * content (reported apart as `cachedContentTokenCount`) and we add the prompt tokens of
 * tool use; thinking tokens are billed as output, so they count as output here.
 */
export function geminiUsage(metadata: unknown): TokenUsage | undefined {
  if (!metadata || typeof metadata !== 'object') return undefined;
  const u = metadata as JsonObject;
  return {
    inputTokens: reportedTokens(u.promptTokenCount) + reportedTokens(u.toolUsePromptTokenCount),
    outputTokens: reportedTokens(u.candidatesTokenCount) + reportedTokens(u.thoughtsTokenCount),
    cachedInputTokens: reportedTokens(u.cachedContentTokenCount),
    source: 'reported',
  };
}

const FILTERED = new Set([
  'SAFETY',
  'RECITATION',
  'BLOCKLIST',
  'PROHIBITED_CONTENT',
  'SPII',
  'IMAGE_SAFETY',
]);

/** Gemini's finishReason as OpenAI's; a STOP that called functions is tool_calls. */
export function geminiFinishReason(reason: unknown, calledTools: boolean): FinishReason {
  if (reason === 'MAX_TOKENS') return 'length';
  if (typeof reason === 'string' && FILTERED.has(reason)) return 'content_filter';
  return calledTools ? 'tool_calls' : 'stop';
}

/** Text and function calls of one candidate's parts; thought summaries are left out. */
export function candidateParts(candidate: JsonObject | undefined): {
  text: string;
  toolCalls: OpenAiToolCall[];
} {
  const content = (candidate?.content ?? {}) as JsonObject;
  const parts = Array.isArray(content.parts) ? (content.parts as JsonObject[]) : [];
  let text = '';
  const toolCalls: OpenAiToolCall[] = [];
  for (const part of parts) {
    if (typeof part.text === 'string' && part.thought !== true) text += part.text;
    const call = part.functionCall as JsonObject | undefined;
    if (call && typeof call.name === 'string') {
      toolCalls.push({
        // Gemini names calls only sometimes; clients need an id to answer them by.
        id: typeof call.id === 'string' ? call.id : `call_${randomUUID().replaceAll('-', '')}`,
        name: call.name,
        argumentsJson: JSON.stringify(call.args ?? {}),
      });
    }
  }
  return { text, toolCalls };
}

/** A GenerateContentResponse as an OpenAI chat.completion; undefined if it is not one. */
export function fromGeminiResponse(
  body: JsonObject,
  model: string,
): { completion: JsonObject; usage: TokenUsage } | undefined {
  const candidates = body.candidates;
  if (!Array.isArray(candidates) && !body.promptFeedback) return undefined;
  const candidate = (candidates as JsonObject[] | undefined)?.[0];
  const { text, toolCalls } = candidateParts(candidate);
  // A prompt blocked outright comes back with no candidate at all.
  const finishReason = candidate
    ? geminiFinishReason(candidate.finishReason, toolCalls.length > 0)
    : 'content_filter';
  const usage = geminiUsage(body.usageMetadata);
  if (!usage) return undefined;
  const completion = chatCompletion({
    id: typeof body.responseId === 'string' ? body.responseId : `chatcmpl-${randomUUID()}`,
    model: typeof body.modelVersion === 'string' ? body.modelVersion : model,
    text,
    toolCalls,
    finishReason,
    usage,
  });
  return { completion, usage };
}
