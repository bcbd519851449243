import {
  DataPlaneError,
  DataPlaneErrorCode,
  type JsonObject,
  type RequestSetting,
  type ThinkingBlock,
} from '@aigw/contracts/data-plane';
import type { AnswerTool } from '../core/answer-tool';
import {
  type ChatPart,
  type ChatPrompt,
  type ChatToolCall,
  type ChatTurn,
  audioRefused,
  documentUrlsRefused,
  toolOutputText,
} from '../core/chat-request';
import type { CacheControl } from '../core/cache-control';
import { isJsonObject } from '../core/json-shape';
import { toolIdInCharset } from '../core/tool-id-charset';
import { toolNamesInHistory } from '../core/tool-history';
import {
  claudeThinking,
  claudeThinkingFields,
  replayableThinking,
  type ClaudeSettingsDroppedListener,
} from '../anthropic/anthropic-thinking';
import { claudeSampling } from '../anthropic/claude-sampling';
import { claudeStopSequences, MESSAGES_API_SETTINGS } from '../anthropic/anthropic-request';
import { converseFamily } from './bedrock-model-id';

type Block = JsonObject;

const IMAGE_FORMATS: Record<string, string> = {
  'image/png': 'png',
  'image/jpeg': 'jpeg',
  'image/jpg': 'jpeg',
  'image/gif': 'gif',
  'image/webp': 'webp',
};

/** Converse refuses a text block that is empty or only whitespace, as "blank". */
function isBlank(text: string): boolean {
  return text.trim() === '';
}

/**
 * Converse's prompt-caching breakpoint (CachePointBlock): a block of its own after what it
 * caches, where Anthropic marks the block itself with `cache_control`. The mark's `ttl`
 * ("5m" or "1h") is the block's `ttl`, which takes the same two values; without one
 * Bedrock caches for its default 5 minutes.
 */
function cachePoint(cache: CacheControl): Block {
  return { cachePoint: { type: 'default', ...(cache.ttl ? { ttl: cache.ttl } : {}) } };
}

/**
 * Where a model takes cache points: Claude in system, messages and tools, Nova in system
 * and messages only (Bedrock's prompt-caching models). Other families refuse any ("You
 * invoked an unsupported model or your request did not allow prompt caching"), so their
 * marks are left out, as the OpenAI family's are; an ARN that hides its model gets them
 * all, as the Claude it may be.
 */
interface CachePoints {
  readonly prompt: boolean;
  readonly tools: boolean;
}

function cachePointsOf(model: string): CachePoints {
  const family = converseFamily(model);
  const claude = family === 'claude' || family === 'unnamed';
  return { prompt: claude || family === 'nova', tools: claude };
}

/** The blocks of a part, with a cache point after them when the part is marked. */
function block(part: ChatPart, at: string, points: CachePoints): Block[] {
  const blocks = partBlocks(part, at);
  return part.cache && points.prompt && blocks.length > 0
    ? [...blocks, cachePoint(part.cache)]
    : blocks;
}

function partBlocks(part: ChatPart, at: string): Block[] {
  switch (part.kind) {
    case 'text':
      return isBlank(part.text) ? [] : [{ text: part.text }];
    case 'image': {
      const format = IMAGE_FORMATS[part.mediaType];
      if (!format) {
        throw new DataPlaneError(
          DataPlaneErrorCode.InvalidRequest,
          `Bedrock takes png, jpeg, gif or webp images, not ${part.mediaType}`,
          { param: at },
        );
      }
      // Blobs travel base64-encoded in Converse's JSON.
      return [{ image: { format, source: { bytes: part.base64 } } }];
    }
    case 'image-url':
      throw new DataPlaneError(
        DataPlaneErrorCode.InvalidRequest,
        'Bedrock backends take images as base64 data URLs, not links',
        { param: at },
      );
    case 'document':
      return [documentBlock(part)];
    case 'document-url':
      // Converse takes a document's bytes or an S3 location, never a URL.
      throw documentUrlsRefused(at);
    case 'audio':
      throw audioRefused('Bedrock');
  }
}

/**
 * A PDF, or a plain-text document that asks to be cited, as Converse's document block
 * (`pdf`, `txt`), with `citations: {enabled: true}` where the client asked for them (only a
 * Claude model is let ask: bedrock.adapter.ts). Converse takes names of letters, digits,
 * single spaces, hyphens, parentheses and square brackets (1 to 200 characters;
 * "report.pdf" is refused for its dot), so the client's file name is kept in those terms,
 * or "document".
 */
function documentBlock(part: ChatPart & { kind: 'document' }): Block {
  return {
    document: {
      format: part.mediaType === 'text/plain' ? 'txt' : 'pdf',
      name: documentName(part.filename),
      source: { bytes: part.base64 },
      ...(part.cited ? { citations: { enabled: true } } : {}),
    },
  };
}

