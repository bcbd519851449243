import {
  DataPlaneError,
  DataPlaneErrorCode,
  GEMINI_MODALITIES_EXTRA,
  GEMINI_TOOLS_EXTRA,
  isGeminiBuiltInTool,
  MAX_CHOICES,
  MAX_TOP_LOGPROBS,
  MIN_THINKING_BUDGET,
  SERVED_RESPONSE_MODALITIES,
  type JsonObject,
  type ThinkingBlock,
} from '@aigw/contracts/data-plane';
import { decodeReasoning } from '../../responses/domain/encrypted-reasoning';
import { geminiFileIdIn } from '../files/gemini-file-names';
import { codeExecutionText, isCodeExecutionPart } from './gemini-code-parts';
import { gatewayFilePart } from '../files/gemini-held-files';
import { refuseTooDeepBody } from '../../domain/body-depth';
import { objectRootedSchema } from './gemini-json-root';

// Gemini generateContent requests in the gateway's canonical format (OpenAI chat
// completions), so `/v1beta/models/{model}:generateContent` works against every backend.
// The model comes from the URL; errors name the field at fault as Google's do.

/** What the answer side needs to know about the request it answers. */
export interface GeminiRequestFacts {
  /** The model the client asked for, shown as the answers' `modelVersion`. */
  readonly model: string;
  readonly stream: boolean;
  /** Gemini sends thought summaries only when asked (`thinkingConfig.includeThoughts`). */
  readonly includeThoughts: boolean;
  /**
   * The response schema's root is not an object and was asked for as an object's one
   * property (gemini-json-root): the answer's text is that property's value.
   */
  readonly wrappedJson?: true;
  /**
   * The backend that answered wants a tool-call turn's reasoning text back (DeepSeek,
   * reasoning-text-back): set by the dialect once it is known, never from the request.
   */
  readonly reasoningTextBack?: true;
}

export interface TranslatedGeminiRequest {
  readonly chat: JsonObject;
  readonly facts: GeminiRequestFacts;
}

function invalid(field: string, problem: string): DataPlaneError {
  return new DataPlaneError(
    DataPlaneErrorCode.InvalidRequest,
    `Invalid value at '${field}': ${problem}`,
    {
      param: field,
    },
  );
}

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function present(value: unknown): boolean {
  return value !== undefined && value !== null;
}

function stringAt(value: unknown, field: string): string {
  if (typeof value !== 'string') throw invalid(field, 'a string is required');
  return value;
}

function numberAt(value: unknown, field: string): number | undefined {
  if (!present(value)) return undefined;
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw invalid(field, 'a number is required');
  }
  return value;
}

function listAt(value: unknown, field: string): unknown[] {
  if (!present(value)) return [];
  if (!Array.isArray(value)) throw invalid(field, 'a list is required');
  return value;
}

/** A tool call of a model turn, waiting for the functionResponse that answers it. */
interface PendingCall {
  readonly id: string;
  readonly name: string;
}

/** Everything translating `contents` keeps from one turn to the next. */
interface ContentsState {
  readonly messages: JsonObject[];
  /** The calls not answered yet, oldest first: a response takes the one it names. */
  pending: PendingCall[];
  calls: number;
}

/**
 * Validates a Gemini GenerateContentRequest and translates it into an OpenAI chat body.
 * Throws a DataPlaneError (400) naming the first field at fault.
 */
export function translateGeminiRequest(
  body: unknown,
  call: { readonly model: string; readonly stream: boolean },
): TranslatedGeminiRequest {
  if (!isObject(body)) {
    throw new DataPlaneError(
      DataPlaneErrorCode.InvalidRequest,
      'The request body must be a JSON object',
    );
  }
  // Before the translation, which writes each functionCall's args out as JSON.
  refuseTooDeepBody(body);
  if (call.model.length === 0) throw invalid('model', 'a model name is required');
  if (present(body.cachedContent)) {
    throw invalid('cached_content', 'cached contents are not served by this gateway');
  }
  const state: ContentsState = {
    messages: systemMessages(body.systemInstruction),
    pending: [],
    calls: 0,
  };
  const contents = listAt(body.contents, 'contents');
  if (contents.length === 0) throw invalid('contents', 'at least one content is required');
  contents.forEach((content, index) => translateContent(content, `contents[${index}]`, state));

  const chat: JsonObject = { model: call.model, messages: state.messages };
  if (call.stream) {
    chat.stream = true;
    // The usage chunk carries the thinking and tool-use token counts the last event reports
    // (thoughtsTokenCount, toolUsePromptTokenCount); unasked, adapters leave its usage out.
    chat.stream_options = { include_usage: true };
  }
  const { functions: tools, builtIn } = translateTools(body.tools);
  if (tools.length > 0) chat.tools = tools;
  // Run by Google inside the call: only Gemini backends take them (the router sees to it).
  if (builtIn.length > 0) providerExtras(chat)[GEMINI_TOOLS_EXTRA] = builtIn;
  applyToolConfig(chat, body.toolConfig, tools);
  const { includeThoughts, wrappedJson } = applyGenerationConfig(chat, body.generationConfig);
  applySafetySettings(chat, body.safetySettings);
  // labels have no counterpart: accepted and not applied.
  return {
    chat,
    facts: {
      model: call.model,
      stream: call.stream,
      includeThoughts,
      ...(wrappedJson ? { wrappedJson } : {}),
    },
  };
}

