import type {
  AnthropicContentBlock,
  AnthropicContextManagement,
  AnthropicMessagesResponse,
  AnthropicStopReason,
  AnthropicUsage,
} from '@aigw/contracts';
import {
  DataPlaneError,
  DataPlaneErrorCode,
  isServerToolBlockType,
  normalizedThinkingBlock,
  reasoningTextOf,
  type JsonObject,
  type ThinkingBlock,
  type TokenUsage,
} from '@aigw/contracts/data-plane';
import { firstChoice } from '../../domain/canonical-answer';
import type { MessagesRequestFacts } from './anthropic-request';
import { contentText } from '../../domain/content-text';
import { refusalText } from '../../domain/refusal-text';

// OpenAI chat answers (the canonical format every backend's answer arrives in) as
// Anthropic Messages answers.

/**
 * Our usage in Anthropic's terms: Anthropic's `input_tokens` leaves out prompt-cache
 * reads and writes, which OpenAI's `prompt_tokens` (our `inputTokens`) includes. The
 * writes are split by lifetime in `cache_creation`: our 1-hour count is a part of all the
 * writes, the rest were written for 5 minutes.
 */
export function anthropicUsageOf(usage: TokenUsage): AnthropicUsage {
  const read = usage.cachedInputTokens;
  const written = usage.cacheWriteInputTokens ?? 0;
  const forAnHour = Math.min(usage.cacheWrite1hInputTokens ?? 0, written);
  const runs = usage.serverToolRequests;
  return {
    input_tokens: Math.max(0, usage.inputTokens - read - written),
    output_tokens: usage.outputTokens,
    cache_creation_input_tokens: written,
    cache_read_input_tokens: read,
    cache_creation: {
      ephemeral_5m_input_tokens: written - forAnHour,
      ephemeral_1h_input_tokens: forAnHour,
    },
    // Web searches are billed per request: the client's cost tracking reads this.
    ...(runs
      ? {
          server_tool_use: {
            web_search_requests: runs.web_search ?? 0,
            ...(runs.web_fetch === undefined ? {} : { web_fetch_requests: runs.web_fetch }),
          },
        }
      : {}),
    // Where it ran (data residency), as Anthropic answered it.
    ...(usage.inferenceGeo === undefined ? {} : { inference_geo: usage.inferenceGeo }),
  };
}

/**
 * What context editing cleared, as an Anthropic backend answered it (the canonical answer's,
 * or its finish chunk's, `context_management`); none from any other backend.
 */
export function contextManagementOf(carrier: JsonObject): {
  context_management?: AnthropicContextManagement;
} {
  const value = carrier.context_management;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return {};
  const edits = (value as JsonObject).applied_edits;
  if (!Array.isArray(edits)) return {};
  return { context_management: { applied_edits: edits as Record<string, unknown>[] } };
}

export interface AnthropicStop {
  readonly stop_reason: AnthropicStopReason;
  readonly stop_sequence: string | null;
}

/**
 * OpenAI's finish_reason as Anthropic's stop_reason. OpenAI says `stop` both for a natural
 * end and for a stop sequence; a backend that names the sequence it hit (vLLM's
 * `stop_reason`) lets us tell them apart. A turn that called tools ends in `tool_use`
 * unless cut, refused or stopped at a named sequence: OpenAI says `stop` for a call the
 * request named in tool_choice, as some OpenAI-compatible servers do for every call, and
 * Anthropic's clients run the tools on `tool_use`.
 */