export function documentName(filename: string | undefined): string {
  const name = (filename ?? '')
    .replace(/\.pdf$/i, '')
    .replace(/[^A-Za-z0-9\s\-()[\]]+/g, ' ')
    .replace(/\s+/g, ' ')
    .trim()
    .slice(0, 200)
    .trim();
  return name === '' ? 'document' : name;
}

/**
 * Converse refuses two documents of one name in a request: a later one gets its number,
 * "report (2)", as a file manager names a copy.
 */
function withUniqueDocumentNames(messages: readonly JsonObject[]): void {
  const seen = new Set<string>();
  for (const message of messages) {
    for (const item of message.content as Block[]) {
      const document = item.document as { name: string } | undefined;
      if (!document) continue;
      let name = document.name;
      for (let copy = 2; seen.has(name); copy += 1) {
        const suffix = ` (${copy})`;
        name = document.name.slice(0, 200 - suffix.length).trimEnd() + suffix;
      }
      seen.add(name);
      document.name = name;
    }
  }
}

/**
 * An assistant turn's reasoning as Claude on Bedrock gave it, signatures and all; a
 * redacted block's content is the base64 it came as (Converse's JSON form of a blob).
 */
function reasoningBlocks(blocks: readonly ThinkingBlock[]): Block[] {
  return replayableThinking(blocks).map((block) => ({
    reasoningContent:
      block.type === 'thinking'
        ? { reasoningText: { text: block.thinking, signature: block.signature } }
        : { redactedContent: block.data },
  }));
}

/** The longest toolUseId Converse takes (ToolUseBlock, ToolResultBlock). */
const CONVERSE_TOOL_USE_ID_LENGTH = 64;

/** A client's tool call id as a toolUseId Converse takes (toolIdInCharset). */
function converseToolUseId(id: string): string {
  return toolIdInCharset(id, CONVERSE_TOOL_USE_ID_LENGTH);
}

/**
 * What a tool result that is empty or only whitespace says instead: Converse refuses a
 * blank text block in a toolResult (and an empty one flagged as an error), while a tool
 * that printed nothing is common.
 */
const EMPTY_TOOL_RESULT_TEXT = '(no output)';

/**
 * A tool result block. A failed tool's has Converse's `status: "error"` where the model
 * takes it (Claude and Nova, per Converse's ToolResultBlock; others may refuse it), and
 * says so in its text elsewhere.
 */
function toolResultBlock(turn: ChatTurn & { role: 'tool' }, model: string): Block {
  const flagged = turn.isError === true && takesToolResultStatus(model);
  const text = flagged ? turn.content : toolOutputText(turn);
  return {
    toolResult: {
      toolUseId: converseToolUseId(turn.toolCallId),
      content: [{ text: isBlank(text) ? EMPTY_TOOL_RESULT_TEXT : text }],
      ...(flagged ? { status: 'error' } : {}),
    },
  };
}

function takesToolResultStatus(model: string): boolean {
  const family = converseFamily(model);
  return family === 'claude' || family === 'nova';
}

/**
 * Where the model may call no tool (toolsRuledOut), earlier tool calls and results
 * are told as text: Converse refuses toolUse and toolResult blocks without a toolConfig,
 * and has no choice that offers tools yet rules out calling them.
 */
function toolCallText(call: ChatToolCall): Block {
  return { text: `[tool call ${call.id}: ${call.name} ${JSON.stringify(call.arguments)}]` };
}

function toolResultText(turn: ChatTurn & { role: 'tool' }): Block {
  const output = toolOutputText(turn);
  const said = isBlank(output) ? EMPTY_TOOL_RESULT_TEXT : output;
  return { text: `[tool result ${turn.toolCallId} (${turn.toolName}): ${said}]` };
}

function blocksOf(
  turn: ChatTurn,
  index: number,
  model: string,
  points: CachePoints,
  toolsAsText: boolean,
): { role: 'user' | 'assistant'; content: Block[] } {
  const at = `messages[${index}].content`;
  switch (turn.role) {
    case 'user':
      return { role: 'user', content: turn.parts.flatMap((p) => block(p, at, points)) };
    case 'assistant':
      return {
        role: 'assistant',
        // Reasoning first, where Claude produced it and wants it back.
        content: [
          ...reasoningBlocks(turn.thinking),
          ...turn.parts.flatMap((p) => block(p, at, points)),
          // A marked call gets its cache point after it, as a marked result does.
          ...turn.toolCalls.flatMap((call) => [
            toolsAsText
              ? toolCallText(call)
              : {
                  toolUse: {
                    toolUseId: converseToolUseId(call.id),
                    name: call.name,
                    input: call.arguments,
                  },
                },
            ...(call.cache && points.prompt ? [cachePoint(call.cache)] : []),
          ]),
        ],
      };
    case 'tool':
      return {
        role: 'user',
        content: [
          toolsAsText ? toolResultText(turn) : toolResultBlock(turn, model),
          ...(turn.cache && points.prompt ? [cachePoint(turn.cache)] : []),
        ],
      };
  }
}

