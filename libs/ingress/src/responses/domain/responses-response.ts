import {
  type DataPlaneError,
  DataPlaneErrorCode,
  reasoningTextOf,
  type JsonObject,
  type ThinkingBlock,
  type TokenUsage,
} from '@aigw/contracts/data-plane';
import { encodeReasoning, thinkingBlocksOf } from './encrypted-reasoning';
import { blocksToKeep } from './reasoning-text-back';
import { firstChoice } from '../../domain/canonical-answer';
import type { ResponsesRequestFacts } from './responses-request';
import { contentText } from '../../domain/content-text';
import { refusalText } from '../../domain/refusal-text';

// OpenAI chat answers (the canonical format every backend's answer arrives in) as
// Responses API Response objects.

export type ResponseStatus = 'in_progress' | 'completed' | 'incomplete' | 'failed';
export type ItemStatus = 'in_progress' | 'completed' | 'incomplete';

export interface OutputText {
  readonly type: 'output_text';
  readonly text: string;
  readonly annotations: readonly never[];
}

/** A model's refusal (OpenAI's structured outputs), where its answer text would be. */
export interface RefusalContent {
  readonly type: 'refusal';
  readonly refusal: string;
}

export type MessageContent = OutputText | RefusalContent;

export interface SummaryText {
  readonly type: 'summary_text';
  readonly text: string;
}

/** Reasoning as the model wrote it, not a summary of it (OpenAI's raw reasoning part). */
export interface ReasoningText {
  readonly type: 'reasoning_text';
  readonly text: string;
}

export interface ReasoningItem {
  readonly type: 'reasoning';
  readonly id: string;
  readonly summary: readonly SummaryText[];
  /** The reasoning text, for a backend that wants it back (see reasoning-text-back). */
  readonly content?: readonly ReasoningText[];
  /** The thinking blocks to send back, when the request's `include` asked for them. */
  readonly encrypted_content?: string;
}

export type OutputItem =
  | ReasoningItem
  | {
      readonly type: 'message';
      readonly id: string;
      readonly role: 'assistant';
      readonly status: ItemStatus;
      readonly content: readonly MessageContent[];
    }
  | {
      readonly type: 'function_call';
      readonly id: string;
      readonly call_id: string;
      readonly name: string;
      readonly arguments: string;
      readonly status: ItemStatus;
    }
  | {
      /** A call of a custom tool: its free-form input, where a function has arguments. */
      readonly type: 'custom_tool_call';
      readonly id: string;
      readonly call_id: string;
      readonly name: string;
      readonly input: string;
      readonly status: ItemStatus;
    };

export interface ResponseUsage {
  readonly input_tokens: number;
  readonly input_tokens_details: { readonly cached_tokens: number };
  readonly output_tokens: number;
  readonly output_tokens_details: { readonly reasoning_tokens: number };
  readonly total_tokens: number;
}

export interface ResponseError {
  readonly code: 'server_error' | 'rate_limit_exceeded';
  readonly message: string;
}

export interface IncompleteDetails {
  readonly reason: 'max_output_tokens' | 'content_filter';
}

/** A Response object: OpenAI's fields, the request's own settings echoed as its SDK expects. */
export interface ResponseObject {
  readonly id: string;
  readonly object: 'response';
  readonly created_at: number;
  readonly status: ResponseStatus;
  readonly error: ResponseError | null;
  readonly incomplete_details: IncompleteDetails | null;
  readonly instructions: string | null;
  readonly max_output_tokens: number | null;
  readonly model: string;
  readonly output: readonly OutputItem[];
  readonly parallel_tool_calls: boolean;
  readonly previous_response_id: string | null;
  readonly reasoning: ResponsesRequestFacts['reasoning'];
  /** Whether the gateway keeps it (retrievable, and chainable by `previous_response_id`). */
  readonly store: boolean;
  readonly temperature: number | null;
  readonly text: JsonObject;
  readonly tool_choice: unknown;
  readonly tools: readonly JsonObject[];
  readonly top_p: number | null;
  readonly truncation: 'disabled';
  readonly usage: ResponseUsage | null;
  readonly user: string | null;
  readonly metadata: JsonObject;
  /** The tier the backend served it at (`default`, `flex`, `priority`...), when it said. */
  readonly service_tier?: string;
  /** The conversation its input and output were appended to (only when it names one). */
  readonly conversation?: { readonly id: string };
}

