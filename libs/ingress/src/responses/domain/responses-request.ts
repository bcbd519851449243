import {
  DataPlaneError,
  DataPlaneErrorCode,
  isReasoningEffort,
  REASONING_EFFORTS,
  type JsonObject,
  type ThinkingBlock,
} from '@aigw/contracts/data-plane';
import { refuseTooDeepBody } from '../../domain/body-depth';
import { decodeReasoning } from './encrypted-reasoning';
import { metadataParam } from './metadata';
import {
  absent,
  badValue,
  error,
  isObject,
  missing,
  optionalBoolean,
  optionalNumber,
  optionalString,
  requiredString,
  wrongType,
} from './request-params';
import { applyTools } from './responses-tools';

// OpenAI Responses API requests in the gateway's canonical format (OpenAI chat
// completions), so `/v1/responses` works against every backend. The conversation is
// `input`, after the earlier turns `previous_response_id` names when the gateway stores
// responses (see ../state); what needs a stored conversation, prompt or item is refused
// with a 400 naming the field.

/** What the answer side needs of the request: mostly what the Response object repeats. */
export interface ResponsesRequestFacts {
  readonly instructions: string | null;
  /** The tools as the client defined them (Responses' flat shape). */
  readonly tools: readonly JsonObject[];
  readonly toolChoice: unknown;
  readonly parallelToolCalls: boolean;
  readonly temperature: number | null;
  readonly topP: number | null;
  readonly maxOutputTokens: number | null;
  readonly text: JsonObject;
  readonly reasoning: { readonly effort: string | null; readonly summary: string | null };
  readonly metadata: JsonObject;
  readonly user: string | null;
  /** `include` asked for `reasoning.encrypted_content`: reasoning items carry their blocks. */
  readonly encryptedReasoning: boolean;
}

/** The `include` value asking for reasoning items the client can send back. */
const ENCRYPTED_REASONING_INCLUDE = 'reasoning.encrypted_content';

export interface TranslatedResponsesRequest {
  readonly chat: JsonObject;
  readonly facts: ResponsesRequestFacts;
}

/** The `conversation` of a Responses request: an id, or `{id}`; undefined when absent. */
export function conversationParam(value: unknown): string | undefined {
  if (value === undefined || value === null) return undefined;
  const id = typeof value === 'object' && !Array.isArray(value) ? (value as JsonObject).id : value;
  if (typeof id !== 'string') {
    throw wrongType('conversation', 'a conversation id or {id}');
  }
  if (id === '') throw badValue('conversation', 'it must not be empty.');
  return id;
}

export interface TranslationOptions {
  /** The gateway stores responses: `previous_response_id` may name one. */
  readonly stateful?: boolean;
}

/** Fields that only make sense against state this gateway does not keep. */
const STATEFUL_FIELDS: readonly [field: string, refusal: string][] = [
  ['prompt', "this gateway stores no prompt templates; send the prompt in 'input'."],
];

/** The longest response id looked up: the gateway's own are 53 characters. */
const MAX_RESPONSE_ID_LENGTH = 256;

/**
 * A response id shaped as ids are (OpenAI's rule: letters, digits, `_` and `-`), else
 * OpenAI's 400: a malformed id is the client's mistake, not an unknown response's 404.
 */
function checkResponseId(id: string, param: string): void {
  if (id === '') throw badValue(param, 'it must not be empty.');
  if (id.length > MAX_RESPONSE_ID_LENGTH) {
    throw badValue(param, `an ID is at most ${MAX_RESPONSE_ID_LENGTH} characters.`);
  }
  if (!/^[A-Za-z0-9_-]+$/.test(id)) {
    const shown = id.replace(/[^A-Za-z0-9_-]/g, '?');
    throw error(
      param,
      `Invalid '${param}': '${shown}'. Expected an ID that contains letters, numbers, underscores, or dashes, but this value contained additional characters.`,
    );
  }
}

