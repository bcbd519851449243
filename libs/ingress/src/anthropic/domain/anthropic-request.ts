import { normalizedCacheControl } from '@aigw/contracts';
import {
  ANTHROPIC_SERVER_TOOLS_EXTRA,
  anthropicServerToolOf,
  DataPlaneError,
  DataPlaneErrorCode,
  isReasoningEffort,
  isServerToolBlockType,
  MIN_THINKING_BUDGET,
  normalizedThinking,
  type JsonObject,
  type ThinkingBlock,
  type ThinkingConfig,
} from '@aigw/contracts/data-plane';
import { refuseTooDeepBody } from '../../domain/body-depth';

// Anthropic Messages requests in the gateway's canonical format (OpenAI chat completions),
// so `/v1/messages` works against every backend. Validation names the field at fault in
// Anthropic's own style ("max_tokens: Field required").

/** What the response side needs to know about the request it answers. */
export interface MessagesRequestFacts {
  readonly model: string;
  readonly stream: boolean;
  /** The stop sequences asked for: a backend that names the one it hit gets `stop_sequence`. */
  readonly stopSequences: readonly string[];
}

export interface TranslatedMessagesRequest {
  readonly chat: JsonObject;
  readonly facts: MessagesRequestFacts;
}

function invalid(field: string, problem: string): DataPlaneError {
  return new DataPlaneError(DataPlaneErrorCode.InvalidRequest, `${field}: ${problem}`, {
    param: field,
  });
}

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function optionalNumber(body: JsonObject, field: string): number | undefined {
  const value = body[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw invalid(field, 'Input should be a valid number');
  }
  return value;
}

function requiredString(value: unknown, field: string): string {
  if (value === undefined || value === null) throw invalid(field, 'Field required');
  if (typeof value !== 'string') throw invalid(field, 'Input should be a valid string');
  return value;
}

type ChatPart = JsonObject;

/**
 * A block's prompt-caching breakpoint, checked, for the canonical part it becomes (the
 * gateway's OpenAI-format requests carry Anthropic's `cache_control` as an extension; an
 * Anthropic backend gets it back where it was, the OpenAI family never sees it).
 */
function cacheMark(block: JsonObject, at: string): JsonObject {
  if (block.cache_control === undefined || block.cache_control === null) return {};
  const mark = normalizedCacheControl(block.cache_control);
  if (!mark) {
    throw invalid(
      `${at}.cache_control`,
      "Input should be {'type': 'ephemeral'}, with an optional 'ttl' of '5m' or '1h'",
    );
  }
  return { cache_control: { ...mark } };
}

/**
 * Validates an Anthropic Messages body and translates it into an OpenAI chat body.
 * Throws a DataPlaneError (400) naming the first field at fault.
 */