/** Who is answered, and when: what every Response object of one request shares. */
export interface ResponseContext {
  readonly facts: ResponsesRequestFacts;
  /** The model the client asked for: the name it must see. */
  readonly model: string;
  readonly requestId: string;
  /** Unix seconds. */
  readonly createdAt: number;
  /** The Response's id (random, see storedResponseId); made of the request id when absent. */
  readonly responseId?: string;
  /** The gateway stores the finished Response (default: it does not). */
  readonly store?: boolean;
  readonly previousResponseId?: string | null;
  /** The conversation the request continues, whose items its input and output join. */
  readonly conversationId?: string;
  /**
   * The backend that answered wants its reasoning text back on a tool-call turn
   * (DeepSeek): reasoning items carry the text (see reasoning-text-back).
   */
  readonly reasoningTextBack?: boolean;
}

/**
 * Reasoning blocks are kept when shown (`include`), or kept for a later turn (a stored
 * response, or a conversation's items), which sends them back to the backend.
 */
export function keepsReasoningBlocks(context: ResponseContext): boolean {
  return (
    context.facts.encryptedReasoning ||
    context.store === true ||
    context.conversationId !== undefined
  );
}

/** Ids made of the request id, so a stream's items keep theirs from first event to last. */
export function responseId(requestId: string): string {
  return `resp_${compactId(requestId)}`;
}

/**
 * What a Response's item ids are made of: its own id's characters, random, so no two
 * Responses share an item id (a client may send one x-request-id for a whole session,
 * `input_items` pages by item id, and a stateless client sends every item back). The
 * same from a stream's first event to its last.
 */
export function itemIdStem(context: ResponseContext): string {
  return compactId((context.responseId ?? responseId(context.requestId)).replace(/^resp_/, ''));
}

/** An output item's id: `msg_…`, `fc_…`, `ctc_…` or `rs_…`, unique by its place in the output. */
export function outputItemId(
  prefix: 'msg' | 'fc' | 'ctc' | 'rs',
  stem: string,
  index: number,
): string {
  return `${prefix}_${stem}_${index}`;
}

function compactId(requestId: string): string {
  return requestId.replace(/[^a-zA-Z0-9]/g, '');
}

/** The Response object in a given state; `fields` fills in what the state knows. */
export function responseObject(
  context: ResponseContext,
  status: ResponseStatus,
  fields: {
    output?: readonly OutputItem[];
    usage?: ResponseUsage | null;
    error?: ResponseError | null;
    incompleteDetails?: IncompleteDetails | null;
    serviceTier?: string;
  } = {},
): ResponseObject {
  const { facts } = context;
  return {
    id: context.responseId ?? responseId(context.requestId),
    object: 'response',
    created_at: context.createdAt,
    status,
    error: fields.error ?? null,
    incomplete_details: fields.incompleteDetails ?? null,
    instructions: facts.instructions,
    max_output_tokens: facts.maxOutputTokens,
    model: context.model,
    output: fields.output ?? [],
    parallel_tool_calls: facts.parallelToolCalls,
    previous_response_id: context.previousResponseId ?? null,
    reasoning: facts.reasoning,
    store: context.store === true,
    temperature: facts.temperature,
    text: facts.text,
    tool_choice: facts.toolChoice,
    tools: facts.tools,
    top_p: facts.topP,
    truncation: 'disabled',
    usage: fields.usage ?? null,
    user: facts.user,
    metadata: facts.metadata,
    ...(fields.serviceTier !== undefined && { service_tier: fields.serviceTier }),
    ...(context.conversationId !== undefined && { conversation: { id: context.conversationId } }),
  };
}