function refuseStatefulFields(body: JsonObject, stateful: boolean): void {
  if (!stateful && !absent(body.previous_response_id)) {
    throw error(
      'previous_response_id',
      "'previous_response_id' is not supported: this gateway is stateless (its response store is off) and stores no earlier responses; send the whole conversation in 'input'.",
    );
  }
  if (!stateful && !absent(body.conversation)) {
    throw error(
      'conversation',
      "'conversation' is not supported: this gateway's response store is off, so it keeps no conversations; send the whole conversation in 'input'.",
    );
  }
  if (stateful) {
    const previous = optionalString(body.previous_response_id, 'previous_response_id');
    if (previous !== undefined) checkResponseId(previous, 'previous_response_id');
    conversationParam(body.conversation);
    if (previous !== undefined && !absent(body.conversation)) {
      // OpenAI's rule: a response continues one or the other.
      throw error(
        'conversation',
        "Mutually exclusive parameters: provide either 'previous_response_id' or 'conversation', not both.",
      );
    }
  }
  for (const [field, refusal] of STATEFUL_FIELDS) {
    if (absent(body[field])) continue;
    throw error(field, `'${field}' is not supported: ${refusal}`);
  }
  if (body.background === true) {
    throw error(
      'background',
      "'background' is not supported: this gateway answers while you wait.",
    );
  }
}

/**
 * Validates a Responses API body and translates it into an OpenAI chat body.
 * Throws a DataPlaneError (400, OpenAI's error format) naming the first field at fault.
 */
export function translateResponsesRequest(
  body: unknown,
  options: TranslationOptions = {},
): TranslatedResponsesRequest {
  if (!isObject(body)) {
    throw new DataPlaneError(
      DataPlaneErrorCode.InvalidRequest,
      'The request body must be a JSON object',
    );
  }
  // The client's body as sent: fields the translation drops are still stored with the
  // conversation's items and written out as JSON, which recurses as deep as they go.
  refuseTooDeepBody(body);
  const model = requiredString(body.model, 'model');
  if (model.length === 0) throw badValue('model', 'it must not be empty.');
  refuseStatefulFields(body, options.stateful === true);

  const messages: JsonObject[] = [];
  const instructions = optionalString(body.instructions, 'instructions');
  if (instructions) messages.push({ role: 'system', content: instructions });
  messages.push(...inputMessages(body.input));

  const chat: JsonObject = { model, messages };
  if (optionalBoolean(body.stream, 'stream')) {
    chat.stream = true;
    // The usage chunk carries the reasoning token count the final Response reports.
    chat.stream_options = { include_usage: true };
  }
  optionalBoolean(body.store, 'store'); // the answer side stores (or not)
  includeList(body.include);
  metadataParam(body.metadata);
  applySampling(chat, body);
  applyTools(chat, body);
  const effort = reasoningEffort(body.reasoning);
  if (effort !== undefined) chat.reasoning_effort = effort;
  const format = responseFormat(body.text);
  if (format) chat.response_format = format;
  const verbosity = textVerbosity(body.text);
  if (verbosity !== undefined) chat.verbosity = verbosity;
  return { chat, facts: responsesFacts(body) };
}

/**
 * The request fields a Response object repeats, read from a body already validated by
 * `translateResponsesRequest` (the answer side reads them again from the client's body).
 */
export function responsesFacts(body: JsonObject): ResponsesRequestFacts {
  const numberOrNull = (value: unknown) => (typeof value === 'number' ? value : null);
  const stringOrNull = (value: unknown) => (typeof value === 'string' ? value : null);
  const reasoning = isObject(body.reasoning) ? body.reasoning : {};
  const text = isObject(body.text) ? body.text : {};
  return {
    instructions: stringOrNull(body.instructions),
    tools: Array.isArray(body.tools) ? (body.tools as JsonObject[]) : [],
    toolChoice: absent(body.tool_choice) ? 'auto' : body.tool_choice,
    parallelToolCalls: body.parallel_tool_calls !== false,
    temperature: numberOrNull(body.temperature),
    topP: numberOrNull(body.top_p),
    maxOutputTokens: numberOrNull(body.max_output_tokens),
    text: { ...text, format: isObject(text.format) ? text.format : { type: 'text' } },
    reasoning: { effort: stringOrNull(reasoning.effort), summary: stringOrNull(reasoning.summary) },
    metadata: isObject(body.metadata) ? body.metadata : {},
    user: stringOrNull(body.user),
    encryptedReasoning:
      Array.isArray(body.include) && body.include.includes(ENCRYPTED_REASONING_INCLUDE),
  };
}

