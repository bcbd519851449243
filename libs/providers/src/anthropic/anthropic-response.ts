import {
  isServerToolBlockType,
  normalizedThinkingBlock,
  type AnthropicServerTool,
  type JsonObject,
  type ThinkingBlock,
  type TokenUsage,
} from '@aigw/contracts/data-plane';
import { chatCompletion, type FinishReason, type OpenAiToolCall } from '../core/openai-output';
import { isJsonObject, isNonEmptyString } from '../core/json-shape';
import { isUsageLabel, sumTokens, tokenCount, withServedTier } from '../core/usage';
import { servedTierOfAnthropic } from '../core/service-tier';
import { isReplayableThinking, replayableThinking } from './anthropic-thinking';

const USAGE_FIELDS = [
  'input_tokens',
  'output_tokens',
  'cache_creation_input_tokens',
  'cache_read_input_tokens',
] as const;

/**
 * The token counts of an Anthropic `usage` object that are usable; the others left out.
 * `cache_creation_1h` is `cache_creation.ephemeral_1h_input_tokens`: the part of the cache
 * writes made with a 1-hour lifetime, billed dearer.
 */
export type AnthropicCounts = Partial<
  Record<
    (typeof USAGE_FIELDS)[number] | 'cache_creation_1h' | keyof typeof SERVER_TOOL_COUNTS,
    number
  >
> & {
  /** Where Anthropic says it ran the call (`us`, `global`): `us` is billed dearer. */
  inference_geo?: string;
};

/** `usage.server_tool_use`'s counts, by the server tool each counts runs of. */
const SERVER_TOOL_COUNTS = {
  web_search_requests: 'web_search',
  web_fetch_requests: 'web_fetch',
} as const satisfies Record<string, AnthropicServerTool>;

/** The usable counts of a `usage` object (message, message_start or message_delta). */
export function anthropicCounts(usage: unknown): AnthropicCounts {
  const counts: AnthropicCounts = {};
  if (!isJsonObject(usage)) return counts;
  for (const field of USAGE_FIELDS) {
    const count = tokenCount(usage[field]);
    if (count !== undefined) counts[field] = count;
  }
  const byLifetime = usage.cache_creation;
  const forAnHour = isJsonObject(byLifetime)
    ? tokenCount(byLifetime.ephemeral_1h_input_tokens)
    : undefined;
  if (forAnHour !== undefined) counts.cache_creation_1h = forAnHour;
  if (isUsageLabel(usage.inference_geo)) {
    counts.inference_geo = usage.inference_geo;
  }
  const serverTools = usage.server_tool_use;
  if (isJsonObject(serverTools)) {
    for (const field of Object.keys(SERVER_TOOL_COUNTS) as (keyof typeof SERVER_TOOL_COUNTS)[]) {
      const count = tokenCount(serverTools[field]);
      if (count !== undefined) counts[field] = count;
    }
  }
  return counts;
}

/** The server tool runs among the counts (web searches are billed per request); none: undefined. */
function serverToolRequests(counts: AnthropicCounts): TokenUsage['serverToolRequests'] {
  let runs: Partial<Record<AnthropicServerTool, number>> | undefined;
  for (const [field, tool] of Object.entries(SERVER_TOOL_COUNTS)) {
    const count = counts[field as keyof typeof SERVER_TOOL_COUNTS] ?? 0;
    if (count > 0) (runs ??= {})[tool] = count;
  }
  return runs;
}

/**
 * Anthropic's usage in our terms. Anthropic's `input_tokens` excludes prompt-cache reads
 * and writes, so `inputTokens` is all three added up (the whole prompt, like OpenAI's
 * `prompt_tokens`), `cachedInputTokens` is the part read from the cache and
 * `cacheWriteInputTokens` the part written to it (billed above input), of which
 * `cacheWrite1hInputTokens` was written for an hour (billed higher still). Without both input
 * and output counts nothing was reported: undefined, never a zero that would under-bill.
 */