/**
 * Our usage in the Responses API's terms. Both count cached tokens inside the input, as
 * OpenAI's `prompt_tokens` does; reasoning tokens are known when the backend reported
 * them (OpenAI's `completion_tokens_details`).
 */
export function responseUsage(usage: TokenUsage, reasoningTokens = 0): ResponseUsage {
  return {
    input_tokens: usage.inputTokens,
    input_tokens_details: { cached_tokens: usage.cachedInputTokens },
    output_tokens: usage.outputTokens,
    output_tokens_details: { reasoning_tokens: Math.min(reasoningTokens, usage.outputTokens) },
    total_tokens: usage.inputTokens + usage.outputTokens,
  };
}

/** The `service_tier` a chat answer or chunk names (the tier it was served at), if any. */
export function servedTierOf(answer: JsonObject): string | undefined {
  return typeof answer.service_tier === 'string' ? answer.service_tier : undefined;
}

/** `completion_tokens_details.reasoning_tokens` of a canonical usage block, else 0. */
export function reasoningTokensOf(usage: unknown): number {
  const details = (usage as JsonObject | null | undefined)?.completion_tokens_details;
  const tokens = (details as JsonObject | null | undefined)?.reasoning_tokens;
  return typeof tokens === 'number' && Number.isFinite(tokens) && tokens > 0 ? tokens : 0;
}

/** Why an answer stopped short, from chat's finish_reason; null when it finished. */
export function incompleteDetails(finishReason: unknown): IncompleteDetails | null {
  switch (finishReason) {
    case 'length':
      return { reason: 'max_output_tokens' };
    case 'content_filter':
      return { reason: 'content_filter' };
    default:
      return null;
  }
}

/** The `error` of a Response that failed: OpenAI names few codes, a rate limit one of them. */
export function responseError(error: DataPlaneError): ResponseError {
  const code =
    error.code === DataPlaneErrorCode.UpstreamRateLimited ? 'rate_limit_exceeded' : 'server_error';
  return { code, message: error.message };
}

/**
 * A reasoning item: its text as the summary, the text again as `content` when the backend
 * wants it back (`textBack`), and the blocks (only given when the client asked for them)
 * as `encrypted_content`.
 */
export function reasoningItem(
  id: string,
  text: string,
  blocks: readonly ThinkingBlock[],
  textBack = false,
): ReasoningItem {
  const summary: SummaryText[] = text === '' ? [] : [{ type: 'summary_text', text }];
  const content: ReasoningText[] | undefined =
    textBack && text !== '' ? [{ type: 'reasoning_text', text }] : undefined;
  return {
    type: 'reasoning',
    id,
    summary,
    ...(content && { content }),
    ...(blocks.length > 0 && { encrypted_content: encodeReasoning(blocks) }),
  };
}

export function outputText(text: string): OutputText {
  return { type: 'output_text', text, annotations: [] };
}

export function refusalContent(refusal: string): RefusalContent {
  return { type: 'refusal', refusal };
}

/** A tool call's arguments as the JSON text Responses carries. */
function argumentsText(value: unknown): string {
  if (typeof value === 'string') return value;
  return value === undefined || value === null ? '' : JSON.stringify(value);
}