/**
 * The `include` values OpenAI documents (its SDK's ResponseIncludable). Only
 * `reasoning.encrypted_content` changes our answer; the rest are accepted and ignored:
 * the built-in tools' results and sources (file_search_call.results,
 * web_search_call.results, web_search_call.action.sources, code_interpreter_call.outputs,
 * computer_call_output.output.image_url) belong to tools this gateway refuses, so there
 * is never one to show; an input image's URL (message.input_image.image_url) is only on
 * stored input items; and no backend's chat answer gives Responses' logprobs
 * (message.output_text.logprobs), so output_text has none.
 */
const KNOWN_INCLUDES: ReadonlySet<string> = new Set([
  ENCRYPTED_REASONING_INCLUDE,
  'code_interpreter_call.outputs',
  'computer_call_output.output.image_url',
  'file_search_call.results',
  'message.input_image.image_url',
  'message.output_text.logprobs',
  'web_search_call.action.sources',
  'web_search_call.results',
]);

/** `include` is a list of the names above; another is refused as OpenAI refuses it. */
function includeList(include: unknown): void {
  if (absent(include)) return;
  if (!Array.isArray(include)) throw wrongType('include', 'an array of strings');
  include.forEach((entry: unknown, index) => {
    const at = `include[${index}]`;
    if (typeof entry !== 'string') throw wrongType(at, 'a string');
    if (!KNOWN_INCLUDES.has(entry)) {
      throw badValue(
        at,
        `${JSON.stringify(entry)} is not a supported value; supported values are: ${[...KNOWN_INCLUDES].join(', ')}.`,
      );
    }
  });
}

function applySampling(chat: JsonObject, body: JsonObject): void {
  const maxOutputTokens = body.max_output_tokens;
  if (!absent(maxOutputTokens)) {
    if (
      typeof maxOutputTokens !== 'number' ||
      !Number.isSafeInteger(maxOutputTokens) ||
      maxOutputTokens < 1
    ) {
      throw badValue('max_output_tokens', 'it must be a whole number of at least 1.');
    }
    chat.max_tokens = maxOutputTokens;
  }
  const temperature = optionalNumber(body.temperature, 'temperature');
  if (temperature !== undefined) chat.temperature = temperature;
  const topP = optionalNumber(body.top_p, 'top_p');
  if (topP !== undefined) chat.top_p = topP;
  const user = optionalString(body.user, 'user');
  if (user !== undefined) chat.user = user;
  for (const setting of SAME_NAMED_SETTINGS) {
    const value = optionalString(body[setting], setting);
    if (value !== undefined) chat[setting] = value;
  }
}

/**
 * Settings chat completions takes under the same name and values: they reach OpenAI-format
 * backends as given (the cache key is what keeps a Codex session's prompt cache warm), and
 * the service tier reaches Anthropic and Bedrock as their own tiers, as on the chat edge.
 */
const SAME_NAMED_SETTINGS = [
  'prompt_cache_key',
  'prompt_cache_retention',
  'safety_identifier',
  'service_tier',
] as const;

// --- input -----------------------------------------------------------------------------

/**
 * The chat messages built so far, reasoning waiting for the assistant turn it led to (as
 * blocks, and as text from reasoning_text parts), and images functions returned, waiting
 * for the end of the tool messages they came with.
 */
interface InputTranslation {
  readonly messages: JsonObject[];
  thinking: ThinkingBlock[];
  reasoningTexts: string[];
  toolImages: ChatPart[];
}