export function usageFromCounts(counts: AnthropicCounts): TokenUsage | undefined {
  const { input_tokens: input, output_tokens: output } = counts;
  if (input === undefined || output === undefined) return undefined;
  const cacheRead = counts.cache_read_input_tokens ?? 0;
  const cacheWrite = counts.cache_creation_input_tokens ?? 0;
  // Never more than all the writes, whatever the breakdown says.
  const forAnHour = Math.min(counts.cache_creation_1h ?? 0, cacheWrite);
  const runs = serverToolRequests(counts);
  return {
    inputTokens: sumTokens(input, cacheWrite, cacheRead),
    outputTokens: output,
    cachedInputTokens: cacheRead,
    ...(cacheWrite > 0 ? { cacheWriteInputTokens: cacheWrite } : {}),
    ...(forAnHour > 0 ? { cacheWrite1hInputTokens: forAnHour } : {}),
    ...(runs ? { serverToolRequests: runs } : {}),
    ...(counts.inference_geo === undefined ? {} : { inferenceGeo: counts.inference_geo }),
    source: 'reported',
  };
}

/**
 * The usable counts of an answer's `usage`, where it ran taken from the request
 * (`askedGeo`) when the answer does not say: Anthropic bills US-only inference dearer
 * whether or not its answer names it.
 */
export function answerCounts(usage: unknown, askedGeo: string | undefined): AnthropicCounts {
  const counts = anthropicCounts(usage);
  if (counts.inference_geo === undefined && askedGeo !== undefined) {
    counts.inference_geo = askedGeo;
  }
  return counts;
}

/**
 * The context edits Anthropic applied (`context_management.applied_edits` of a message or a
 * stream's message_delta), as it sent them; undefined when it sent none.
 */
export function appliedContextEdits(value: unknown): JsonObject | undefined {
  if (!isJsonObject(value) || !Array.isArray(value.applied_edits)) return undefined;
  return { applied_edits: value.applied_edits.filter(isJsonObject) };
}

/**
 * Anthropic's stop_reason as an OpenAI finish_reason. `tool_calls` only when the answer
 * has a tool call: clients that see it look for one.
 */
export function anthropicFinishReason(stopReason: unknown, madeToolCalls: boolean): FinishReason {
  switch (stopReason) {
    case 'max_tokens':
    case 'model_context_window_exceeded':
      return 'length';
    case 'tool_use':
      return madeToolCalls ? 'tool_calls' : 'stop';
    case 'refusal':
      return 'content_filter';
    default: // end_turn, stop_sequence, pause_turn, and reasons added later
      return 'stop';
  }
}

/**
 * What the choice's `stop_reason` says of why the answer stopped: the stop sequence
 * Anthropic says it ended at, or, beside finish_reason "length", that the model's context
 * window ran out (newer models' `model_context_window_exceeded`), which a Messages client
 * gets as itself rather than as max_tokens.
 */
export function anthropicStoppedAt(stopReason: unknown, stopSequence: unknown): string | undefined {
  // A server tool's long turn paused (`pause_turn`): the client sends it back to go on.
  if (stopReason === 'model_context_window_exceeded' || stopReason === 'pause_turn') {
    return stopReason;
  }
  return stopReason === 'stop_sequence' && typeof stopSequence === 'string'
    ? stopSequence
    : undefined;
}

/** A tool_use block as an OpenAI tool call; undefined when it lacks an id, a name or object input. */
function toolCallOf(block: JsonObject): OpenAiToolCall | undefined {
  const input = block.input ?? {};
  if (!isNonEmptyString(block.id) || !isNonEmptyString(block.name) || !isJsonObject(input)) {
    return undefined;
  }
  return { id: block.id, name: block.name, argumentsJson: JSON.stringify(input) };
}

interface AnswerParts {
  text: string;
  toolCalls: OpenAiToolCall[];
  reasoning: { text: string; blocks: ThinkingBlock[] };
  /**
   * The texts, server tools' blocks and thinking blocks in order, for an answer with any
   * server tool block or cited text: its content is then these parts, its thinking in its
   * places among them (anthropic-server-tools in contracts).
   */
  ordered: JsonObject[];
  /** Whether a server tool block or a cited text came, so the content is `ordered`. */
  answersOrdered: boolean;
}

/**
 * A thinking or redacted_thinking block added to the reasoning, and in its place among the
 * ordered parts when Claude may send it back; false when malformed.
 */
function addReasoning(block: JsonObject, parts: AnswerParts): boolean {
  const thinking = normalizedThinkingBlock(block);
  if (!thinking) return false;
  if (thinking.type === 'thinking') parts.reasoning.text += thinking.thinking;
  parts.reasoning.blocks.push(thinking);
  if (isReplayableThinking(thinking)) parts.ordered.push({ ...thinking });
  return true;
}