export function translateMessagesRequest(
  body: unknown,
  options: {
    readonly requireMaxTokens?: boolean;
    /**
     * The client asked for interleaved thinking (its `anthropic-beta`): the budget then
     * spans every thinking block of the turn and may exceed max_tokens, as Anthropic allows.
     */
    readonly interleavedThinking?: boolean;
  } = {},
): TranslatedMessagesRequest {
  if (!isObject(body)) {
    throw new DataPlaneError(
      DataPlaneErrorCode.InvalidRequest,
      'The request body must be a JSON object',
    );
  }
  // Before the translation, which writes each tool_use input out as JSON.
  refuseTooDeepBody(body);
  const model = requiredString(body.model, 'model');
  if (model.length === 0) throw invalid('model', 'String should have at least 1 character');

  // Required by Anthropic (unlike OpenAI); token counting is the one place it is not.
  const maxTokens = body.max_tokens;
  const absent = maxTokens === undefined || maxTokens === null;
  if (absent && options.requireMaxTokens !== false) throw invalid('max_tokens', 'Field required');
  if (!absent && (typeof maxTokens !== 'number' || !Number.isInteger(maxTokens) || maxTokens < 1)) {
    throw invalid('max_tokens', 'Input should be an integer of at least 1');
  }

  if (body.stream !== undefined && typeof body.stream !== 'boolean') {
    throw invalid('stream', 'Input should be a valid boolean');
  }
  const stream = body.stream === true;

  const messages: JsonObject[] = [...systemMessages(body.system)];
  if (body.messages === undefined) throw invalid('messages', 'Field required');
  if (!Array.isArray(body.messages)) throw invalid('messages', 'Input should be a valid list');
  if (body.messages.length === 0) throw invalid('messages', 'at least one message is required');
  body.messages.forEach((message: unknown, index) => {
    messages.push(...translateMessage(message, `messages.${index}`));
  });

  const thinking = thinkingConfig(body.thinking);
  // Anthropic counts the thinking budget inside max_tokens, so an answer needs room past it.
  if (
    thinking?.type === 'enabled' &&
    !absent &&
    options.interleavedThinking !== true &&
    maxTokens <= thinking.budget_tokens
  ) {
    throw invalid(
      'max_tokens',
      `must be greater than thinking.budget_tokens (${thinking.budget_tokens})`,
    );
  }

  const chat: JsonObject = { model, messages };
  if (!absent) chat.max_tokens = maxTokens;
  if (thinking) chat.thinking = { ...thinking };
  // Claude 4.6 and later take their effort apart from thinking. The canonical request
  // carries it in Anthropic's shape, which translating adapters map and the OpenAI family
  // never sees (a model without reasoning there refuses reasoning_effort).
  const effort = outputEffort(body.output_config);
  const format = outputFormat(body);
  if (format) chat.response_format = format.responseFormat;
  // The client's own format rides beside it, for a Claude that answers in it natively
  // (with thinking and tools, which the answer tool other Claudes use cannot have).
  const taskBudget = outputTaskBudget(body.output_config);
  const outputConfig: JsonObject = {
    ...(effort === undefined ? {} : { effort }),
    ...(format ? { format: format.native } : {}),
    ...(taskBudget ? { task_budget: taskBudget } : {}),
  };
  if (Object.keys(outputConfig).length > 0) chat.output_config = outputConfig;
  refuseUnservedFields(body);
  if (stream) chat.stream = true;

  const stopSequences = stopSequencesOf(body.stop_sequences);
  if (stopSequences.length > 0) chat.stop = stopSequences;
  const temperature = optionalNumber(body, 'temperature');
  if (temperature !== undefined) chat.temperature = temperature;
  const topP = optionalNumber(body, 'top_p');
  if (topP !== undefined) chat.top_p = topP;
  // top_k has no OpenAI counterpart: it rides in the gateway's provider_extras, which Claude
  // and Gemini backends apply and OpenAI-format backends never get.
  const topK = optionalNumber(body, 'top_k');
  if (topK !== undefined) {
    if (!Number.isInteger(topK)) throw invalid('top_k', 'Input should be a valid integer');
    if (topK < 0) throw invalid('top_k', 'Input should be greater than or equal to 0');
    withProviderExtra(chat, 'top_k', topK);
  }

  if (body.metadata !== undefined && body.metadata !== null) {
    if (!isObject(body.metadata)) throw invalid('metadata', 'Input should be a valid dictionary');
    const userId = body.metadata.user_id;
    if (userId !== undefined && userId !== null) {
      chat.user = requiredString(userId, 'metadata.user_id');
    }
  }

  // Where Claude may run (data residency): only Anthropic's own API takes it, and every
  // other backend refuses it by name (providers' provider-extras), never dropped.
  const geo = body.inference_geo;
  if (geo !== undefined && geo !== null) {
    const inferenceGeo = requiredString(geo, 'inference_geo');
    if (inferenceGeo.length === 0) {
      throw invalid('inference_geo', 'String should have at least 1 character');
    }
    withProviderExtra(chat, 'inference_geo', inferenceGeo);
  }

  // Context editing, for Anthropic to apply (it checks the edits); other backends have none.
  const contextManagement = body.context_management;
  if (contextManagement !== undefined && contextManagement !== null) {
    if (!isObject(contextManagement)) {
      throw invalid('context_management', 'Input should be a valid dictionary');
    }
    withProviderExtra(chat, 'context_management', contextManagement);
  }

  const serviceTier = chatServiceTier(body.service_tier);
  if (serviceTier !== undefined) chat.service_tier = serviceTier;

  const { tools, serverTools } = translateTools(body.tools);
  if (tools.length > 0) chat.tools = tools;
  // Anthropic runs these itself: they ride as they came, for the backends that reach it
  // (@aigw/contracts anthropic-server-tools), as Gemini's built-in tools do.
  if (serverTools.length > 0) {
    withProviderExtra(chat, ANTHROPIC_SERVER_TOOLS_EXTRA, serverTools);
  }
  applyToolChoice(chat, body.tool_choice, tools.length > 0 || serverTools.length > 0, serverTools);

  return { chat, facts: { model, stream, stopSequences } };
}