export function anthropicStop(
  finishReason: unknown,
  matchedStop: unknown,
  facts: MessagesRequestFacts,
  refused = false,
  calledTools = false,
): AnthropicStop {
  // A model's refusal ends its turn with "stop" in OpenAI's terms; Anthropic names it.
  if (refused) return { stop_reason: 'refusal', stop_sequence: null };
  switch (finishReason) {
    case 'length':
      // An Anthropic backend's newer models say the context window ran out, not max_tokens.
      return matchedStop === 'model_context_window_exceeded'
        ? { stop_reason: 'model_context_window_exceeded', stop_sequence: null }
        : { stop_reason: 'max_tokens', stop_sequence: null };
    case 'tool_calls':
    case 'function_call':
      // Only with a call to run: some servers say tool_calls for an answer without one
      // (vLLM under tool_choice "required", lmdeploy whenever tools are on), and a client
      // loop that runs the tools on tool_use would find none and send back no results.
      if (calledTools) return { stop_reason: 'tool_use', stop_sequence: null };
      return { stop_reason: 'end_turn', stop_sequence: null };
    case 'content_filter':
      return { stop_reason: 'refusal', stop_sequence: null };
    default:
      // A server tool's long turn paused: the client sends the answer back to go on.
      if (matchedStop === 'pause_turn') return { stop_reason: 'pause_turn', stop_sequence: null };
      if (typeof matchedStop === 'string' && facts.stopSequences.includes(matchedStop)) {
        return { stop_reason: 'stop_sequence', stop_sequence: matchedStop };
      }
      if (calledTools) return { stop_reason: 'tool_use', stop_sequence: null };
      return { stop_reason: 'end_turn', stop_sequence: null };
  }
}

/** Anthropic message ids start with `msg_`; we keep the backend's id behind the prefix. */
export function messageId(openAiId: unknown, fallback: string): string {
  const id = typeof openAiId === 'string' && openAiId.length > 0 ? openAiId : fallback;
  return id.startsWith('msg_') ? id : `msg_${id}`;
}

/** Tool arguments as the object Anthropic's `input` must be. */
export function toolInput(argumentsJson: unknown, toolName: string): Record<string, unknown> {
  if (argumentsJson === undefined || argumentsJson === null || argumentsJson === '') return {};
  if (typeof argumentsJson === 'object' && !Array.isArray(argumentsJson)) {
    return argumentsJson as Record<string, unknown>;
  }
  if (typeof argumentsJson === 'string') {
    try {
      const parsed: unknown = JSON.parse(argumentsJson);
      if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) {
        return parsed as Record<string, unknown>;
      }
    } catch {
      // reported below
    }
  }
  throw new DataPlaneError(
    DataPlaneErrorCode.UpstreamBadResponse,
    `The backend called tool '${toolName}' with arguments that are not a JSON object`,
  );
}

/** Stop reasons of an answer the token limit cut off, mid-call perhaps. */
const CUT_OFF: ReadonlySet<AnthropicStopReason> = new Set([
  'max_tokens',
  'model_context_window_exceeded',
]);

/**
 * The input of a call in an answer the token limit cut off: its arguments may end
 * mid-JSON, which is the answer's stop_reason to tell (Anthropic's and a stream's way),
 * not a backend fault: a 502 would have the SDK retry, billed and cut the same way.
 */
function cutToolInput(argumentsJson: unknown, toolName: string): Record<string, unknown> {
  try {
    return toolInput(argumentsJson, toolName);
  } catch {
    return {};
  }
}

/** The canonical `thinking_blocks` of a message or delta, well-formed entries only. */
export function thinkingBlocksOf(value: unknown): ThinkingBlock[] {
  if (!Array.isArray(value)) return [];
  return value.flatMap((entry: unknown) => normalizedThinkingBlock(entry) ?? []);
}

/**
 * The answer's reasoning as Anthropic blocks: the signed or redacted blocks as they came,
 * else its reasoning text as one unsigned block (a backend that reasons without signing,
 * such as Gemini or DeepSeek), else none.
 */
function reasoningBlocks(message: JsonObject): AnthropicContentBlock[] {
  const blocks = thinkingBlocksOf(message.thinking_blocks);
  if (blocks.length > 0) return blocks.map((block) => ({ ...block }));
  const text = reasoningTextOf(message);
  return text === undefined ? [] : [{ type: 'thinking', thinking: text, signature: '' }];
}