function systemMessages(instruction: unknown): JsonObject[] {
  if (!present(instruction)) return [];
  if (typeof instruction === 'string') {
    return instruction === '' ? [] : [{ role: 'system', content: instruction }];
  }
  if (!isObject(instruction)) throw invalid('system_instruction', 'a Content object is required');
  const texts = listAt(instruction.parts, 'system_instruction.parts').map((part, index) => {
    const at = `system_instruction.parts[${index}]`;
    if (!isObject(part)) throw invalid(at, 'a Part object is required');
    return stringAt(part.text, `${at}.text`);
  });
  const text = texts.filter((t) => t !== '').join('\n\n');
  return text === '' ? [] : [{ role: 'system', content: text }];
}

function translateContent(content: unknown, at: string, state: ContentsState): void {
  if (!isObject(content)) throw invalid(at, 'a Content object is required');
  const role = content.role ?? 'user';
  const parts = listAt(content.parts, `${at}.parts`).map((part, index) => {
    if (!isObject(part)) throw invalid(`${at}.parts[${index}]`, 'a Part object is required');
    return part;
  });
  // As Google refuses it: a turn of nothing is no turn a backend could be sent.
  if (parts.length === 0) throw invalid(`${at}.parts`, 'contents.parts must not be empty');
  switch (role) {
    case 'model':
      modelTurn(parts, `${at}.parts`, state);
      return;
    // `function` is the role older clients gave the turn carrying function responses.
    case 'user':
    case 'function':
      userTurn(parts, `${at}.parts`, state);
      return;
    default:
      throw invalid(`${at}.role`, "the role must be 'user' or 'model'");
  }
}

/**
 * A model turn: its text is the assistant's, its functionCall parts the tool calls, and
 * the images an image model made (inlineData, sent back by the SDKs' chat helpers) image
 * parts among its text, which Gemini backends take back and others refuse by name.
 */
function modelTurn(parts: JsonObject[], at: string, state: ContentsState): void {
  let text = '';
  const content: JsonObject[] = [];
  const endText = () => {
    if (text !== '') content.push({ type: 'text', text });
    text = '';
  };
  const toolCalls: JsonObject[] = [];
  const thinking: ThinkingBlock[] = [];
  parts.forEach((part, index) => {
    const partAt = `${at}[${index}]`;
    if (part.thought === true) return; // thought summaries are not input
    if (present(part.functionCall)) {
      toolCalls.push(toolCall(part, partAt, state, thinking));
    } else if (present(part.text)) {
      text += stringAt(part.text, `${partAt}.text`);
    } else if (isCodeExecutionPart(part)) {
      text += codeExecutionText(part, partAt);
    } else if (present(part.inlineData)) {
      endText();
      content.push(modelImagePart(part.inlineData, `${partAt}.inline_data`));
    } else if (!signatureOnly(part)) {
      throw unsupportedPart(part, partAt, 'model');
    }
  });
  endText();
  if (content.length === 0 && toolCalls.length === 0) return;
  // Text alone travels as a plain string, as it always has (every backend takes one).
  const only = content.length === 1 && content[0].type === 'text' ? content[0].text : undefined;
  const message: JsonObject = {
    role: 'assistant',
    content: content.length === 0 ? null : (only ?? content),
  };
  if (toolCalls.length > 0) message.tool_calls = toolCalls;
  // Anthropic refuses a tool-using turn whose signed reasoning is not sent back as it came.
  if (thinking.length > 0) message.thinking_blocks = thinking;
  state.messages.push(message);
}

