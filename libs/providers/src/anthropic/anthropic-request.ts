import {
  DataPlaneError,
  DataPlaneErrorCode,
  type JsonObject,
  type RequestSetting,
  type ThinkingBlock,
} from '@aigw/contracts/data-plane';
import {
  audioRefused,
  type ChatPart,
  type ChatPrompt,
  type ChatTurn,
  type ServerToolBlockPart,
} from '../core/chat-request';
import type { AnswerTool } from '../core/answer-tool';
import { cacheField } from '../core/cache-control';
import { toolIdInCharset } from '../core/tool-id-charset';
import { toolNamesInHistory } from '../core/tool-history';
import { anthropicAnswerToolFields } from './anthropic-response-format';
import {
  ANTHROPIC_DEFAULT_MAX_TOKENS,
  claudeMaxTokens,
  claudeThinking,
  claudeThinkingFields,
  isReplayableThinking,
  replayableThinking,
  type ClaudeSettingsDroppedListener,
} from './anthropic-thinking';
import { claudeSampling } from './claude-sampling';
import { claudeUserId } from './claude-user-id';

export { ANTHROPIC_DEFAULT_MAX_TOKENS };

/**
 * The settings the Messages API takes (on Anthropic, Vertex AI and, as Converse's model
 * fields, Bedrock): no seed, no presence or frequency penalty, no logit bias.
 */
export const MESSAGES_API_SETTINGS: ReadonlySet<RequestSetting> = new Set([
  'temperature',
  'top_p',
  'top_k',
]);

type Block = JsonObject;

/**
 * What a Messages API body takes (Anthropic's, Claude on Vertex AI) beyond the sampling
 * settings Converse also passes: parallel_tool_calls, as tool_choice's
 * disable_parallel_tool_use.
 */
export const MESSAGES_BODY_SETTINGS: ReadonlySet<RequestSetting> = new Set([
  ...MESSAGES_API_SETTINGS,
  'parallel_tool_calls',
]);

/**
 * What Anthropic's own Messages API takes besides: its `service_tier` (service-tier.ts), and
 * the Claude features Bedrock and Vertex AI do not pass (context editing, a task budget,
 * strict tools).
 */
export const ANTHROPIC_SETTINGS: ReadonlySet<RequestSetting> = new Set([
  ...MESSAGES_BODY_SETTINGS,
  'service_tier',
  'context_management',
  'task_budget',
  'strict',
]);

/**
 * The stop sequences as Claude takes them, or a 400 naming `stop`: Anthropic refuses one that
 * is empty or only whitespace (OpenAI clients' common `"\n"`) with a 400 naming its own
 * `stop_sequences`, and Claude on Bedrock does too. Not dropped, which would answer past the
 * stop, nor cut here: the model would go on to its end, billing text the client never sees.
 */
export function claudeStopSequences(stop: readonly string[]): readonly string[] {
  const blank = stop.findIndex(isBlank);
  if (blank < 0) return stop;
  throw new DataPlaneError(
    DataPlaneErrorCode.InvalidRequest,
    `stop sequence ${blank} (${JSON.stringify(stop[blank])}) is empty or only whitespace, which Claude does not take: each of its stop sequences must hold a visible character. Leave it out, or use one such as "\\n\\nHuman:".`,
    { param: 'stop' },
  );
}

/** Anthropic refuses text that is empty or only whitespace; such text says nothing. */
function isBlank(text: string): boolean {
  return text.trim() === '';
}

function contentBlocks(parts: readonly ChatPart[]): Block[] {
  return parts.filter((part) => part.kind !== 'text' || !isBlank(part.text)).map(contentBlock);
}

/**
 * An assistant turn's parts with its server tools' calls and results, and the thinking
 * among them, back in their places (between the texts they came between), as Anthropic
 * wrote them. A thinking block without a signature (another model's) is left out, as
 * anywhere else.
 */
function assistantContentBlocks(
  parts: readonly ChatPart[],
  serverToolBlocks: readonly ServerToolBlockPart[] = [],
): Block[] {
  if (serverToolBlocks.length === 0) return contentBlocks(parts);
  const blocks: Block[] = [];
  let next = 0;
  for (const { block, after } of serverToolBlocks) {
    blocks.push(...contentBlocks(parts.slice(next, Math.max(next, after))));
    next = Math.max(next, after);
    const thinking = block.type === 'thinking' || block.type === 'redacted_thinking';
    if (thinking && !isReplayableThinking(block)) continue;
    blocks.push({ ...block });
  }
  blocks.push(...contentBlocks(parts.slice(next)));
  return blocks;
}