/** `input` as chat messages: a string is one user turn; a list is translated item by item. */
function inputMessages(input: unknown): JsonObject[] {
  if (absent(input)) throw missing('input');
  if (typeof input === 'string') return [{ role: 'user', content: input }];
  if (!Array.isArray(input)) throw wrongType('input', 'a string or an array of input items');
  if (input.length === 0) throw badValue('input', 'it must hold at least one item.');
  const translation: InputTranslation = {
    messages: [],
    thinking: [],
    reasoningTexts: [],
    toolImages: [],
  };
  input.forEach((item: unknown, index) => addInputItem(translation, item, `input[${index}]`));
  addToolImages(translation);
  const { messages } = translation;
  if (messages.length === 0) {
    throw badValue('input', 'it holds no message, function call or function call output.');
  }
  return messages;
}

function addInputItem(translation: InputTranslation, item: unknown, at: string): void {
  if (!isObject(item)) throw wrongType(at, 'an object');
  const { messages } = translation;
  // A message may leave out its type ("easy input message").
  const type = absent(item.type) && !absent(item.role) ? 'message' : item.type;
  // Tool outputs of either kind run together; the images they returned follow the run.
  if (type !== 'function_call_output' && type !== 'custom_tool_call_output') {
    addToolImages(translation);
  }
  switch (type) {
    case 'message': {
      const turn = message(item, at);
      messages.push(turn);
      takeThinking(translation, turn);
      return;
    }
    case 'function_call':
      takeThinking(translation, addToolCall(messages, functionCall(item, at)));
      return;
    case 'custom_tool_call':
      takeThinking(translation, addToolCall(messages, customToolCall(item, at)));
      return;
    case 'function_call_output':
    case 'custom_tool_call_output': {
      // Chat answers a call of either kind with a tool message.
      const output = functionOutput(item.output, `${at}.output`);
      messages.push({
        role: 'tool',
        tool_call_id: requiredString(item.call_id, `${at}.call_id`),
        content: output.text,
      });
      translation.toolImages.push(...output.images);
      translation.thinking = [];
      translation.reasoningTexts = [];
      return;
    }
    case 'reasoning': {
      const blocks = reasoningBlocks(item, at);
      translation.thinking.push(...blocks);
      // Blocks of ours hold the text already (an unsigned block, for DeepSeek).
      if (blocks.length === 0) translation.reasoningTexts.push(...reasoningTexts(item.content));
      return;
    }
    case 'item_reference':
      throw error(
        `${at}.type`,
        "Item references are not supported: this gateway looks up no items; send the item itself in 'input', or chain with 'previous_response_id'.",
      );
    default:
      throw badValue(
        `${at}.type`,
        `${JSON.stringify(type ?? null)} items are not supported by this gateway (it takes message, function_call, function_call_output, custom_tool_call, custom_tool_call_output and reasoning).`,
      );
  }
}

const ROLES = new Set(['user', 'system', 'developer', 'assistant']);

function message(item: JsonObject, at: string): JsonObject {
  const role = item.role;
  if (typeof role !== 'string' || !ROLES.has(role)) {
    throw badValue(`${at}.role`, "it must be 'user', 'system', 'developer' or 'assistant'.");
  }
  if (role === 'assistant') return { role, content: assistantText(item.content, `${at}.content`) };
  // 'developer' is OpenAI's newer name for system; not every OpenAI-compatible server knows it.
  const chatRole = role === 'user' ? 'user' : 'system';
  return { role: chatRole, content: inputContent(item.content, `${at}.content`, role === 'user') };
}

type ChatPart = JsonObject;

/**
 * User or system content: a lone text travels as a string, which every server takes.
 * Attachments (images, files) are taken in a user's content only.
 */
function inputContent(
  content: unknown,
  at: string,
  attachmentsAllowed: boolean,
): string | ChatPart[] {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) throw wrongType(at, 'a string or an array of content parts');
  const parts = content.map((part: unknown, index) =>
    inputPart(part, `${at}[${index}]`, attachmentsAllowed),
  );
  const only = parts.length === 1 ? parts[0] : undefined;
  return only?.type === 'text' ? (only.text as string) : parts;
}