function toolCall(
  part: JsonObject,
  at: string,
  state: ContentsState,
  thinking: ThinkingBlock[],
): JsonObject {
  const call = part.functionCall;
  if (!isObject(call)) throw invalid(`${at}.function_call`, 'a FunctionCall object is required');
  const name = stringAt(call.name, `${at}.function_call.name`);
  const args = call.args ?? {};
  if (!isObject(args)) throw invalid(`${at}.function_call.args`, 'an object is required');
  // Gemini names calls only sometimes; the canonical format needs an id to answer them by.
  const id = typeof call.id === 'string' && call.id !== '' ? call.id : `call_gemini_${state.calls}`;
  state.calls += 1;
  state.pending.push({ id, name });
  const canonical: JsonObject = {
    id,
    type: 'function',
    function: { name, arguments: JSON.stringify(args) },
  };
  const signature = part.thoughtSignature;
  if (typeof signature !== 'string' || signature === '') return canonical;
  // The gateway's own signature holds a backend's signed thinking blocks (see the answer
  // side); any other is Gemini's, which Gemini 3 wants back with its call.
  const blocks = decodeReasoning(signature);
  if (blocks) thinking.push(...blocks);
  else canonical.extra_content = { google: { thought_signature: signature } };
  return canonical;
}

/**
 * A user turn: its function responses first, as tool messages (OpenAI wants them right
 * after the assistant's tool calls), then the rest as one user message.
 */
function userTurn(parts: JsonObject[], at: string, state: ContentsState): void {
  const toolMessages: JsonObject[] = [];
  const content: JsonObject[] = [];
  parts.forEach((part, index) => {
    const partAt = `${at}[${index}]`;
    if (present(part.functionResponse)) {
      toolMessages.push(toolResult(part, partAt, state));
      // A tool message carries text only: the images or files the function returned
      // (Gemini 3's multimodal function responses) follow as user content.
      content.push(...functionResponseMedia(part.functionResponse, `${partAt}.function_response`));
    } else if (present(part.text))
      content.push({ type: 'text', text: stringAt(part.text, `${partAt}.text`) });
    else if (present(part.inlineData))
      content.push(inlinePart(part.inlineData, `${partAt}.inline_data`));
    else if (present(part.fileData)) content.push(filePart(part.fileData, `${partAt}.file_data`));
    else throw unsupportedPart(part, partAt, 'user');
  });
  state.messages.push(...toolMessages);
  if (content.length === 0) return;
  const only = content.length === 1 ? content[0] : undefined;
  // A lone text travels as a plain string, which every OpenAI-compatible server takes.
  state.messages.push({ role: 'user', content: only?.type === 'text' ? only.text : content });
}

function toolResult(part: JsonObject, at: string, state: ContentsState): JsonObject {
  const result = part.functionResponse;
  if (!isObject(result)) {
    throw invalid(`${at}.function_response`, 'a FunctionResponse object is required');
  }
  const name = stringAt(result.name, `${at}.function_response.name`);
  const id = typeof result.id === 'string' && result.id !== '' ? result.id : undefined;
  // Gemini matches a response to its call by id when both have one, else by name.
  const byId = id === undefined ? -1 : state.pending.findIndex((call) => call.id === id);
  const index = byId !== -1 ? byId : state.pending.findIndex((call) => call.name === name);
  if (index === -1) {
    throw invalid(
      `${at}.function_response.name`,
      `no functionCall to '${name}' before it is waiting for a response`,
    );
  }
  const [answered] = state.pending.splice(index, 1);
  const response = result.response ?? {};
  if (!isObject(response))
    throw invalid(`${at}.function_response.response`, 'an object is required');
  return { role: 'tool', tool_call_id: answered.id, content: JSON.stringify(response) };
}

/** A function response's own parts (inlineData or fileData), as content parts. */
function functionResponseMedia(result: unknown, at: string): JsonObject[] {
  if (!isObject(result)) return [];
  return listAt(result.parts, `${at}.parts`).map((part, index) => {
    const partAt = `${at}.parts[${index}]`;
    if (!isObject(part)) throw invalid(partAt, 'a FunctionResponsePart object is required');
    if (present(part.inlineData)) return inlinePart(part.inlineData, `${partAt}.inline_data`);
    if (present(part.fileData)) return filePart(part.fileData, `${partAt}.file_data`);
    throw invalid(partAt, 'inline_data or file_data is required');
  });
}