/**
 * Adds `key` to the gateway's `provider_extras` (see the providers' provider-extras): what
 * OpenAI's shape has no place for, applied by the backends that take it.
 */
function withProviderExtra(chat: JsonObject, key: string, value: unknown): void {
  chat.provider_extras = { ...(chat.provider_extras ?? {}), [key]: value };
}

function systemMessages(system: unknown): JsonObject[] {
  if (system === undefined || system === null) return [];
  if (typeof system === 'string') {
    return system.length > 0 ? [{ role: 'system', content: system }] : [];
  }
  if (!Array.isArray(system)) {
    throw invalid('system', 'Input should be a valid string or a list of text blocks');
  }
  const parts = system.map((block: unknown, index): ChatPart => {
    if (!isObject(block) || block.type !== 'text') {
      throw invalid(`system.${index}.type`, "Input should be 'text'");
    }
    const text = requiredString(block.text, `system.${index}.text`);
    return { type: 'text', text, ...cacheMark(block, `system.${index}`) };
  });
  if (parts.length === 0) return [];
  // Marked blocks stay blocks, so each breakpoint stays where the client put it.
  if (parts.some((part) => part.cache_control)) return [{ role: 'system', content: parts }];
  return [{ role: 'system', content: parts.map((part) => part.text).join('\n\n') }];
}

/**
 * The `thinking` parameter, checked with the gateway's own rule (the canonical request
 * carries it in Anthropic's shape); the error names the part at fault.
 */
function thinkingConfig(value: unknown): ThinkingConfig | undefined {
  if (value === undefined || value === null) return undefined;
  const thinking = normalizedThinking(value);
  if (thinking) return thinking;
  if (!isObject(value)) throw invalid('thinking', 'Input should be a valid dictionary');
  const display = value.display;
  if (
    display !== undefined &&
    display !== null &&
    display !== 'summarized' &&
    display !== 'omitted'
  ) {
    throw invalid('thinking.display', "Input should be 'summarized' or 'omitted'");
  }
  if (value.type !== 'enabled' && value.type !== 'disabled') {
    throw invalid('thinking.type', "Input should be 'enabled', 'adaptive' or 'disabled'");
  }
  if (value.budget_tokens === undefined || value.budget_tokens === null) {
    throw invalid('thinking.budget_tokens', 'Field required');
  }
  throw invalid(
    'thinking.budget_tokens',
    `Input should be an integer greater than or equal to ${MIN_THINKING_BUDGET}`,
  );
}

/**
 * `output_config.effort`, checked against the efforts the adapters map. Its `format` and
 * `task_budget` are read apart (`outputFormat`, `outputTaskBudget`).
 */
function outputEffort(value: unknown): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (!isObject(value)) throw invalid('output_config', 'Input should be a valid dictionary');
  const effort = value.effort;
  if (effort === undefined || effort === null) return undefined;
  if (!isReasoningEffort(effort) || effort === 'none' || effort === 'minimal') {
    throw invalid(
      'output_config.effort',
      "Input should be 'low', 'medium', 'high', 'xhigh' or 'max'",
    );
  }
  return effort;
}