function inputPart(part: unknown, at: string, attachmentsAllowed: boolean): ChatPart {
  if (!isObject(part)) throw wrongType(at, 'an object');
  switch (part.type) {
    case 'input_text':
      return { type: 'text', text: requiredString(part.text, `${at}.text`) };
    case 'input_image':
      if (!attachmentsAllowed) {
        throw badValue(`${at}.type`, 'images are only accepted in user messages.');
      }
      return imagePart(part, at);
    case 'input_file':
      if (!attachmentsAllowed) {
        throw badValue(`${at}.type`, 'files are only accepted in user messages.');
      }
      return filePart(part, at);
    default:
      throw badValue(
        `${at}.type`,
        `${JSON.stringify(part.type ?? null)} content is not supported here (use 'input_text'${attachmentsAllowed ? ", 'input_image' or 'input_file'" : ''}).`,
      );
  }
}

/** OpenAI's image detail levels (Responses and chat alike), `original` among them. */
const IMAGE_DETAILS = new Set(['auto', 'low', 'high', 'original']);

/**
 * An image as chat's image_url part. Chat takes an image only as a URL or a data URL,
 * with no place for a file id (its file part, which takes ids, is for documents), so an
 * image's `file_id` is refused: the gateway has no image to send in its place.
 */
function imagePart(part: JsonObject, at: string): ChatPart {
  if (!absent(part.file_id)) {
    throw error(
      `${at}.file_id`,
      "Images by 'file_id' are not supported: this gateway sends requests as chat completions, whose images are a URL or a data URL, not a file id; send the image as 'image_url' (a URL or a data URL).",
    );
  }
  const url = requiredString(part.image_url, `${at}.image_url`);
  const image: JsonObject = { url };
  const detail = optionalString(part.detail, `${at}.detail`);
  if (detail !== undefined) {
    if (!IMAGE_DETAILS.has(detail))
      throw badValue(`${at}.detail`, "it must be 'auto', 'low', 'high' or 'original'.");
    image.detail = detail;
  }
  return { type: 'image_url', image_url: image };
}

/**
 * A file (a PDF, say) as chat's file part: its content inline (`file_data`, a data URL)
 * or by id (`file_id`, a gateway file, made into what the backend takes once the caller
 * is known: see input-files). Chat has no place
 * for a URL to fetch, so `file_url` is refused; a backend that takes no files (all but
 * OpenAI-format ones) refuses the part itself.
 */
function filePart(part: JsonObject, at: string): ChatPart {
  if (!absent(part.file_url)) {
    throw error(
      `${at}.file_url`,
      "File URLs are not supported: this gateway sends files as chat completions, which take a file's content or id; send 'file_data' (a data URL) or 'file_id'.",
    );
  }
  const fileId = optionalString(part.file_id, `${at}.file_id`);
  const fileData = optionalString(part.file_data, `${at}.file_data`);
  if ((fileId === undefined) === (fileData === undefined)) {
    throw badValue(at, "it must carry exactly one of 'file_id' and 'file_data'.");
  }
  const file: JsonObject = fileId !== undefined ? { file_id: fileId } : { file_data: fileData };
  const filename = optionalString(part.filename, `${at}.filename`);
  if (filename !== undefined) file.filename = filename;
  return { type: 'file', file };
}

/** An assistant turn's text: its output_text (or refusal) parts, joined. */
function assistantText(content: unknown, at: string): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) throw wrongType(at, 'a string or an array of content parts');
  return content
    .map((part: unknown, index) => {
      const partAt = `${at}[${index}]`;
      if (!isObject(part)) throw wrongType(partAt, 'an object');
      switch (part.type) {
        case 'output_text':
        case 'input_text':
          return requiredString(part.text, `${partAt}.text`);
        case 'refusal':
          return requiredString(part.refusal, `${partAt}.refusal`);
        default:
          throw badValue(
            `${partAt}.type`,
            `${JSON.stringify(part.type ?? null)} content is not supported in assistant messages (use 'output_text').`,
          );
      }
    })
    .join('');
}