function contentBlock(part: ChatPart): Block {
  switch (part.kind) {
    case 'text':
      return {
        type: 'text',
        text: part.text,
        ...(part.citations ? { citations: part.citations.map((c) => ({ ...c })) } : {}),
        ...cacheField(part.cache),
      };
    case 'image':
      return {
        type: 'image',
        source: { type: 'base64', media_type: part.mediaType, data: part.base64 },
        ...cacheField(part.cache),
      };
    case 'image-url':
      return { type: 'image', source: { type: 'url', url: part.url }, ...cacheField(part.cache) };
    case 'document':
      return {
        type: 'document',
        source: documentSource(part),
        ...documentFields(part),
        ...cacheField(part.cache),
      };
    case 'document-url':
      return {
        type: 'document',
        source: { type: 'url', url: part.url },
        ...documentFields(part),
        ...cacheField(part.cache),
      };
    case 'audio':
      throw audioRefused('Anthropic');
  }
}

/** A PDF's base64 as it came; a cited plain-text document's text as Anthropic's text source. */
function documentSource(part: ChatPart & { kind: 'document' }): Block {
  return part.mediaType === 'text/plain'
    ? {
        type: 'text',
        media_type: 'text/plain',
        data: Buffer.from(part.base64, 'base64').toString(),
      }
    : { type: 'base64', media_type: part.mediaType, data: part.base64 };
}

/** A document's title (the file name the client gave) and whether it is to be cited. */
function documentFields(part: ChatPart & { kind: 'document' | 'document-url' }): Block {
  return {
    ...(part.filename === undefined ? {} : { title: part.filename }),
    ...(part.cited ? { citations: { enabled: true } } : {}),
  };
}

/** An assistant turn's reasoning as it came from Anthropic, signatures and all. */
function thinkingBlocks(blocks: readonly ThinkingBlock[]): Block[] {
  return replayableThinking(blocks).map((block) =>
    block.type === 'thinking'
      ? { type: 'thinking', thinking: block.thinking, signature: block.signature }
      : { type: 'redacted_thinking', data: block.data },
  );
}

function blocksOf(turn: ChatTurn): { role: 'user' | 'assistant'; blocks: Block[] } {
  switch (turn.role) {
    case 'user':
      return { role: 'user', blocks: contentBlocks(turn.parts) };
    case 'assistant':
      return {
        role: 'assistant',
        // Thinking first: Anthropic wants a turn's reasoning back where it produced it (the
        // thinking among a server tool's blocks is placed with them, not here).
        blocks: [
          ...thinkingBlocks(turn.thinking),
          ...assistantContentBlocks(turn.parts, turn.serverToolBlocks),
          ...turn.toolCalls.map((call) => ({
            type: 'tool_use',
            id: toolIdInCharset(call.id),
            name: call.name,
            input: call.arguments,
            ...cacheField(call.cache),
          })),
        ],
      };
    case 'tool':
      // Tool results travel in a user message, one block per result.
      return {
        role: 'user',
        blocks: [
          {
            type: 'tool_result',
            tool_use_id: toolIdInCharset(turn.toolCallId),
            content: turn.content,
            ...(turn.isError ? { is_error: true } : {}),
            ...cacheField(turn.cache),
          },
        ],
      };
  }
}

/** Anthropic's `messages`: adjacent turns of one role merge, as its API wants them. */
function messages(turns: readonly ChatTurn[]): JsonObject[] {
  const merged: { role: 'user' | 'assistant'; content: Block[] }[] = [];
  for (const turn of turns) {
    const { role, blocks } = blocksOf(turn);
    if (blocks.length === 0) continue;
    const last = merged.at(-1);
    if (last?.role === role) last.content.push(...blocks);
    else merged.push({ role, content: blocks });
  }
  return merged;
}

function toolChoice(prompt: ChatPrompt): JsonObject | undefined {
  const choice = prompt.toolChoice;
  // parallel_tool_calls=false is Anthropic's disable_parallel_tool_use, set on the choice.
  const serial = prompt.parallelToolCalls === false ? { disable_parallel_tool_use: true } : {};
  switch (choice?.kind) {
    case undefined:
      return prompt.tools.length > 0 && prompt.parallelToolCalls === false
        ? { type: 'auto', ...serial }
        : undefined;
    case 'auto':
      return { type: 'auto', ...serial };
    case 'none':
      return { type: 'none' };
    case 'required':
      return { type: 'any', ...serial };
    case 'function':
      return { type: 'tool', name: choice.name, ...serial };
  }
}