/**
 * `output_config.task_budget` (an advisory token budget for a whole agentic loop, Claude
 * Opus 4.7 and later), as sent for Anthropic to check and apply; other backends have none.
 */
function outputTaskBudget(config: unknown): JsonObject | undefined {
  if (!isObject(config)) return undefined;
  const budget = config.task_budget;
  if (budget === undefined || budget === null) return undefined;
  if (!isObject(budget))
    throw invalid('output_config.task_budget', 'Input should be a valid dictionary');
  return budget;
}

/**
 * Structured outputs: `output_config.format` (or the beta's older `output_format`), a JSON
 * schema the answer must follow, as the canonical `response_format`, and as Anthropic's own
 * `output_config.format`. Each backend then answers in that schema its own way (OpenAI's
 * json_schema; Claude 4.5 and later natively, older ones through a forced tool).
 */
function outputFormat(
  body: JsonObject,
): { responseFormat: JsonObject; native: JsonObject } | undefined {
  const config = isObject(body.output_config) ? body.output_config : {};
  const [value, field] =
    config.format !== undefined && config.format !== null
      ? [config.format, 'output_config.format']
      : [body.output_format, 'output_format'];
  if (value === undefined || value === null) return undefined;
  if (!isObject(value)) throw invalid(field, 'Input should be a valid dictionary');
  if (value.type !== 'json_schema') throw invalid(`${field}.type`, "Input should be 'json_schema'");
  if (!isObject(value.schema))
    throw invalid(`${field}.schema`, 'Input should be a valid dictionary');
  return {
    responseFormat: {
      type: 'json_schema',
      json_schema: { name: 'output', schema: value.schema, strict: true },
    },
    native: { type: 'json_schema', schema: value.schema },
  };
}

/**
 * Fields whose work happens at Anthropic and whose answers (mcp_tool_use blocks, a code
 * container's files) the canonical format cannot carry: refused by name, never dropped,
 * which would answer as if the client had not asked.
 */
const UNSERVED_FIELDS = ['mcp_servers', 'container'] as const;

function refuseUnservedFields(body: JsonObject): void {
  for (const field of UNSERVED_FIELDS) {
    if (body[field] !== undefined && body[field] !== null) {
      throw invalid(field, 'is not available through this gateway');
    }
  }
}

function stopSequencesOf(value: unknown): string[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw invalid('stop_sequences', 'Input should be a valid list');
  return value.map((item: unknown, index) => requiredString(item, `stop_sequences.${index}`));
}

/** One Anthropic message: usually one OpenAI message; tool results become `tool` messages. */
function translateMessage(message: unknown, path: string): JsonObject[] {
  if (!isObject(message)) throw invalid(path, 'Input should be a valid dictionary');
  const role = message.role;
  if (role !== 'user' && role !== 'assistant') {
    throw invalid(`${path}.role`, "Input should be 'user' or 'assistant'");
  }
  const content = message.content;
  if (typeof content === 'string') return [{ role, content }];
  if (!Array.isArray(content)) {
    throw invalid(`${path}.content`, 'Input should be a valid string or a list of content blocks');
  }
  const blocks = content.map((block: unknown, index) => {
    if (!isObject(block) || typeof block.type !== 'string') {
      throw invalid(`${path}.content.${index}.type`, 'Field required');
    }
    return block;
  });
  return role === 'assistant'
    ? [assistantMessage(blocks, `${path}.content`)]
    : userMessages(blocks, `${path}.content`);
}