/** An image a model turn carries (an image model's answer): images only, as Gemini makes. */
function modelImagePart(inline: unknown, at: string): JsonObject {
  if (isObject(inline) && typeof inline.mimeType === 'string') {
    if (!inline.mimeType.startsWith('image/')) {
      throw invalid(
        `${at}.mime_type`,
        `'${inline.mimeType.slice(0, 64)}' in a model turn is not served by this gateway (a model turn's inline_data may be images only)`,
      );
    }
  }
  return inlinePart(inline, at);
}

/** Audio formats OpenAI's `input_audio` takes, by MIME type. */
const AUDIO_FORMATS: Readonly<Record<string, string>> = {
  'audio/wav': 'wav',
  'audio/x-wav': 'wav',
  'audio/mp3': 'mp3',
  'audio/mpeg': 'mp3',
};

function inlinePart(inline: unknown, at: string): JsonObject {
  if (!isObject(inline)) throw invalid(at, 'a Blob object is required');
  const mimeType = stringAt(inline.mimeType, `${at}.mime_type`);
  const data = stringAt(inline.data, `${at}.data`);
  if (data === '') throw invalid(`${at}.data`, 'the data is empty');
  if (mimeType.startsWith('image/')) {
    return { type: 'image_url', image_url: { url: `data:${mimeType};base64,${data}` } };
  }
  if (mimeType === 'application/pdf') {
    return { type: 'file', file: { file_data: `data:${mimeType};base64,${data}` } };
  }
  const format = AUDIO_FORMATS[mimeType];
  if (format) return { type: 'input_audio', input_audio: { data, format } };
  throw invalid(
    `${at}.mime_type`,
    `'${mimeType}' is not served by this gateway (images, application/pdf, audio/wav and audio/mpeg are)`,
  );
}

/**
 * A file by URI: a file uploaded through the gateway's Files API (its `files/aigw-…` name
 * or URI), made into the backend's own once the caller is known (see gemini-held-files);
 * else an image link, which OpenAI-family backends fetch themselves.
 */
function filePart(file: unknown, at: string): JsonObject {
  if (!isObject(file)) throw invalid(at, 'a FileData object is required');
  const uri = stringAt(file.fileUri, `${at}.file_uri`);
  const mimeType = typeof file.mimeType === 'string' ? file.mimeType : '';
  const held = geminiFileIdIn(uri);
  if (held !== undefined) return gatewayFilePart(held, mimeType);
  if (!/^https?:\/\//.test(uri) || (mimeType !== '' && !mimeType.startsWith('image/'))) {
    throw invalid(
      `${at}.file_uri`,
      'only image links (http or https) are served by this gateway; send other files as inline_data',
    );
  }
  return { type: 'image_url', image_url: { url: uri } };
}

/**
 * A part holding only a thoughtSignature (Gemini 3 may end a turn with one, and clients
 * send the turn back as it came): nothing a backend other than Gemini could read.
 */
function signatureOnly(part: JsonObject): boolean {
  return Object.keys(part).every((key) => key === 'thoughtSignature' || key === 'thought');
}

function unsupportedPart(part: JsonObject, at: string, role: string): DataPlaneError {
  const kind = Object.keys(part).find((key) => key !== 'thoughtSignature' && key !== 'thought');
  return invalid(
    at,
    kind === undefined
      ? 'the part is empty'
      : `'${kind}' parts in ${role} turns are not served by this gateway`,
  );
}

/** A Tool field's name as proto3 JSON also spells it (`google_search`), in camel case. */
function camelCase(field: string): string {
  return field.replace(/_([a-z])/g, (_, letter: string) => letter.toUpperCase());
}

/** The snake-case name Google's errors give a field (`googleSearch` is `google_search`). */
function snakeCase(field: string): string {
  return field.replace(/[A-Z]/g, (letter) => `_${letter.toLowerCase()}`);
}

/**
 * The tools: function declarations as canonical function tools, and Gemini's built-in
 * tools (googleSearch, googleSearchRetrieval, codeExecution, urlContext), each a Tool
 * object of its one field, its configuration as sent. Other tools are a 400 naming them.
 */
