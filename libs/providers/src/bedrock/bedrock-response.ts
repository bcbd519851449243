import type { JsonObject, ThinkingBlock, TokenUsage } from '@aigw/contracts/data-plane';
import { chatCompletion, type FinishReason, type OpenAiToolCall } from '../core/openai-output';
import { isJsonObject, isNonEmptyString } from '../core/json-shape';
import { badResponse } from '../core/upstream-http';
import { sumTokens, tokenCount, withServedTier } from '../core/usage';
import { servedTierOfConverse } from '../core/service-tier';
import { anthropicStoppedAt } from '../anthropic/anthropic-response';
import { isReplayableThinking, replayableThinking } from '../anthropic/anthropic-thinking';
import { citedContent } from './bedrock-citations';

/**
 * A token count Bedrock reported, or undefined when it is not a count at all. Unlike
 * the shared rule, a count past what a number holds exactly is refused rather than
 * capped: Bedrock's usage is then estimated instead of billed as billions.
 */
function bedrockTokenCount(value: unknown): number | undefined {
  return typeof value === 'number' && value <= Number.MAX_SAFE_INTEGER
    ? tokenCount(value)
    : undefined;
}

/**
 * Converse usage in our terms, or undefined when Bedrock sent none that can be trusted
 * (its required `inputTokens` and `outputTokens` are not counts): an estimate then beats
 * billing zero. Bedrock's `inputTokens` leaves out prompt-cache reads and writes, so
 * `inputTokens` here adds them (the whole prompt), `cachedInputTokens` is the part read
 * from the cache and `cacheWriteInputTokens` the part written to it, of which
 * `cacheWrite1hInputTokens` is what `cacheDetails` says was written for an hour. An
 * unusable cache count counts as none.
 */
export function bedrockUsage(usage: unknown): TokenUsage | undefined {
  if (!isJsonObject(usage)) return undefined;
  const input = bedrockTokenCount(usage.inputTokens);
  const outputTokens = bedrockTokenCount(usage.outputTokens);
  if (input === undefined || outputTokens === undefined) return undefined;
  const cacheRead = bedrockTokenCount(usage.cacheReadInputTokens) ?? 0;
  const cacheWrite = bedrockTokenCount(usage.cacheWriteInputTokens) ?? 0;
  const inputTokens = sumTokens(input, cacheRead, cacheWrite);
  const forAnHour = Math.min(hourWrites(usage.cacheDetails), cacheWrite);
  return {
    inputTokens,
    outputTokens,
    cachedInputTokens: cacheRead,
    ...(cacheWrite > 0 ? { cacheWriteInputTokens: cacheWrite } : {}),
    ...(forAnHour > 0 ? { cacheWrite1hInputTokens: forAnHour } : {}),
    source: 'reported',
  };
}

/** The tokens Converse's `cacheDetails` ([{ttl: '5m' | '1h', inputTokens}]) wrote for an hour. */
function hourWrites(details: unknown): number {
  if (!Array.isArray(details)) return 0;
  let tokens = 0;
  for (const detail of details) {
    if (!isJsonObject(detail) || detail.ttl !== '1h') continue;
    tokens = sumTokens(tokens, bedrockTokenCount(detail.inputTokens) ?? 0);
  }
  return tokens;
}

/**
 * The stopReasons that mean the model's output is broken: Converse could not parse what
 * the model wrote (malformed_model_output) or its tool call (malformed_tool_use). A JSON
 * answer with one is refused as a bad response and a stream ends in an error, as a DeepSeek
 * `insufficient_system_resource` does (core/unfinished-choices.ts): no client may take it
 * for a finished answer.
 */
const FAILED_STOP_REASONS: ReadonlySet<unknown> = new Set([
  'malformed_model_output',
  'malformed_tool_use',
]);

/** The stopReason if it means the answer is broken, else undefined (one of the known names). */
export function failedStopReason(stopReason: unknown): string | undefined {
  return FAILED_STOP_REASONS.has(stopReason) ? (stopReason as string) : undefined;
}