function assistantMessage(blocks: JsonObject[], path: string): JsonObject {
  const texts: JsonObject[] = [];
  const toolCalls: JsonObject[] = [];
  const thinking: ThinkingBlock[] = [];
  // Beside a server tool's blocks the thinking keeps its places among them in the content
  // (Anthropic refuses a turn whose thinking comes back moved); elsewhere it goes first.
  const placesThinking = blocks.some((block) => isServerToolBlockType(block.type));
  blocks.forEach((block, index) => {
    const at = `${path}.${index}`;
    switch (block.type) {
      case 'text':
        texts.push({
          type: 'text',
          text: requiredString(block.text, `${at}.text`),
          ...citationsOf(block, at),
          ...cacheMark(block, at),
        });
        break;
      case 'tool_use': {
        const input = block.input ?? {};
        if (!isObject(input)) throw invalid(`${at}.input`, 'Input should be a valid dictionary');
        toolCalls.push({
          id: requiredString(block.id, `${at}.id`),
          type: 'function',
          function: {
            name: requiredString(block.name, `${at}.name`),
            arguments: JSON.stringify(input),
          },
          // An agent marks its last turn, often a tool call, so the next call reads the
          // conversation from the cache: kept for Anthropic and Bedrock, dropped for OpenAI.
          ...cacheMark(block, at),
        });
        break;
      }
      case 'thinking':
      case 'redacted_thinking':
        if (placesThinking) texts.push({ ...thinkingBlock(block, at) });
        else thinking.push(thinkingBlock(block, at));
        break;
      default:
        // A server tool's call and result go back as they came, in their place among the
        // texts: Anthropic reads them (and their encrypted content) to continue the turn.
        if (isServerToolBlockType(block.type)) {
          texts.push({ ...block });
          break;
        }
        throw invalid(
          `${at}.type`,
          `'${String(block.type)}' blocks are not accepted in assistant messages by this gateway`,
        );
    }
  });
  const message: JsonObject = { role: 'assistant', content: assistantContent(texts, toolCalls) };
  if (toolCalls.length > 0) message.tool_calls = toolCalls;
  // Anthropic refuses a tool-using turn whose signed reasoning is not sent back as it came.
  if (thinking.length > 0) message.thinking_blocks = thinking;
  return message;
}

/**
 * An assistant turn's text: one string, or its parts as they came when one marks a
 * caching breakpoint (an agent marks its last turn so the next call reads the whole
 * conversation from the cache; joined, the mark would be lost).
 */
function assistantContent(
  texts: JsonObject[],
  toolCalls: JsonObject[],
): string | JsonObject[] | null {
  // Likewise a server tool's blocks and cited texts, whose order and citations are theirs.
  if (texts.some((part) => part.cache_control || part.type !== 'text' || part.citations)) {
    return texts;
  }
  if (texts.length > 0) return texts.map((part) => part.text as string).join('');
  return toolCalls.length > 0 ? null : '';
}

/** A text block's citations (a server tool's sources), kept for Anthropic to read back. */
function citationsOf(block: JsonObject, at: string): JsonObject {
  const citations = block.citations;
  if (citations === undefined || citations === null) return {};
  if (!Array.isArray(citations) || !citations.every(isObject)) {
    throw invalid(`${at}.citations`, 'Input should be a valid list of citations');
  }
  return citations.length > 0 ? { citations } : {};
}

/** A thinking or redacted_thinking block of an assistant turn, with the fields Anthropic requires. */
function thinkingBlock(block: JsonObject, at: string): ThinkingBlock {
  if (block.type === 'redacted_thinking') {
    const data = requiredString(block.data, `${at}.data`);
    if (data.length === 0) throw invalid(`${at}.data`, 'String should have at least 1 character');
    return { type: 'redacted_thinking', data };
  }
  return {
    type: 'thinking',
    thinking: requiredString(block.thinking, `${at}.thinking`),
    signature: requiredString(block.signature, `${at}.signature`),
  };
}

/**
 * A user turn: its tool results first (OpenAI wants `tool` messages right after the
 * assistant's tool calls), then the rest as one user message.
 */