function translateTools(tools: unknown): { functions: JsonObject[]; builtIn: JsonObject[] } {
  const out: JsonObject[] = [];
  const builtIn: JsonObject[] = [];
  listAt(tools, 'tools').forEach((tool, index) => {
    const at = `tools[${index}]`;
    if (!isObject(tool)) throw invalid(at, 'a Tool object is required');
    for (const [key, value] of Object.entries(tool)) {
      const field = camelCase(key);
      if (field === 'functionDeclarations') continue;
      if (!isGeminiBuiltInTool(field)) {
        throw invalid(
          `${at}.${snakeCase(field)}`,
          `the '${field}' tool is not run by this gateway; declare functions in functionDeclarations, or use googleSearch, googleSearchRetrieval, codeExecution or urlContext`,
        );
      }
      if (!isObject(value)) throw invalid(`${at}.${snakeCase(field)}`, 'an object is required');
      builtIn.push({ [field]: value });
    }
    const declarations = tool.functionDeclarations ?? tool.function_declarations;
    listAt(declarations, `${at}.function_declarations`).forEach((fn, i) => {
      const fnAt = `${at}.function_declarations[${i}]`;
      if (!isObject(fn)) throw invalid(fnAt, 'a FunctionDeclaration object is required');
      const name = stringAt(fn.name, `${fnAt}.name`);
      if (!/^[a-zA-Z_][a-zA-Z0-9_.:-]{0,63}$/.test(name)) {
        throw invalid(`${fnAt}.name`, 'the name must match ^[a-zA-Z_][a-zA-Z0-9_.:-]{0,63}$');
      }
      const definition: JsonObject = { name, parameters: parametersOf(fn, fnAt) };
      if (present(fn.description))
        definition.description = stringAt(fn.description, `${fnAt}.description`);
      out.push({ type: 'function', function: definition });
    });
  });
  return { functions: out, builtIn };
}

/** `parametersJsonSchema` is JSON Schema as is; `parameters` Google's OpenAPI subset. */
function parametersOf(fn: JsonObject, at: string): JsonObject {
  if (present(fn.parametersJsonSchema)) {
    if (!isObject(fn.parametersJsonSchema)) {
      throw invalid(`${at}.parameters_json_schema`, 'an object is required');
    }
    return fn.parametersJsonSchema;
  }
  if (!present(fn.parameters)) return { type: 'object', properties: {} };
  if (!isObject(fn.parameters)) throw invalid(`${at}.parameters`, 'a Schema object is required');
  return jsonSchemaOf(fn.parameters, `${at}.parameters`);
}

/** Keywords of Google's Schema that JSON Schema has not, and OpenAI's servers may refuse. */
const GOOGLE_ONLY = new Set(['nullable', 'propertyOrdering']);

/**
 * Google's Schema bounds that are int64s, which proto3 JSON writes as strings (and
 * @google/genai types as `string`): JSON Schema wants numbers, and OpenAI, Anthropic and
 * Gemini's own `responseJsonSchema` refuse or ignore `"minItems": "1"`.
 */
const INT64_BOUNDS = new Set([
  'minItems',
  'maxItems',
  'minLength',
  'maxLength',
  'minProperties',
  'maxProperties',
]);

/** An int64 bound as a number: a whole number of at least 0, or its decimal string. */
function boundAt(value: unknown, at: string): number {
  if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0) return value;
  if (typeof value === 'string' && /^\d{1,15}$/.test(value)) return Number(value);
  throw invalid(at, 'a whole number of at least 0 is required');
}

/**
 * Google's OpenAPI-style Schema as JSON Schema: its upper-case types (`OBJECT`) in lower
 * case, `nullable` as a `null` type, int64 bounds as numbers, the nested schemas likewise.
 * `at` is the schema's field, for a 400 naming what is wrong in it.
 */
export function jsonSchemaOf(schema: JsonObject, at = 'schema'): JsonObject {
  const out: JsonObject = {};
  for (const [key, value] of Object.entries(schema)) {
    if (GOOGLE_ONLY.has(key)) continue;
    const keyAt = `${at}.${snakeCase(key)}`;
    if (key === 'type' && typeof value === 'string') out.type = value.toLowerCase();
    else if (INT64_BOUNDS.has(key)) {
      // proto3 JSON reads null as the field unset.
      if (present(value)) out[key] = boundAt(value, keyAt);
    } else if ((key === 'items' || key === 'additionalProperties') && isObject(value)) {
      out[key] = jsonSchemaOf(value, keyAt);
    } else if (key === 'properties' && isObject(value)) {
      out.properties = Object.fromEntries(
        Object.entries(value).map(([name, sub]) => [
          name,
          isObject(sub) ? jsonSchemaOf(sub, `${keyAt}[${name}]`) : sub,
        ]),
      );
    } else if ((key === 'anyOf' || key === 'oneOf' || key === 'allOf') && Array.isArray(value)) {
      out[key] = (value as unknown[]).map((sub, index) =>
        isObject(sub) ? jsonSchemaOf(sub, `${keyAt}[${index}]`) : sub,
      );
    } else out[key] = value;
  }
  numericEnum(out);
  if (schema.nullable === true && typeof out.type === 'string') out.type = [out.type, 'null'];
  return out;
}