/** A complete OpenAI chat.completion as an Anthropic message. */
export function toAnthropicMessage(
  completion: JsonObject,
  usage: TokenUsage,
  facts: MessagesRequestFacts,
  requestId: string,
): AnthropicMessagesResponse {
  const choice = firstChoice(completion);
  const message = (choice.message ?? {}) as JsonObject;
  // A refusal is the text the client shows (Anthropic has no refusal block), after any
  // text, as a stream sends both in one text block; stop_reason says it refused.
  const refusal = refusalText(message);
  const ordered = serverToolContent(message.content);
  // Content in Anthropic's order carries its thinking in its places; otherwise it goes first.
  const content: AnthropicContentBlock[] = ordered?.some(isThinking)
    ? []
    : reasoningBlocks(message);
  if (ordered) {
    content.push(...ordered);
    if (refusal !== '') content.push({ type: 'text', text: refusal });
  } else {
    const text = contentText(message.content) + refusal;
    if (text.length > 0) content.push({ type: 'text', text });
  }
  const toolCalls = Array.isArray(message.tool_calls) ? (message.tool_calls as JsonObject[]) : [];
  const stop = anthropicStop(
    choice.finish_reason,
    choice.stop_reason,
    facts,
    refusal !== '',
    toolCalls.length > 0,
  );
  const cut = CUT_OFF.has(stop.stop_reason);
  toolCalls.forEach((call, index) => {
    const fn = (call.function ?? {}) as JsonObject;
    const name = typeof fn.name === 'string' ? fn.name : '';
    content.push({
      type: 'tool_use',
      id: typeof call.id === 'string' && call.id ? call.id : `toolu_${requestId}_${index}`,
      name,
      input: cut ? cutToolInput(fn.arguments, name) : toolInput(fn.arguments, name),
    });
  });
  // Clients commonly read content[0].text: an empty answer still has its text block.
  if (content.length === 0) content.push({ type: 'text', text: '' });
  return {
    id: messageId(completion.id, requestId),
    type: 'message',
    role: 'assistant',
    content,
    model: facts.model,
    stop_reason: stop.stop_reason,
    stop_sequence: stop.stop_sequence,
    usage: { ...anthropicUsageOf(usage), ...servedTier(completion.service_tier) },
    ...contextManagementOf(completion),
  };
}

function isThinking(block: AnthropicContentBlock): boolean {
  return block.type === 'thinking' || block.type === 'redacted_thinking';
}

/**
 * An answer's content that ran a server tool (its call and result blocks, texts with
 * citations and the thinking among them: @aigw/contracts anthropic-server-tools), as
 * Anthropic wrote it, in order; undefined for any other content, whose text is joined as
 * one block.
 */
function serverToolContent(content: unknown): AnthropicContentBlock[] | undefined {
  if (!Array.isArray(content)) return undefined;
  const parts = content.filter(
    (part: unknown): part is JsonObject =>
      typeof part === 'object' && part !== null && !Array.isArray(part),
  );
  const ran = parts.some(
    (part) => isServerToolBlockType(part.type) || (part.type === 'text' && part.citations),
  );
  if (!ran) return undefined;
  return parts.flatMap((part): AnthropicContentBlock[] => {
    if (isServerToolBlockType(part.type)) return [{ ...part } as AnthropicContentBlock];
    if (part.type === 'thinking' || part.type === 'redacted_thinking') {
      const block = normalizedThinkingBlock(part);
      return block ? [{ ...block }] : [];
    }
    if (part.type !== 'text' || typeof part.text !== 'string') return [];
    const citations = Array.isArray(part.citations) ? { citations: part.citations } : {};
    return [{ type: 'text', text: part.text, ...citations }];
  });
}

/**
 * The tier the backend served at, in Anthropic's usage terms: OpenAI's `default` is its
 * `standard`; tiers Anthropic has no name for (flex, scale) are not named.
 */
export function servedTier(tier: unknown): { service_tier?: string } {
  if (tier === 'default') return { service_tier: 'standard' };
  if (tier === 'priority') return { service_tier: 'priority' };
  return {};
}