function userMessages(blocks: JsonObject[], path: string): JsonObject[] {
  const toolMessages: JsonObject[] = [];
  const parts: ChatPart[] = [];
  blocks.forEach((block, index) => {
    const at = `${path}.${index}`;
    switch (block.type) {
      case 'text':
        parts.push({
          type: 'text',
          text: requiredString(block.text, `${at}.text`),
          ...cacheMark(block, at),
        });
        break;
      case 'image':
        parts.push({ ...imagePart(block, at), ...cacheMark(block, at) });
        break;
      case 'document':
        parts.push({ ...documentPart(block, at), ...cacheMark(block, at) });
        break;
      case 'tool_result': {
        const result = toolResult(block, at);
        toolMessages.push(result.message);
        // A tool message carries text only; images and documents it returned follow as
        // user content.
        parts.push(...result.attachments);
        break;
      }
      default:
        throw invalid(
          `${at}.type`,
          `'${String(block.type)}' blocks are not accepted in user messages by this gateway`,
        );
    }
  });
  if (parts.length === 0) return toolMessages;
  const only = parts.length === 1 ? parts[0] : undefined;
  // A lone text block travels as a plain string, which every OpenAI-compatible server
  // takes, unless it marks a caching breakpoint.
  const content = only?.type === 'text' && !only.cache_control ? only.text : parts;
  return [...toolMessages, { role: 'user', content }];
}

const IMAGE_TYPES = new Set(['image/jpeg', 'image/png', 'image/gif', 'image/webp']);

function imagePart(block: JsonObject, at: string): ChatPart {
  const source = block.source;
  if (!isObject(source)) throw invalid(`${at}.source`, 'Field required');
  switch (source.type) {
    case 'base64': {
      const mediaType = requiredString(source.media_type, `${at}.source.media_type`);
      if (!IMAGE_TYPES.has(mediaType)) {
        throw invalid(
          `${at}.source.media_type`,
          "Input should be 'image/jpeg', 'image/png', 'image/gif' or 'image/webp'",
        );
      }
      const data = requiredString(source.data, `${at}.source.data`);
      return { type: 'image_url', image_url: { url: `data:${mediaType};base64,${data}` } };
    }
    case 'url': {
      // As a document's: a backend that fetches it is never handed another scheme.
      const url = requiredString(source.url, `${at}.source.url`);
      if (!/^https?:\/\//i.test(url)) {
        throw invalid(`${at}.source.url`, 'Input should be an http(s) URL');
      }
      return { type: 'image_url', image_url: { url } };
    }
    default:
      throw invalid(`${at}.source.type`, "Input should be 'base64' or 'url'");
  }
}