/**
 * Google's `enum` is a list of strings whatever the type (apartment numbers as INTEGER:
 * `["101", "201"]`); under an integer or number type JSON Schema wants the numbers, else
 * no value could match both.
 */
function numericEnum(out: JsonObject): void {
  if (out.type !== 'integer' && out.type !== 'number') return;
  if (!Array.isArray(out.enum)) return;
  const values: unknown[] = out.enum;
  const numbers = values.map((value) => (typeof value === 'string' ? Number(value) : value));
  const allNumeric = values.every(
    (value, index) =>
      typeof value !== 'string' || (value.trim() !== '' && Number.isFinite(numbers[index])),
  );
  if (allNumeric) out.enum = numbers;
}

function applyToolConfig(chat: JsonObject, config: unknown, tools: JsonObject[]): void {
  if (!present(config)) return;
  if (!isObject(config)) throw invalid('tool_config', 'a ToolConfig object is required');
  const calling = config.functionCallingConfig;
  if (!present(calling)) return;
  if (!isObject(calling)) {
    throw invalid(
      'tool_config.function_calling_config',
      'a FunctionCallingConfig object is required',
    );
  }
  const allowed = listAt(
    calling.allowedFunctionNames,
    'tool_config.function_calling_config.allowed_function_names',
  ).map((name, index) =>
    stringAt(name, `tool_config.function_calling_config.allowed_function_names[${index}]`),
  );
  const mode = calling.mode ?? 'AUTO';
  switch (mode) {
    case 'AUTO':
    case 'MODE_UNSPECIFIED':
      if (tools.length > 0) chat.tool_choice = 'auto';
      return;
    // A call or text, as AUTO; its calls only to the allowed functions, as ANY's are.
    case 'VALIDATED':
      if (allowed.length > 0) chat.tools = allowedTools(tools, allowed);
      if (tools.length > 0) chat.tool_choice = 'auto';
      return;
    case 'NONE':
      if (tools.length > 0) chat.tool_choice = 'none';
      return;
    case 'ANY': {
      if (tools.length === 0) {
        throw invalid(
          'tool_config.function_calling_config.mode',
          'ANY needs function declarations in tools',
        );
      }
      // One name is OpenAI's named tool choice; several narrow the tools offered.
      if (allowed.length === 1) {
        allowedTools(tools, allowed); // refuses a name declared nowhere
        chat.tool_choice = { type: 'function', function: { name: allowed[0] } };
        return;
      }
      if (allowed.length > 1) chat.tools = allowedTools(tools, allowed);
      chat.tool_choice = 'required';
      return;
    }
    default:
      throw invalid(
        'tool_config.function_calling_config.mode',
        "the mode must be 'AUTO', 'ANY', 'NONE' or 'VALIDATED'",
      );
  }
}

/** The declared tools allowedFunctionNames names; a name declared nowhere is a 400. */
function allowedTools(tools: JsonObject[], allowed: string[]): JsonObject[] {
  const nameOf = (tool: JsonObject) => (tool.function as JsonObject).name as string;
  const known = new Set(tools.map(nameOf));
  const unknown = allowed.find((name) => !known.has(name));
  if (unknown !== undefined) {
    throw invalid(
      'tool_config.function_calling_config.allowed_function_names',
      `no function named '${unknown}' is declared`,
    );
  }
  return tools.filter((tool) => allowed.includes(nameOf(tool)));
}

/** Gemini 3's thinking levels, which are OpenAI's reasoning efforts by the same names. */
const THINKING_LEVELS = new Set(['minimal', 'low', 'medium', 'high']);

/**
 * The gateway's `provider_extras` (see the providers' provider-extras): settings OpenAI's
 * shape has no place for, which Gemini and Vertex backends take as they came (Claude
 * backends take top_k) and the others leave unapplied.
 */
function providerExtras(chat: JsonObject): JsonObject {
  const extras = (chat.provider_extras ?? {}) as JsonObject;
  chat.provider_extras = extras;
  return extras;
}