/**
 * For a conversation whose earlier turns called tools, sent with no tools (an agent loop's
 * last turn asking for an answer, a summariser's transcript): the Messages API refuses
 * tool_use and tool_result blocks in a request that defines no tools, where OpenAI's takes
 * them. The history's tools are declared by name, taking any input, and ruled out with
 * tool_choice none, so the history stays as it was and the model calls none, as OpenAI's
 * model without tools would. Nothing for a conversation without tool calls.
 */
function historyToolFields(turns: readonly ChatTurn[]): JsonObject {
  const names = toolNamesInHistory(turns);
  if (names.length === 0) return {};
  return {
    tools: names.map((name) => ({ name, input_schema: { type: 'object' } })),
    tool_choice: { type: 'none' },
  };
}

/**
 * The system prompt: one string, or its text blocks as they came when any of them marks
 * a caching breakpoint (a breakpoint moved to the end of the joined text would cache
 * nothing for a prompt whose later blocks vary).
 */
function systemPrompt(prompt: ChatPrompt): string | Block[] | undefined {
  if (prompt.systemTexts.some((text) => text.cache)) {
    return prompt.systemTexts
      .filter((text) => !isBlank(text.text))
      .map((text) => ({ type: 'text', text: text.text, ...cacheField(text.cache) }));
  }
  const system = prompt.system.filter((text) => !isBlank(text));
  return system.length > 0 ? system.join('\n\n') : undefined;
}

/**
 * The Messages API body for an OpenAI chat request; `answerTool` is the tool
 * `answerTool` made of its response_format, if it asks for JSON. Sampling settings the
 * model refuses are left out, each told to `onDropped`.
 */
export function toAnthropicRequest(
  prompt: ChatPrompt,
  model: string,
  stream: boolean,
  answerTool: AnswerTool | undefined,
  onDropped?: ClaudeSettingsDroppedListener,
): JsonObject {
  const thinking = claudeThinking(prompt, answerTool, model, onDropped);
  const body: JsonObject = {
    model,
    max_tokens: thinking ? thinking.maxTokens : claudeMaxTokens(prompt),
    messages: messages(prompt.turns),
  };
  if (thinking) Object.assign(body, claudeThinkingFields(thinking));
  const system = systemPrompt(prompt);
  if (system !== undefined) body.system = system;
  const serverTools = prompt.anthropicServerTools ?? [];
  if (prompt.tools.length > 0 || serverTools.length > 0) {
    body.tools = [
      ...prompt.tools.map((tool) => ({
        name: tool.name,
        ...(tool.description === undefined ? {} : { description: tool.description }),
        input_schema: tool.parameters,
        ...cacheField(tool.cache),
        ...(tool.strict ? { strict: true } : {}),
      })),
      // Anthropic runs these: sent as the client wrote them (Anthropic checks their settings).
      ...serverTools.map((tool) => ({ ...tool })),
    ];
  }
  // Without tools the model calls none, and the Messages API refuses a tool_choice in a
  // request that defines no tools: a client's none or auto (a summariser's) goes as nothing.
  // A forced call without tools still goes, for Anthropic to refuse.
  const choice = toolChoice(prompt);
  const forcesCall = choice?.type === 'any' || choice?.type === 'tool';
  if (choice && (body.tools !== undefined || forcesCall)) body.tool_choice = choice;
  // A forced call without tools is left for Anthropic to refuse, not answered in text.
  if (!body.tools && !answerTool && !forcesCall) {
    Object.assign(body, historyToolFields(prompt.turns));
  }
  if (prompt.stop.length > 0) body.stop_sequences = claudeStopSequences(prompt.stop);
  // Only what the model takes (claude-sampling.ts); top_k may be a Gemini or Messages
  // client's (provider_extras).
  const sampling = claudeSampling(prompt, model, thinking !== undefined, onDropped);
  if (sampling.temperature !== undefined) body.temperature = sampling.temperature;
  if (sampling.topP !== undefined) body.top_p = sampling.topP;
  if (sampling.topK !== undefined) body.top_k = sampling.topK;
  if (prompt.user !== undefined) body.metadata = { user_id: claudeUserId(prompt.user) };
  if (answerTool) Object.assign(body, anthropicAnswerToolFields(answerTool));
  if (stream) body.stream = true;
  return body;
}