/**
 * Converse refuses a conversation that does not start with a user message ("A conversation
 * must start with a user message"), where OpenAI takes one that opens with the assistant's
 * greeting: such a conversation gets this turn first, text that is not blank and says
 * nothing the model should answer.
 */
const OPENING_USER_TEXT = '(conversation start)';

/** Converse `messages`: roles must alternate, so adjacent turns of one role merge. */
function messages(
  turns: readonly ChatTurn[],
  model: string,
  points: CachePoints,
  toolsAsText: boolean,
): JsonObject[] {
  const merged: { role: 'user' | 'assistant'; content: Block[] }[] = [];
  turns.forEach((turn, index) => {
    const { role, content } = blocksOf(turn, index, model, points, toolsAsText);
    if (content.length === 0) return;
    const last = merged.at(-1);
    if (last?.role === role) last.content.push(...content);
    else merged.push({ role, content });
  });
  return merged;
}

function toolChoice(prompt: ChatPrompt): JsonObject | undefined {
  const choice = prompt.toolChoice;
  switch (choice?.kind) {
    case undefined:
    // Converse has no "none": no tools are offered then (see toolsRuledOut).
    case 'none':
      return undefined;
    case 'auto':
      return { auto: {} };
    case 'required':
      return { any: {} };
    case 'function':
      return { tool: { name: choice.name } };
  }
}

/** A tool's spec; a blank description is left out, as Converse takes none shorter than 1. */
function toolSpec(name: string, description: string | undefined, schema: JsonObject): JsonObject {
  return {
    toolSpec: {
      name,
      ...(description === undefined || isBlank(description) ? {} : { description }),
      inputSchema: { json: schema },
    },
  };
}

/**
 * Whether the model may call no tool: the client ruled calls out (`tool_choice: "none"`) or
 * sent no tools (OpenAI's model then calls none), with no answer tool to force. Then no
 * tool is offered, and the history's tool calls and results go as text.
 */
function toolsRuledOut(prompt: ChatPrompt, answer: AnswerTool | undefined): boolean {
  return (prompt.toolChoice?.kind === 'none' || prompt.tools.length === 0) && !answer;
}

/**
 * Converse's `toolConfig`, none where the model may call no tool (toolsRuledOut). An
 * answer tool (`bedrock-json-mode.ts`) comes with no client tools and is the forced choice;
 * as Converse refuses toolUse and toolResult blocks in the history without a toolConfig,
 * the history's tools are then declared beside it by name, with a schema that takes any
 * object.
 */
function toolConfig(
  prompt: ChatPrompt,
  answer: AnswerTool | undefined,
  points: CachePoints,
): JsonObject | undefined {
  // Offered tools may be called, which the client ruled out; the history's tool blocks
  // went as text.
  if (toolsRuledOut(prompt, answer)) return undefined;
  if (answer) {
    const used = toolNamesInHistory(prompt.turns).filter((name) => name !== answer.name);
    const declared = used.map((name) => toolSpec(name, undefined, { type: 'object' }));
    return {
      tools: [toolSpec(answer.name, answer.description, answer.schema), ...declared],
      toolChoice: { tool: { name: answer.name } },
    };
  }
  const choice = toolChoice(prompt);
  return {
    tools: prompt.tools.flatMap((tool) => [
      toolSpec(tool.name, tool.description, tool.parameters),
      ...(tool.cache && points.tools ? [cachePoint(tool.cache)] : []),
    ]),
    ...(choice ? { toolChoice: choice } : {}),
  };
}

/** Converse's `system`: its text blocks, with a cache point after each marked one. */
function systemBlocks(prompt: ChatPrompt, points: CachePoints): Block[] {
  if (!points.prompt || !prompt.systemTexts.some((text) => text.cache)) {
    return prompt.system.filter((text) => !isBlank(text)).map((text) => ({ text }));
  }
  return prompt.systemTexts
    .filter((text) => !isBlank(text.text))
    .flatMap((text) =>
      text.cache ? [{ text: text.text }, cachePoint(text.cache)] : [{ text: text.text }],
    );
}

/**
 * The Converse / ConverseStream body for an OpenAI chat request; `answer` is the tool
 * `answerTool` made of its response_format, if it asks for JSON. Sampling settings a
 * Claude model refuses are left out, each told to `onDropped`.
 */