/** A complete OpenAI chat.completion as a Response object. */
export function toResponse(
  completion: JsonObject,
  usage: TokenUsage,
  context: ResponseContext,
): ResponseObject {
  const choice = firstChoice(completion);
  const message = (choice.message ?? {}) as JsonObject;
  const incomplete = incompleteDetails(choice.finish_reason);
  const stem = itemIdStem(context);
  const output: OutputItem[] = [];
  const reasoning = reasoningTextOf(message) ?? '';
  // A stored Response keeps the blocks for the turn that continues it, shown or not.
  const keepBlocks = keepsReasoningBlocks(context);
  const textBack = context.reasoningTextBack === true;
  const blocks = keepBlocks
    ? blocksToKeep(thinkingBlocksOf(message.thinking_blocks), reasoning, textBack)
    : [];
  if (reasoning !== '' || blocks.length > 0) {
    output.push(reasoningItem(outputItemId('rs', stem, 0), reasoning, blocks, textBack));
  }
  const text = contentText(message.content);
  const refusal = refusalText(message);
  const toolCalls = Array.isArray(message.tool_calls) ? (message.tool_calls as JsonObject[]) : [];
  // An answer cut short was cut in its last item (as a stream closes each item as the next
  // begins): a call's arguments after the text, else the text.
  const lastStatus: ItemStatus = incomplete ? 'incomplete' : 'completed';
  // A turn of tool calls alone has no message; any other answer has one, empty or not.
  if (text.length > 0 || refusal.length > 0 || toolCalls.length === 0) {
    // A refusal is its own part (what the client checks for), text the other's.
    const content: MessageContent[] =
      text.length > 0 || refusal.length === 0 ? [outputText(text)] : [];
    if (refusal.length > 0) content.push(refusalContent(refusal));
    output.push({
      type: 'message',
      id: outputItemId('msg', stem, output.length),
      role: 'assistant',
      status: toolCalls.length === 0 ? lastStatus : 'completed',
      content,
    });
  }
  for (const [at, call] of toolCalls.entries()) {
    const index = output.length;
    const callId = typeof call.id === 'string' && call.id ? call.id : fallbackCallId(stem, index);
    const status = at === toolCalls.length - 1 ? lastStatus : 'completed';
    output.push(toolCallItem(call, callId, stem, index, status));
  }
  return responseObject(context, incomplete ? 'incomplete' : 'completed', {
    output,
    usage: responseUsage(usage, reasoningTokensOf(completion.usage)),
    incompleteDetails: incomplete,
    serviceTier: servedTierOf(completion),
  });
}

/** Whether a chat tool call (or the first fragment of one) calls a custom tool. */
export function isCustomToolCall(call: JsonObject): boolean {
  return call.type === 'custom' || (call.type === undefined && typeof call.custom === 'object');
}

/** A chat tool call as its output item: a function_call, or a custom tool's call. */
function toolCallItem(
  call: JsonObject,
  callId: string,
  stem: string,
  index: number,
  status: ItemStatus,
): OutputItem {
  if (isCustomToolCall(call)) {
    const custom = (call.custom ?? {}) as JsonObject;
    return {
      type: 'custom_tool_call',
      id: outputItemId('ctc', stem, index),
      call_id: callId,
      name: typeof custom.name === 'string' ? custom.name : '',
      input: typeof custom.input === 'string' ? custom.input : '',
      status,
    };
  }
  const fn = (call.function ?? {}) as JsonObject;
  return {
    type: 'function_call',
    id: outputItemId('fc', stem, index),
    call_id: callId,
    name: typeof fn.name === 'string' ? fn.name : '',
    arguments: argumentsText(fn.arguments),
    status,
  };
}

/** The id of a call the backend left unnamed, for stream and JSON answers alike. */
export function fallbackCallId(stem: string, index: number): string {
  return `call_${stem}_${index}`;
}

/**
 * The reasoning items without their thinking blocks: what a client that did not ask sees
 * (a reasoning text it must send back stays).
 */
export function withoutReasoningBlocks(output: readonly OutputItem[]): OutputItem[] {
  return output.map((item) => {
    if (item.type !== 'reasoning' || item.encrypted_content === undefined) return item;
    const { encrypted_content: _blocks, ...shown } = item;
    return shown;
  });
}