/**
 * The thinking blocks a reasoning item carries back in `encrypted_content` (see
 * encrypted-reasoning.ts); none without it: a summary alone has no place in a chat
 * conversation, the answer it led to stays.
 */
function reasoningBlocks(item: JsonObject, at: string): ThinkingBlock[] {
  const param = `${at}.encrypted_content`;
  const encrypted = optionalString(item.encrypted_content, param);
  if (encrypted === undefined) return [];
  const blocks = decodeReasoning(encrypted);
  if (!blocks) {
    throw badValue(
      param,
      'it is not reasoning this gateway returned; send reasoning items back as they came.',
    );
  }
  return blocks;
}

/**
 * The text of a reasoning item's `reasoning_text` parts (what this gateway gives a backend
 * that wants its reasoning back, see reasoning-text-back); anything else in `content` is
 * not read.
 */
function reasoningTexts(content: unknown): string[] {
  if (!Array.isArray(content)) return [];
  return content.flatMap((part: unknown) =>
    isObject(part) && part.type === 'reasoning_text' && typeof part.text === 'string'
      ? [part.text]
      : [],
  );
}

/**
 * Reasoning belongs to the assistant turn that follows it (the one its function calls or
 * its message build), as `thinking_blocks`, and its text as `reasoning_content` (which
 * the providers' wire gives DeepSeek alone, on tool-call turns); any other turn ends its
 * wait.
 */
function takeThinking(translation: InputTranslation, turn: JsonObject): void {
  const blocks = translation.thinking;
  const texts = translation.reasoningTexts.filter((text) => text !== '');
  translation.thinking = [];
  translation.reasoningTexts = [];
  if (turn.role !== 'assistant') return;
  if (blocks.length > 0) {
    const earlier = (turn.thinking_blocks as ThinkingBlock[] | undefined) ?? [];
    turn.thinking_blocks = [...earlier, ...blocks];
  }
  if (texts.length > 0) {
    const earlier = typeof turn.reasoning_content === 'string' ? [turn.reasoning_content] : [];
    turn.reasoning_content = [...earlier, ...texts].join('\n\n');
  }
}

/** A function call the model made earlier, as a chat tool call. */
function functionCall(item: JsonObject, at: string): JsonObject {
  return {
    id: requiredString(item.call_id, `${at}.call_id`),
    type: 'function',
    function: {
      name: requiredString(item.name, `${at}.name`),
      arguments: requiredString(item.arguments, `${at}.arguments`),
    },
  };
}

/** A custom tool call (free-form `input`, Codex's apply_patch) as chat's custom tool call. */
function customToolCall(item: JsonObject, at: string): JsonObject {
  return {
    id: requiredString(item.call_id, `${at}.call_id`),
    type: 'custom',
    custom: {
      name: requiredString(item.name, `${at}.name`),
      input: requiredString(item.input, `${at}.input`),
    },
  };
}

/**
 * A tool call the model made earlier. Chat carries tool calls on an assistant message:
 * calls that follow an assistant turn (its text, or other calls) join it. Returns the
 * assistant turn that carries it.
 */
function addToolCall(messages: JsonObject[], call: JsonObject): JsonObject {
  const last = messages.at(-1);
  if (last?.role === 'assistant') {
    last.tool_calls = [...((last.tool_calls as JsonObject[] | undefined) ?? []), call];
    if (last.content === '') last.content = null;
    return last;
  }
  const turn: JsonObject = { role: 'assistant', content: null, tool_calls: [call] };
  messages.push(turn);
  return turn;
}