/** safetySettings, each a SafetySetting object, for the backends that apply them. */
function applySafetySettings(chat: JsonObject, value: unknown): void {
  const settings = listAt(value, 'safety_settings').map((setting, index) => {
    if (!isObject(setting))
      throw invalid(`safety_settings[${index}]`, 'a SafetySetting object is required');
    return setting;
  });
  if (settings.length > 0) providerExtras(chat).safety_settings = settings;
}

/**
 * candidateCount as OpenAI's `n`; its answers' choices come back as the candidates, in a
 * JSON answer or a stream (each choice's chunks as the candidate of its index). A backend
 * that answers one choice (Claude) refuses more.
 */
function applyCandidateCount(chat: JsonObject, value: unknown): void {
  const at = 'generation_config.candidate_count';
  const candidates = numberAt(value, at);
  if (candidates === undefined || candidates === 1) return;
  if (!Number.isInteger(candidates) || candidates < 1 || candidates > MAX_CHOICES) {
    throw invalid(at, `a whole number from 1 to ${MAX_CHOICES} is required`);
  }
  chat.n = candidates;
}

/**
 * Applies generationConfig; says whether thought summaries were asked for, and whether
 * the response schema was wrapped in an object.
 */
function applyGenerationConfig(
  chat: JsonObject,
  value: unknown,
): { includeThoughts: boolean; wrappedJson: boolean } {
  if (!present(value)) return { includeThoughts: false, wrappedJson: false };
  if (!isObject(value)) throw invalid('generation_config', 'a GenerationConfig object is required');
  const at = (field: string) => `generation_config.${field}`;
  applyCandidateCount(chat, value.candidateCount);
  const temperature = numberAt(value.temperature, at('temperature'));
  if (temperature !== undefined) chat.temperature = temperature;
  const topP = numberAt(value.topP, at('top_p'));
  if (topP !== undefined) chat.top_p = topP;
  const topK = numberAt(value.topK, at('top_k'));
  if (topK !== undefined) {
    // Google's top_k is an int32 and refuses a fraction; so do Claude and Cohere.
    if (!Number.isInteger(topK) || topK < 0) {
      throw invalid(at('top_k'), 'a whole number of at least 0 is required');
    }
    providerExtras(chat).top_k = topK;
  }
  const maxTokens = numberAt(value.maxOutputTokens, at('max_output_tokens'));
  if (maxTokens !== undefined) {
    if (!Number.isInteger(maxTokens) || maxTokens < 1) {
      throw invalid(at('max_output_tokens'), 'a whole number of at least 1 is required');
    }
    chat.max_tokens = maxTokens;
  }
  const stop = listAt(value.stopSequences, at('stop_sequences')).map((s, i) =>
    stringAt(s, at(`stop_sequences[${i}]`)),
  );
  if (stop.length > 0) chat.stop = stop;
  const presence = numberAt(value.presencePenalty, at('presence_penalty'));
  if (presence !== undefined) chat.presence_penalty = presence;
  const frequency = numberAt(value.frequencyPenalty, at('frequency_penalty'));
  if (frequency !== undefined) chat.frequency_penalty = frequency;
  const seed = numberAt(value.seed, at('seed'));
  if (seed !== undefined) chat.seed = seed;
  applyLogprobs(chat, value);
  applyResponseModalities(chat, value.responseModalities);
  const format = responseFormat(value);
  if (format) chat.response_format = format.format;
  return {
    includeThoughts: applyThinking(chat, value.thinkingConfig),
    wrappedJson: format?.wrapped === true,
  };
}

/**
 * responseModalities (upper-cased) for Gemini and Vertex Gemini backends (an image model's
 * ["TEXT", "IMAGE"]); IMAGE sends the request to those backends only (the router sees to
 * it). AUDIO is not served.
 */
function applyResponseModalities(chat: JsonObject, value: unknown): void {
  const at = 'generation_config.response_modalities';
  const modalities = listAt(value, at).map((modality, index) => {
    // Google's Python examples write ['Text', 'Image']: the names are read in any case.
    const name = typeof modality === 'string' ? modality.toUpperCase() : undefined;
    if (name === undefined || !SERVED_RESPONSE_MODALITIES.has(name)) {
      throw invalid(`${at}[${index}]`, 'only TEXT and IMAGE output are served by this gateway');
    }
    return name;
  });
  if (modalities.length > 0) providerExtras(chat)[GEMINI_MODALITIES_EXTRA] = modalities;
}