export function toConverseRequest(
  prompt: ChatPrompt,
  answer: AnswerTool | undefined,
  model: string,
  onDropped?: ClaudeSettingsDroppedListener,
): JsonObject {
  const points = cachePointsOf(model);
  const converseMessages = messages(prompt.turns, model, points, toolsRuledOut(prompt, answer));
  withUniqueDocumentNames(converseMessages);
  if (converseMessages.length === 0) {
    // Converse would refuse it too; saying so here spares a call and names the field.
    throw new DataPlaneError(
      DataPlaneErrorCode.InvalidRequest,
      'Bedrock needs at least one user or assistant message with content that is not blank',
      { param: 'messages' },
    );
  }
  if (converseMessages[0].role === 'assistant') {
    converseMessages.unshift({ role: 'user', content: [{ text: OPENING_USER_TEXT }] });
  }
  const body: JsonObject = { messages: converseMessages };
  const system = systemBlocks(prompt, points);
  if (system.length > 0) body.system = system;
  const thinking = mayBeClaude(model)
    ? claudeThinking(prompt, answer, model, onDropped)
    : undefined;
  // Only what the model takes (claude-sampling.ts): other families, and ARNs that do not
  // say which model they serve, get the client's settings as sent.
  const sampling = claudeSampling(prompt, model, thinking !== undefined, onDropped);
  const inference: JsonObject = {};
  const maxTokens = thinking ? thinking.maxTokens : prompt.maxTokens;
  if (maxTokens !== undefined) inference.maxTokens = maxTokens;
  if (sampling.temperature !== undefined) inference.temperature = sampling.temperature;
  if (sampling.topP !== undefined) inference.topP = sampling.topP;
  if (prompt.stop.length > 0) {
    // Claude refuses a blank stop sequence on Bedrock as on Anthropic's own API.
    inference.stopSequences = namesClaude(model) ? claudeStopSequences(prompt.stop) : prompt.stop;
  }
  if (Object.keys(inference).length > 0) body.inferenceConfig = inference;
  // Which stop sequence ended the answer: Claude's response field, which Converse returns
  // only when asked (and ignores where the model does not answer it).
  if (prompt.stop.length > 0 && mayBeClaude(model)) {
    body.additionalModelResponseFieldPaths = ['/stop_sequence'];
  }
  const tools = toolConfig(prompt, answer, points);
  if (tools) body.toolConfig = tools;
  if (thinking) {
    for (const [name, value] of Object.entries(claudeThinkingFields(thinking))) {
      withModelField(body, name, value);
    }
  }
  // A Gemini or Messages client's top_k (provider_extras), for a model that says it is
  // Claude (an ARN may be a family that refuses the field).
  if (sampling.topK !== undefined && namesClaude(model)) {
    withModelField(body, 'top_k', sampling.topK);
  }
  return body;
}

/**
 * Whether a Bedrock model id may name Claude: it says so, or it is an ARN that does not
 * say its model (an application inference profile, provisioned throughput). Claude's
 * thinking fields go to no other family (Nova, Llama, Mistral... refuse fields they do
 * not know).
 */
function mayBeClaude(model: string): boolean {
  const family = converseFamily(model);
  return family === 'claude' || family === 'unnamed';
}

/**
 * Converse's inferenceConfig (no seed, no presence or frequency penalty, no logit bias),
 * and its serviceTier (service-tier.ts), which every model is sent.
 */
const CONVERSE_SETTINGS: ReadonlySet<RequestSetting> = new Set([
  'temperature',
  'top_p',
  'service_tier',
]);
const CLAUDE_CONVERSE_SETTINGS: ReadonlySet<RequestSetting> = new Set([
  ...MESSAGES_API_SETTINGS,
  'service_tier',
]);

/**
 * The settings a Converse request takes for `model`: a Claude also takes Anthropic's
 * top_k, sent as a model field; no other family is sent one.
 */
export function converseSettings(model: string): ReadonlySet<RequestSetting> {
  return namesClaude(model) ? CLAUDE_CONVERSE_SETTINGS : CONVERSE_SETTINGS;
}

/** Whether a Bedrock model id says it is Claude, through a profile's prefix or an ARN. */
function namesClaude(model: string): boolean {
  return converseFamily(model) === 'claude';
}

/**
 * Adds a field Converse passes to the model as it is (`additionalModelRequestFields`:
 * Claude's thinking goes there), beside any already set.
 */
function withModelField(body: JsonObject, name: string, value: unknown): void {
  const fields = body.additionalModelRequestFields;
  body.additionalModelRequestFields = { ...(isJsonObject(fields) ? fields : {}), [name]: value };
}