/**
 * The text, tool calls and reasoning of a message's content; undefined when a block is
 * malformed. Other block types (server tools, types added later) have no OpenAI
 * counterpart and are skipped. With an answer tool (`anthropic-response-format.ts`) its
 * input is the whole text: prose beside it would break the client's JSON, and a call of
 * any other tool was never offered.
 */
function answerParts(
  content: readonly unknown[],
  answerTool: string | undefined,
): AnswerParts | undefined {
  const parts: AnswerParts = {
    text: '',
    toolCalls: [],
    reasoning: { text: '', blocks: [] },
    ordered: [],
    answersOrdered: false,
  };
  for (const block of content) {
    if (!isJsonObject(block)) return undefined;
    if (block.type === 'text') {
      if (typeof block.text !== 'string') return undefined;
      if (answerTool === undefined) parts.text += block.text;
      const cited = Array.isArray(block.citations) && block.citations.length > 0;
      if (cited) parts.answersOrdered = true;
      parts.ordered.push({
        type: 'text',
        text: block.text,
        ...(cited ? { citations: block.citations } : {}),
      });
    } else if (isServerToolBlockType(block.type)) {
      parts.answersOrdered = true;
      parts.ordered.push(block);
    } else if (block.type === 'tool_use') {
      const call = toolCallOf(block);
      if (!call) return undefined;
      if (answerTool === undefined) parts.toolCalls.push(call);
      else if (call.name === answerTool) parts.text += call.argumentsJson;
      else return undefined;
    } else if (block.type === 'thinking' || block.type === 'redacted_thinking') {
      if (!addReasoning(block, parts)) return undefined;
    }
  }
  return parts;
}

/**
 * A Messages API response as an OpenAI chat.completion: text blocks joined, tool_use
 * blocks as tool_calls, or the answer tool's input as the text when the request forced
 * one. Thinking blocks are the reasoning: their text, and the blocks to send back (an
 * unsigned one would be refused), in `thinking_blocks` or, in an answer whose content is
 * its blocks in order (a server tool's), in their places there. Returns undefined when
 * the body is not a well-formed message with usage; `fallbackModel` names the model when
 * the body does not.
 */
export function fromAnthropicMessage(
  body: JsonObject,
  fallbackModel: string,
  answerTool?: string,
  askedGeo?: string,
): { completion: JsonObject; usage: TokenUsage } | undefined {
  if (body.type !== 'message' || !Array.isArray(body.content)) return undefined;
  const parts = answerParts(body.content, answerTool);
  const usage = usageFromCounts(answerCounts(body.usage, askedGeo));
  if (!parts || !usage) return undefined;
  // Beside a server tool's blocks the thinking stands in its places in the content, as
  // Anthropic wrote it (it checks the order when the turn comes back), not apart.
  const ordered = parts.answersOrdered && answerTool === undefined;
  const completion = chatCompletion({
    id: isNonEmptyString(body.id) ? body.id : 'msg',
    model: isNonEmptyString(body.model) ? body.model : fallbackModel,
    text: parts.text,
    toolCalls: parts.toolCalls,
    finishReason: anthropicFinishReason(body.stop_reason, parts.toolCalls.length > 0),
    stoppedAt: anthropicStoppedAt(body.stop_reason, body.stop_sequence),
    usage,
    reasoning: {
      text: parts.reasoning.text,
      blocks: ordered ? [] : replayableThinking(parts.reasoning.blocks),
    },
  });
  // The tier it was served at, as OpenAI answers it (service_tier beside usage).
  const tier = isJsonObject(body.usage)
    ? servedTierOfAnthropic(body.usage.service_tier)
    : undefined;
  if (tier !== undefined) completion.service_tier = tier;
  // And on the usage, which the price's serviceTierFactors bill by.
  const served = withServedTier(usage, tier);
  // What context editing cleared, for a Messages client (others never ask for it).
  const edits = appliedContextEdits(body.context_management);
  if (edits) completion.context_management = edits;
  // The searches (or fetches, code runs), the cited texts and the thinking, in order, as
  // Anthropic wrote them.
  if (ordered) {
    const [choice] = completion.choices as JsonObject[];
    (choice.message as JsonObject).content = parts.ordered;
  }
  return { completion, usage: served };
}