function documentPart(block: JsonObject, at: string): ChatPart {
  const source = block.source;
  if (!isObject(source)) throw invalid(`${at}.source`, 'Field required');
  const cited = citationsAsked(block, at);
  switch (source.type) {
    case 'text': {
      const text = requiredString(source.data, `${at}.source.data`);
      if (!cited) return { type: 'text', text };
      // Cited, it stays a document (Anthropic cites a document's characters), marked on a
      // text part so prompt rules, redaction and estimates read its text as any other.
      const document: JsonObject = { ...cited };
      if (typeof block.title === 'string') document.title = block.title;
      return { type: 'text', text, document };
    }
    case 'base64': {
      const mediaType = requiredString(source.media_type, `${at}.source.media_type`);
      const data = requiredString(source.data, `${at}.source.data`);
      const file: JsonObject = { file_data: `data:${mediaType};base64,${data}`, ...cited };
      if (typeof block.title === 'string') file.filename = block.title;
      return { type: 'file', file };
    }
    case 'url': {
      // The backend fetches it (Anthropic's own API; others refuse it by name): the
      // gateway never fetches a client's URL. `file_url` is the gateway's extension.
      const url = requiredString(source.url, `${at}.source.url`);
      if (!/^https?:\/\//i.test(url))
        throw invalid(`${at}.source.url`, 'Input should be an http(s) URL');
      const file: JsonObject = { file_url: url, ...cited };
      if (typeof block.title === 'string') file.filename = block.title;
      return { type: 'file', file };
    }
    default:
      throw invalid(`${at}.source.type`, "Input should be 'text', 'base64' or 'url'");
  }
}

/**
 * A document's `citations: {enabled: true}`, carried on its file part (the gateway's
 * extension) so the answer cites it where the backend can (Anthropic), and is refused by
 * name where it cannot; undefined when citations are not asked for.
 */
function citationsAsked(block: JsonObject, at: string): { citations: JsonObject } | undefined {
  const citations = block.citations;
  if (citations === undefined || citations === null) return undefined;
  if (!isObject(citations)) throw invalid(`${at}.citations`, 'Input should be a valid dictionary');
  if (citations.enabled === undefined || citations.enabled === null) return undefined;
  if (typeof citations.enabled !== 'boolean') {
    throw invalid(`${at}.citations.enabled`, 'Input should be a valid boolean');
  }
  return citations.enabled ? { citations: { enabled: true } } : undefined;
}

/**
 * Anthropic's `service_tier` in OpenAI's terms, the canonical body's: `auto` is OpenAI's
 * `auto`, `standard_only` its `default` (standard tier); each provider maps it back
 * (providers' service-tier.ts) or reports it left out.
 */
function chatServiceTier(tier: unknown): string | undefined {
  if (tier === undefined || tier === null) return undefined;
  if (tier === 'auto') return 'auto';
  if (tier === 'standard_only') return 'default';
  throw invalid('service_tier', "Input should be 'auto' or 'standard_only'");
}

function toolResult(
  block: JsonObject,
  at: string,
): { message: JsonObject; attachments: ChatPart[] } {
  const toolCallId = requiredString(block.tool_use_id, `${at}.tool_use_id`);
  const attachments: ChatPart[] = [];
  // A mark on a block inside the result (Claude Code marks the last one) marks the result.
  let innerMark: JsonObject = {};
  let text: string;
  const content = block.content;
  if (content === undefined || content === null) text = '';
  else if (typeof content === 'string') text = content;
  else if (Array.isArray(content)) {
    const texts: string[] = [];
    content.forEach((part: unknown, index) => {
      const partAt = `${at}.content.${index}`;
      if (!isObject(part)) throw invalid(partAt, 'Input should be a valid dictionary');
      const mark = cacheMark(part, partAt);
      if (part.type === 'text') {
        texts.push(requiredString(part.text, `${partAt}.text`));
        if (mark.cache_control) innerMark = mark;
      } else if (part.type === 'image') attachments.push({ ...imagePart(part, partAt), ...mark });
      // A PDF an agent's tool read and returned.
      else if (part.type === 'document') {
        attachments.push({ ...documentPart(part, partAt), ...mark });
      } else throw invalid(`${partAt}.type`, "Input should be 'text', 'image' or 'document'");
    });
    text = texts.join('\n');
  } else {
    throw invalid(`${at}.content`, 'Input should be a valid string or a list of content blocks');
  }
  const blockMark = cacheMark(block, at);
  const mark = blockMark.cache_control ? blockMark : innerMark;
  // A marked result travels as a text part, which can carry the mark.
  const output = mark.cache_control ? [{ type: 'text', text, ...mark }] : text;
  const message: JsonObject = { role: 'tool', tool_call_id: toolCallId, content: output };
  // The gateway's extension (openai-extensions): Anthropic and Bedrock backends get their
  // own flag; OpenAI has none, so its backends get the text with an "Error: " prefix.
  if (block.is_error === true) message.is_error = true;
  return { message, attachments };
}

/** The client's tools: its own, as canonical functions, and Anthropic's server tools. */
function translateTools(tools: unknown): { tools: JsonObject[]; serverTools: JsonObject[] } {
  if (tools === undefined || tools === null) return { tools: [], serverTools: [] };
  if (!Array.isArray(tools)) throw invalid('tools', 'Input should be a valid list');
  const functions: JsonObject[] = [];
  const serverTools: JsonObject[] = [];
  tools.forEach((tool: unknown, index) => {
    const at = `tools.${index}`;
    if (!isObject(tool)) throw invalid(at, 'Input should be a valid dictionary');
    if (anthropicServerToolOf(tool.type)) serverTools.push(serverTool(tool, at));
    else functions.push(functionTool(tool, at));
  });
  return { tools: functions, serverTools };
}

/** A server tool as the client wrote it (Anthropic checks its settings), named. */
function serverTool(tool: JsonObject, at: string): JsonObject {
  requiredString(tool.name, `${at}.name`);
  return { ...tool };
}

function functionTool(tool: JsonObject, at: string): JsonObject {
  if (tool.type !== undefined && tool.type !== null && tool.type !== 'custom') {
    throw invalid(
      `${at}.type`,
      `tool type ${JSON.stringify(tool.type)} is not available through this gateway; define the tool with an input_schema, or use a server tool the gateway passes on (web_search, web_fetch, code_execution)`,
    );
  }
  const name = requiredString(tool.name, `${at}.name`);
  // Anthropic's own rule; a backend that takes fewer (OpenAI, Bedrock: 64) says so by name.
  if (!/^[a-zA-Z0-9_-]{1,128}$/.test(name)) {
    throw invalid(`${at}.name`, 'String should match pattern ^[a-zA-Z0-9_-]{1,128}$');
  }
  const schema = tool.input_schema;
  if (schema === undefined || schema === null)
    throw invalid(`${at}.input_schema`, 'Field required');
  if (!isObject(schema)) throw invalid(`${at}.input_schema`, 'Input should be a valid dictionary');
  if (schema.type !== 'object')
    throw invalid(`${at}.input_schema.type`, "Input should be 'object'");
  const definition: JsonObject = { name, parameters: schema };
  if (tool.description !== undefined && tool.description !== null) {
    definition.description = requiredString(tool.description, `${at}.description`);
  }
  // Strict tool use (the call's input guaranteed to follow the schema) stays Anthropic's
  // field at the tool's top level: OpenAI's `function.strict` has other schema rules.
  const strict = tool.strict;
  if (strict !== undefined && strict !== null && typeof strict !== 'boolean') {
    throw invalid(`${at}.strict`, 'Input should be a valid boolean');
  }
  return {
    type: 'function',
    function: definition,
    ...cacheMark(tool, at),
    ...(strict === true ? { strict: true } : {}),
  };
}

function applyToolChoice(
  chat: JsonObject,
  choice: unknown,
  hasTools: boolean,
  serverTools: readonly JsonObject[],
): void {
  if (choice === undefined || choice === null) return;
  if (!isObject(choice)) throw invalid('tool_choice', 'Input should be a valid dictionary');
  switch (choice.type) {
    case 'auto':
      if (hasTools) chat.tool_choice = 'auto';
      break;
    case 'any':
      if (!hasTools) throw invalid('tool_choice', "'any' needs at least one tool in 'tools'");
      chat.tool_choice = 'required';
      break;
    case 'tool': {
      const name = requiredString(choice.name, 'tool_choice.name');
      // A server tool is named as a function too: only a backend that runs it is sent it.
      const known =
        serverTools.some((tool) => tool.name === name) ||
        (chat.tools as JsonObject[] | undefined)?.some(
          (tool) => (tool.function as JsonObject).name === name,
        );
      if (!known) throw invalid('tool_choice.name', `no tool named '${name}' in 'tools'`);
      chat.tool_choice = { type: 'function', function: { name } };
      break;
    }
    case 'none':
      if (hasTools) chat.tool_choice = 'none';
      break;
    default:
      throw invalid('tool_choice.type', "Input should be 'auto', 'any', 'tool' or 'none'");
  }
  if (choice.disable_parallel_tool_use === true && hasTools && choice.type !== 'none') {
    chat.parallel_tool_calls = false;
  }
}