/** A function's output: a string, or text parts (joined) and images (Codex's view_image). */
function functionOutput(output: unknown, at: string): { text: string; images: ChatPart[] } {
  if (absent(output)) throw missing(at);
  if (typeof output === 'string') return { text: output, images: [] };
  if (!Array.isArray(output)) throw wrongType(at, 'a string or an array of content parts');
  const texts: string[] = [];
  const images: ChatPart[] = [];
  output.forEach((part: unknown, index) => {
    const partAt = `${at}[${index}]`;
    if (isObject(part) && part.type === 'input_text') {
      texts.push(requiredString(part.text, `${partAt}.text`));
    } else if (isObject(part) && part.type === 'input_image') {
      images.push(imagePart(part, partAt));
    } else {
      throw badValue(
        `${partAt}.type`,
        "only 'input_text' and 'input_image' parts are accepted in a function's output.",
      );
    }
  });
  return { text: texts.join(''), images };
}

/**
 * A chat tool message carries text only, so images functions returned follow as a user
 * message, once the tool messages end (OpenAI wants every call's answer right after it).
 */
function addToolImages(translation: InputTranslation): void {
  if (translation.toolImages.length === 0) return;
  translation.messages.push({ role: 'user', content: translation.toolImages });
  translation.toolImages = [];
}

// --- reasoning and output format -------------------------------------------------------

/**
 * `reasoning.effort` as chat's `reasoning_effort`, one of the efforts the adapters map
 * (checked here so the 400 names the client's field, not chat's); the backend checks
 * whether its model takes it.
 */
function reasoningEffort(reasoning: unknown): string | undefined {
  if (absent(reasoning)) return undefined;
  if (!isObject(reasoning)) throw wrongType('reasoning', 'an object');
  optionalString(reasoning.summary, 'reasoning.summary'); // the summary is the reasoning we get
  const effort = optionalString(reasoning.effort, 'reasoning.effort');
  if (effort !== undefined && !isReasoningEffort(effort)) {
    throw badValue('reasoning.effort', `it must be one of ${REASONING_EFFORTS.join(', ')}.`);
  }
  return effort;
}

/** The verbosities OpenAI documents for `text.verbosity` (and chat's `verbosity`). */
const TEXT_VERBOSITIES: readonly string[] = ['low', 'medium', 'high'];

/**
 * `text.verbosity` is chat's `verbosity` (GPT-5's answer length), checked here so the 400
 * names the client's field, not chat's; `text` is checked below.
 */
function textVerbosity(text: unknown): string | undefined {
  if (!isObject(text)) return undefined;
  const verbosity = optionalString(text.verbosity, 'text.verbosity');
  if (verbosity !== undefined && !TEXT_VERBOSITIES.includes(verbosity)) {
    throw badValue('text.verbosity', `it must be one of ${TEXT_VERBOSITIES.join(', ')}.`);
  }
  return verbosity;
}

/** `text.format` as chat's `response_format`; plain text is the default and sends nothing. */
function responseFormat(text: unknown): JsonObject | undefined {
  if (absent(text)) return undefined;
  if (!isObject(text)) throw wrongType('text', 'an object');
  const format = text.format;
  if (absent(format)) return undefined;
  if (!isObject(format)) throw wrongType('text.format', 'an object');
  switch (format.type) {
    case 'text':
      return undefined;
    case 'json_object':
      return { type: 'json_object' };
    case 'json_schema': {
      const schema = format.schema;
      if (absent(schema)) throw missing('text.format.schema');
      if (!isObject(schema)) throw wrongType('text.format.schema', 'a JSON Schema object');
      const jsonSchema: JsonObject = {
        name: requiredString(format.name, 'text.format.name'),
        schema,
      };
      const description = optionalString(format.description, 'text.format.description');
      if (description !== undefined) jsonSchema.description = description;
      const strict = optionalBoolean(format.strict, 'text.format.strict');
      if (strict !== undefined) jsonSchema.strict = strict;
      return { type: 'json_schema', json_schema: jsonSchema };
    }
    default:
      throw badValue('text.format.type', "it must be 'text', 'json_object' or 'json_schema'.");
  }
}