/**
 * Converse's stopReason as an OpenAI finish_reason. `tool_calls` only when the answer
 * has a tool call (an answer tool's call is content): clients that see it look for one.
 * model_context_window_exceeded is `length`: what came is sound text cut where the window
 * filled, the case `length` names (and what OpenAI answers when a reply reaches the
 * context limit), so a client can still use or continue it. guardrail_intervened and
 * content_filtered are policy stops, `content_filter`. The failed ones never get here.
 */
export function bedrockFinishReason(stopReason: unknown, madeToolCalls: boolean): FinishReason {
  switch (stopReason) {
    case 'max_tokens':
    case 'model_context_window_exceeded':
      return 'length';
    case 'tool_use':
      return madeToolCalls ? 'tool_calls' : 'stop';
    case 'guardrail_intervened':
    case 'content_filtered':
      return 'content_filter';
    default: // end_turn, stop_sequence, and reasons added later
      return 'stop';
  }
}

/**
 * What the choice's `stop_reason` says of why a Converse answer stopped, as Anthropic's
 * adapter says it (anthropicStoppedAt): Converse names the stop sequence hit in
 * `additionalModelResponseFields.stop_sequence` when the request asked for that path
 * (toConverseRequest does, with stop sequences).
 */
export function converseStoppedAt(stopReason: unknown, modelFields: unknown): string | undefined {
  const sequence = isJsonObject(modelFields) ? modelFields.stop_sequence : undefined;
  return anthropicStoppedAt(stopReason, sequence);
}

/** What a Converse answer needs besides its body. */
export interface ConverseAnswerContext {
  readonly id: string;
  readonly model: string;
  readonly backendName: string;
  /** Usage for an answer that reported none usable, from the text it generated. */
  readonly estimateUsage: (generated: string) => TokenUsage;
  /** The forced answer tool (`bedrock-json-mode.ts`), whose input is the text. */
  readonly answerTool?: string;
}

/**
 * A Converse response as an OpenAI chat.completion; undefined if it has no
 * `output.message.content` list. A content block of the wrong shape is a bad response:
 * passing it on would hand the client a broken answer.
 */
export function fromConverseResponse(
  body: JsonObject,
  context: ConverseAnswerContext,
): { completion: JsonObject; usage: TokenUsage } | undefined {
  const output = isJsonObject(body.output) ? body.output : undefined;
  const message = isJsonObject(output?.message) ? output.message : undefined;
  if (!message || !Array.isArray(message.content)) return undefined;
  const failed = failedStopReason(body.stopReason);
  if (failed) throw badResponse(context.backendName, `stopReason ${failed}`);
  const { text, toolCalls, reasoning, ordered } = answerContent(message.content, context);
  // An answer that cites is its texts in order, each with its own sources, and its thinking
  // in its places among them (as an Anthropic backend's answer), not one joined text.
  const cites = ordered.some((part) => part.citations !== undefined);
  // Reasoning is billed as output, so an estimate counts it too.
  const generated = reasoning.text + text + toolCalls.map((call) => call.argumentsJson).join('');
  const usage = bedrockUsage(body.usage) ?? context.estimateUsage(generated);
  const completion = chatCompletion({
    id: context.id,
    model: context.model,
    text,
    toolCalls,
    finishReason: bedrockFinishReason(body.stopReason, toolCalls.length > 0),
    stoppedAt: converseStoppedAt(body.stopReason, body.additionalModelResponseFields),
    usage,
    // Only signed or redacted blocks go back to the client: Claude refuses unsigned ones.
    reasoning: { text: reasoning.text, blocks: cites ? [] : replayableThinking(reasoning.blocks) },
  });
  if (cites) {
    const [choice] = completion.choices as JsonObject[];
    (choice.message as JsonObject).content = ordered;
  }
  // The tier it was served at, as OpenAI answers it (service_tier beside usage).
  const tier = servedTierOfConverse(body.serviceTier);
  if (tier !== undefined) completion.service_tier = tier;
  // And on the usage, which the price's serviceTierFactors bill by.
  return { completion, usage: withServedTier(usage, tier) };
}