/**
 * responseLogprobs as OpenAI's logprobs, and the number of top candidates at each step
 * (`logprobs`, which means nothing without responseLogprobs) as its top_logprobs.
 */
function applyLogprobs(chat: JsonObject, config: JsonObject): void {
  const asked = config.responseLogprobs;
  if (present(asked) && typeof asked !== 'boolean') {
    throw invalid('generation_config.response_logprobs', 'a boolean is required');
  }
  const top = numberAt(config.logprobs, 'generation_config.logprobs');
  if (top !== undefined && (!Number.isInteger(top) || top < 0 || top > MAX_TOP_LOGPROBS)) {
    throw invalid(
      'generation_config.logprobs',
      `a whole number from 0 to ${MAX_TOP_LOGPROBS} is required`,
    );
  }
  if (asked !== true) return;
  chat.logprobs = true;
  if (top !== undefined && top > 0) chat.top_logprobs = top;
}

/**
 * responseMimeType and its schema as OpenAI's response_format; a schema whose root is not
 * an object is asked for wrapped in one (gemini-json-root).
 */
function responseFormat(config: JsonObject): { format: JsonObject; wrapped: boolean } | undefined {
  const mime = config.responseMimeType;
  const schema = config.responseJsonSchema ?? config.responseSchema;
  if (!present(mime) || mime === 'text/plain') {
    if (present(schema)) {
      throw invalid('generation_config.response_mime_type', "a schema needs 'application/json'");
    }
    return undefined;
  }
  if (mime !== 'application/json') {
    throw invalid(
      'generation_config.response_mime_type',
      "only 'text/plain' and 'application/json' are served by this gateway",
    );
  }
  if (!present(schema)) return { format: { type: 'json_object' }, wrapped: false };
  if (!isObject(schema))
    throw invalid('generation_config.response_schema', 'a schema object is required');
  const asked = objectRootedSchema(
    present(config.responseJsonSchema)
      ? schema
      : jsonSchemaOf(schema, 'generation_config.response_schema'),
  );
  return {
    format: { type: 'json_schema', json_schema: { name: 'response', schema: asked.schema } },
    wrapped: asked.wrapped,
  };
}

function applyThinking(chat: JsonObject, value: unknown): boolean {
  if (!present(value)) return false;
  if (!isObject(value)) {
    throw invalid('generation_config.thinking_config', 'a ThinkingConfig object is required');
  }
  const level = value.thinkingLevel;
  if (present(level)) {
    const effort = typeof level === 'string' ? level.toLowerCase() : '';
    if (!THINKING_LEVELS.has(effort)) {
      throw invalid(
        'generation_config.thinking_config.thinking_level',
        "the level must be 'MINIMAL', 'LOW', 'MEDIUM' or 'HIGH'",
      );
    }
    chat.reasoning_effort = effort;
  }
  const budget = numberAt(
    value.thinkingBudget,
    'generation_config.thinking_config.thinking_budget',
  );
  if (budget !== undefined) {
    if (!Number.isInteger(budget) || budget < -1) {
      throw invalid(
        'generation_config.thinking_config.thinking_budget',
        'a whole number of tokens, 0 (off) or -1 (dynamic) is required',
      );
    }
    if (present(level)) {
      throw invalid(
        'generation_config.thinking_config',
        'thinking_budget and thinking_level cannot both be set',
      );
    }
    // -1 is Gemini's dynamic thinking: the canonical request's adaptive thinking. A
    // client that asked for its thoughts is asked them summarized (Claude from Opus 4.7
    // leaves them out unless asked); one that did not, the model's default.
    if (budget === -1) {
      chat.thinking = {
        type: 'adaptive',
        ...(value.includeThoughts === true ? { display: 'summarized' } : {}),
      };
    } else if (budget === 0) chat.thinking = { type: 'disabled' };
    else {
      chat.thinking = { type: 'enabled', budget_tokens: Math.max(budget, MIN_THINKING_BUDGET) };
      // Gemini takes budgets under the canonical floor (2.5 Flash from 1, Pro from 128):
      // its backends get the client's own, the floor being what admission holds.
      if (budget < MIN_THINKING_BUDGET) providerExtras(chat).thinking_budget = budget;
    }
  }
  const includeThoughts = value.includeThoughts === true;
  // Thoughts asked for alone: Gemini's models think by default and show it only when
  // asked, which nothing in the canonical request says when it asks no thinking.
  if (includeThoughts && !present(level) && budget === undefined) {
    providerExtras(chat).include_thoughts = true;
  }
  return includeThoughts;
}
