import { randomUUID } from 'node:crypto';
import type { JsonObject, TokenUsage } from '@aigw/contracts/data-plane';
import { chatCompletion, type FinishReason, type OpenAiToolCall } from '../core/openai-output';
import { isJsonObject, isNonEmptyString, parseJsonObject } from '../core/json-shape';
import { badResponse } from '../core/upstream-http';
import { reportedTokens } from '../core/usage';
import { characterCount, messageUrlCitations } from './cohere-citations';

/** Token counts with at least one number in them, else not counts at all. */
function counts(value: unknown): JsonObject | undefined {
  if (!isJsonObject(value)) return undefined;
  const numeric = typeof value.input_tokens === 'number' || typeof value.output_tokens === 'number';
  return numeric ? value : undefined;
}

/**
 * Cohere's usage in our terms: `billed_units` (what Cohere charges) when usable, else
 * `tokens` (which also counts Cohere's own prompt template); `cached_tokens` when given.
 */
export function cohereUsage(usage: unknown): TokenUsage | undefined {
  if (!isJsonObject(usage)) return undefined;
  const units = counts(usage.billed_units) ?? counts(usage.tokens);
  if (!units) return undefined;
  const inputTokens = reportedTokens(units.input_tokens);
  return {
    inputTokens,
    outputTokens: reportedTokens(units.output_tokens),
    // Part of the input: a larger count is the backend's mistake, not more tokens.
    cachedInputTokens: Math.min(reportedTokens(usage.cached_tokens), inputTokens),
    source: 'reported',
  };
}

/** The finish reason of an answer the client's max_tokens ended, maybe mid tool call. */
export const CUT_SHORT_FINISH = 'MAX_TOKENS';

/** Finish reasons that mean Cohere gave up on the answer, which is then no answer. */
export const FAILED_FINISH = new Set(['ERROR', 'TIMEOUT']);

/**
 * Cohere's finish_reason as OpenAI's (COMPLETE, STOP_SEQUENCE and unknown ones are
 * stop). Clients act on tool_calls, so it follows whether the answer called tools.
 */
export function cohereFinishReason(reason: unknown, calledTools: boolean): FinishReason {
  if (reason === CUT_SHORT_FINISH) return 'length';
  return calledTools ? 'tool_calls' : 'stop';
}

/** Whether tool-call arguments are JSON text of an object, as OpenAI clients parse them. */
export function isJsonObjectText(text: string): boolean {
  return parseJsonObject(text) !== undefined;
}

/** An id for a tool call Cohere sent without one; clients answer calls by id. */
export function newToolCallId(): string {
  return `call_${randomUUID().replaceAll('-', '')}`;
}

/**
 * The JSON text of a tool call's arguments: Cohere's string, an object as JSON, none as {}.
 * Cut short by max_tokens, the string goes on as it came: OpenAI sends such a call so,
 * with finish_reason length, and the limit was the client's, not a backend's fault.
 */
function argumentsText(args: unknown, cutShort: boolean): string | undefined {
  if (args === undefined || args === null || args === '') return '{}';
  if (isJsonObject(args)) return JSON.stringify(args);
  if (typeof args !== 'string') return undefined;
  return cutShort || isJsonObjectText(args) ? args : undefined;
}

/** One tool call of a Cohere message in OpenAI's shape; what cannot be called is refused. */
function toolCallOf(call: unknown, backendName: string, cutShort: boolean): OpenAiToolCall {
  const fn = isJsonObject(call) ? call.function : undefined;
  if (!isJsonObject(call) || !isJsonObject(fn) || !isNonEmptyString(fn.name)) {
    throw badResponse(backendName, 'a tool call without a function name');
  }
  const argumentsJson = argumentsText(fn.arguments, cutShort);
  if (argumentsJson === undefined) {
    throw badResponse(
      backendName,
      `a tool call to "${fn.name}" whose arguments are not a JSON object`,
    );
  }
  const id = isNonEmptyString(call.id) ? call.id : newToolCallId();
  return { id, name: fn.name, argumentsJson };
}

function toolCalls(message: JsonObject, backendName: string, cutShort: boolean): OpenAiToolCall[] {
  const calls = Array.isArray(message.tool_calls) ? message.tool_calls : [];
  return calls.map((call) => toolCallOf(call, backendName, cutShort));
}

/**
 * The tool plan (`tool_plan`: what the model says it will do, written before its tool calls)
 * as the start of the answer's text, as Claude's text before a tool_use and GPT's content
 * beside tool_calls reach clients. Sent back in the assistant turn, that text goes to Cohere
 * as the turn's tool_plan again (cohere-request.ts), as Cohere's tool-use guide has clients
 * do. Not reasoning: Cohere's thinking is its own content type, and reasoning is not sent
 * back to Cohere, so a plan given as reasoning would be lost from the conversation.
 */
export function toolPlan(value: unknown): string {
  return typeof value === 'string' ? value : '';
}

/** A message's answer text and its reasoning (the text of its `thinking` items). */
interface MessageText {
  readonly text: string;
  readonly reasoning: string;
}

/**
 * The text and reasoning of a message's content: its text and thinking items (others are
 * left out), or a plain string; undefined if it is neither.
 */
function messageText(content: unknown): MessageText | undefined {
  if (content === undefined || content === null) return { text: '', reasoning: '' };
  if (typeof content === 'string') return { text: content, reasoning: '' };
  if (!Array.isArray(content)) return undefined;
  let text = '';
  let reasoning = '';
  for (const item of content) {
    if (!isJsonObject(item)) continue;
    if (item.type === 'text' && typeof item.text === 'string') text += item.text;
    if (item.type === 'thinking' && typeof item.thinking === 'string') reasoning += item.thinking;
  }
  return { text, reasoning };
}

/**
 * A v2 chat response as an OpenAI chat.completion; undefined if it is not one. An
 * answer Cohere itself gave up on (ERROR, TIMEOUT) or with unusable parts is a bad
 * response, so the call fails over instead of passing a broken answer on.
 */
export function fromCohereResponse(
  body: JsonObject,
  model: string,
  backendName: string,
): { completion: JsonObject; usage: TokenUsage } | undefined {
  const message = body.message;
  const usage = cohereUsage(body.usage);
  if (!isJsonObject(message) || !usage) return undefined;
  if (typeof body.finish_reason === 'string' && FAILED_FINISH.has(body.finish_reason)) {
    throw badResponse(backendName, `finish_reason ${body.finish_reason}`);
  }
  const content = messageText(message.content);
  if (content === undefined) throw badResponse(backendName, 'message content that is not a list');
  const calls = toolCalls(message, backendName, body.finish_reason === CUT_SHORT_FINISH);
  const plan = toolPlan(message.tool_plan);
  const completion = chatCompletion({
    id: typeof body.id === 'string' ? body.id : 'chatcmpl-cohere',
    model,
    text: plan + content.text,
    toolCalls: calls,
    finishReason: cohereFinishReason(body.finish_reason, calls.length > 0),
    usage,
    // Cohere signs nothing: its reasoning is text alone, with no block to send back.
    reasoning: { text: content.reasoning, blocks: [] },
  });
  const annotations = messageUrlCitations(message, characterCount(plan));
  if (annotations.length > 0) {
    // The one choice's message, which chatCompletion built just above.
    ((completion.choices as JsonObject[])[0].message as JsonObject).annotations = annotations;
  }
  return { completion, usage };
}