interface AnswerContent {
  text: string;
  toolCalls: OpenAiToolCall[];
  reasoning: { text: string; blocks: ThinkingBlock[] };
  /** The texts (a cited one with its `citations`) and replayable thinking, in order. */
  ordered: JsonObject[];
}

/**
 * The text, tool calls and reasoning of Converse content blocks. With an answer tool its
 * input is the whole text: prose beside it would break the client's JSON, and a call of
 * any other tool was never offered.
 */
function answerContent(
  content: readonly unknown[],
  { backendName, answerTool }: ConverseAnswerContext,
): AnswerContent {
  let text = '';
  const toolCalls: OpenAiToolCall[] = [];
  const reasoning = { text: '', blocks: [] as ThinkingBlock[] };
  const ordered: JsonObject[] = [];
  for (const block of content) {
    if (!isJsonObject(block)) {
      throw badResponse(backendName, 'a content block that is not an object');
    }
    if ('text' in block) {
      if (typeof block.text !== 'string') {
        throw badResponse(backendName, 'a text content block whose text is not a string');
      }
      if (answerTool === undefined) text += block.text;
      ordered.push({ type: 'text', text: block.text });
    } else if ('citationsContent' in block) {
      if (!isJsonObject(block.citationsContent)) {
        throw badResponse(backendName, 'a citationsContent block that is not an object');
      }
      // The cited text is part of the answer; with an answer tool, prose is dropped.
      if (answerTool !== undefined) continue;
      const cited = citedContent(block.citationsContent);
      text += cited.text;
      ordered.push({
        type: 'text',
        text: cited.text,
        ...(cited.citations.length > 0 ? { citations: cited.citations } : {}),
      });
    } else if ('toolUse' in block) {
      const call = toolCall(block.toolUse, backendName);
      if (answerTool === undefined) toolCalls.push(call);
      else if (call.name === answerTool) text += call.argumentsJson;
      else throw badResponse(backendName, 'a toolUse block for a tool the request did not offer');
    } else if ('reasoningContent' in block) {
      const added = addReasoning(block.reasoningContent, reasoning, backendName);
      if (added && isReplayableThinking(added)) ordered.push({ ...added });
    }
    // Other blocks (types added later) have no OpenAI counterpart.
  }
  return { text, toolCalls, reasoning, ordered };
}

/**
 * A reasoningContent block added to the reasoning: its text, and the block itself (a
 * redacted one's content is the base64 Converse sends a blob as), which is returned for its
 * place in an answer that cites; undefined for a member added later.
 */
function addReasoning(
  content: unknown,
  reasoning: AnswerContent['reasoning'],
  backendName: string,
): ThinkingBlock | undefined {
  if (!isJsonObject(content)) {
    throw badResponse(backendName, 'a reasoningContent block that is not an object');
  }
  const { reasoningText, redactedContent } = content;
  if (isJsonObject(reasoningText)) {
    const { text, signature = '' } = reasoningText;
    if (typeof text !== 'string' || typeof signature !== 'string') {
      throw badResponse(backendName, 'a reasoningText whose text or signature is not a string');
    }
    const block: ThinkingBlock = { type: 'thinking', thinking: text, signature };
    reasoning.text += text;
    reasoning.blocks.push(block);
    return block;
  }
  if (isNonEmptyString(redactedContent)) {
    const block: ThinkingBlock = { type: 'redacted_thinking', data: redactedContent };
    reasoning.blocks.push(block);
    return block;
  }
  return undefined;
}

function toolCall(toolUse: unknown, backendName: string): OpenAiToolCall {
  if (
    !isJsonObject(toolUse) ||
    !isNonEmptyString(toolUse.toolUseId) ||
    !isNonEmptyString(toolUse.name)
  ) {
    throw badResponse(backendName, 'a toolUse block without its toolUseId or name');
  }
  // OpenAI clients parse `arguments` as a JSON object; a missing input is an empty one.
  const input = toolUse.input ?? {};
  if (!isJsonObject(input)) {
    throw badResponse(backendName, `a toolUse block whose input is not a JSON object`);
  }
  return { id: toolUse.toolUseId, name: toolUse.name, argumentsJson: JSON.stringify(input) };
}
