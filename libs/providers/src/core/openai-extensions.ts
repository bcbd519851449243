import {
  anthropicServerToolsAsked,
  asksImageOutput,
  geminiToolsAsked,
  inferenceGeoAsked,
  isServerToolBlockType,
  normalizedThinkingBlock,
  type JsonObject,
} from '@aigw/contracts/data-plane';
import {
  assistantImageRefused,
  isAssistantImage,
  documentCitationsRefused,
  imageUrlRefused,
  documentUrlsRefused,
  failedToolText,
  geminiToolRefused,
  heldFileRefused,
  imageOutputRefused,
  serverToolBlockRefused,
  serverToolRefused,
} from './chat-request';
import { isJsonObject } from './json-shape';
import { inferenceGeoRefused } from './provider-extras';
import { idWithoutSignature, SIGNATURE_ID_SEPARATOR } from './tool-call-signature-id';

// The gateway's canonical request is OpenAI's chat request extended the way LiteLLM and
// DeepSeek extend it: Anthropic's `cache_control` marks on parts, messages and tools,
// Anthropic's `thinking` and `output_config` (a Messages client's effort), and the reasoning an assistant turn carries back (`thinking_blocks`,
// `reasoning_content`), and, the way Google's OpenAI-compatible endpoint extends it, a
// Gemini thought signature on an assistant turn's tool call
// (`extra_content.google.thought_signature`), and the settings only some providers take
// (`provider_extras`: see provider-extras), and Anthropic's `is_error` on a tool message
// (a failed tool's output). An OpenAI-format backend gets the client's
// body as it came minus these: OpenAI refuses a field it does not know ("Unrecognized
// request argument"). DeepSeek alone gets back the `reasoning_content` of tool-call turns:
// its thinking mode answers 400 without it (older models refused it on any turn); a turn
// that carries its reasoning as `thinking_blocks` only (as the Messages edge sends it)
// gives their text as it. DeepSeek also gets `thinking` as its own on/off toggle.
// `reasoning_effort` is OpenAI's own field and passes as it is.

/** What the backend takes of the extensions: Google's tool-call extras, DeepSeek's reasoning. */
export interface ExtensionStripping {
  /**
   * Keep tool calls' `extra_content`: the backend is Google's own OpenAI-compatible
   * endpoint, where it is Google's field and Gemini 3 needs the signature back.
   */
  readonly keepsToolCallExtras?: boolean;
  /**
   * Keep `reasoning_content` on assistant turns that call tools: DeepSeek's thinking mode
   * answers 400 when such a turn comes back without it.
   */
  readonly keepsToolTurnReasoning?: boolean;
  /**
   * Send `thinking` as the backend's own on/off toggle, `{"type": "enabled" | "disabled"}`
   * (DeepSeek, whose thinking mode is on by default): without it a client that turned
   * thinking off is answered, and billed, with reasoning all the same.
   */
  readonly takesThinkingToggle?: boolean;
}

const STRIP_ALL: ExtensionStripping = {};

/**
 * The body without the gateway's extensions. The same object when it has none, as it
 * usually has not: this runs on every call to the OpenAI family, so it allocates nothing
 * then (the wire passes its endpoint as `keep`).
 */
export function withoutGatewayExtensions(
  body: JsonObject,
  keep: ExtensionStripping = STRIP_ALL,
  backendName = '',
): JsonObject {
  refuseUnsendableParts(body.messages, backendName);
  if (!hasGatewayExtensions(body, keep)) return body;
  // Gemini's built-in tools are refused, not stripped: the answer would lack the search.
  const [geminiTool] = 'provider_extras' in body ? geminiToolsAsked(body) : [];
  if (geminiTool !== undefined) throw geminiToolRefused(geminiTool);
  // Likewise Anthropic's server tools: the answer would lack the search.
  const [serverTool] = 'provider_extras' in body ? anthropicServerToolsAsked(body) : [];
  if (serverTool !== undefined) throw serverToolRefused(serverTool);
  // And image output, which no OpenAI-format backend answers (its answer is text only).
  if ('provider_extras' in body && asksImageOutput(body)) throw imageOutputRefused();
  // And a Messages client's inference geography, which no OpenAI-format backend keeps.
  // Read alone: the other extras are stripped unread, as no OpenAI-format backend takes them.
  if ('provider_extras' in body && inferenceGeoAsked(body) !== undefined) {
    throw inferenceGeoRefused();
  }
  const {
    thinking: _thinking,
    output_config: _outputConfig,
    provider_extras: _providerExtras,
    ...copy
  } = body;
  if (Array.isArray(body.messages)) {
    copy.messages = body.messages.map((message) => plainMessage(message, keep));
  }
  if (Array.isArray(body.tools)) copy.tools = body.tools.map((tool) => unmarked(unstrict(tool)));
  const toggle = keep.takesThinkingToggle === true ? thinkingToggle(body.thinking) : undefined;
  if (toggle !== undefined) copy.thinking = toggle;
  return copy;
}

/**
 * A canonical `thinking` (checked at the edge) as an on/off toggle: a budget or adaptive
 * thinking is on, at the backend's own depth (its `reasoning_effort`, which passes as sent).
 */
function thinkingToggle(thinking: unknown): JsonObject | undefined {
  const type = isJsonObject(thinking) ? thinking.type : undefined;
  if (type === 'disabled') return { type: 'disabled' };
  return type === 'enabled' || type === 'adaptive' ? { type: 'enabled' } : undefined;
}

/**
 * Content parts no OpenAI-format backend may be sent. File parts only the gateway writes: a
 * PDF by URL (`file.file_url`, a Messages client's URL document), which only Anthropic's
 * own API fetches (refused by name, never fetched here), a document that asks to be cited
 * (`file.citations`, which only Anthropic does), and a file another backend holds
 * (`file.file_id` beside `file.held_by`, a Gemini file whose call came past the router's
 * pin to its holder), whose URI must not reach this provider. And an Anthropic server
 * tool's call or result, which only Anthropic reads.
 */
function refuseUnsendableParts(messages: unknown, backendName: string): void {
  if (!Array.isArray(messages)) return;
  messages.forEach((message: unknown, index) => {
    const content = isJsonObject(message) ? message.content : undefined;
    if (!Array.isArray(content)) return;
    const assistant = (message as JsonObject).role === 'assistant';
    content.forEach((part: unknown, at) => {
      // An image model's image sent back (a Gemini client's model turn): OpenAI's chat API
      // takes text and refusals in assistant turns, nothing else.
      if (assistant && isAssistantImage(part)) {
        throw assistantImageRefused(`messages[${index}].content[${at}]`);
      }
      // An Anthropic server tool's call or result (a Messages client's history) is
      // Anthropic's to read: no OpenAI-format backend takes one.
      if (isJsonObject(part) && isServerToolBlockType(part.type)) {
        throw serverToolBlockRefused(part, `messages[${index}].content[${at}]`);
      }
      // An image URL of another scheme (file://, gopher://): refused as the translating
      // adapters refuse it, never handed to a self-hosted server that fetches image URLs.
      if (isJsonObject(part) && part.type === 'image_url' && !sendableImageUrl(part.image_url)) {
        throw imageUrlRefused(`messages[${index}].content[${at}].image_url.url`);
      }
      // A Messages client's cited text document (a text part's `document`): likewise.
      if (isJsonObject(part) && part.type === 'text' && 'document' in part) {
        throw documentCitationsRefused(`messages[${index}].content[${at}].document.citations`);
      }
      const file = isJsonObject(part) && part.type === 'file' ? part.file : undefined;
      if (!isJsonObject(file)) return;
      if ('file_url' in file) {
        throw documentUrlsRefused(`messages[${index}].content[${at}].file.file_url`);
      }
      // A Messages client's document that asks to be cited: no OpenAI-format backend cites.
      if ('citations' in file) {
        throw documentCitationsRefused(`messages[${index}].content[${at}].file.citations`);
      }
      // Only the part the edge made for a held file (its URI, `file_id`, beside `held_by`),
      // the one rule the router's pin and the adapters read too: a client's own `held_by`
      // (no `file_id`: every edge resolves or refuses a client's) names no holder and goes
      // on as the client wrote it, never a 503 naming the backend this call was sent to.
      const heldBy = file.held_by;
      if (typeof file.file_id === 'string' && isJsonObject(heldBy)) {
        throw heldFileRefused(String(heldBy.backend), backendName);
      }
    });
  });
}

/** An image part's URL as OpenAI takes one: http(s), or a data URL. */
function sendableImageUrl(image: unknown): boolean {
  const url = isJsonObject(image) ? image.url : image;
  return typeof url === 'string' && /^(https?:\/\/|data:)/i.test(url);
}

/** A cheap look for any extension, field names only (no serializing). */
function hasGatewayExtensions(body: JsonObject, keep: ExtensionStripping): boolean {
  if ('thinking' in body || 'output_config' in body || 'provider_extras' in body) return true;
  if (Array.isArray(body.tools) && body.tools.some((tool) => isMarked(tool) || isStrict(tool))) {
    return true;
  }
  return (
    Array.isArray(body.messages) &&
    body.messages.some((message) => messageHasExtensions(message, keep))
  );
}

function messageHasExtensions(message: unknown, keep: ExtensionStripping): boolean {
  if (!isJsonObject(message)) return false;
  const stripExtras = keep.keepsToolCallExtras !== true;
  return (
    'cache_control' in message ||
    'thinking_blocks' in message ||
    ('reasoning_content' in message && !keepsReasoning(message, keep)) ||
    carriesReasoningByOtherName(message) ||
    'is_error' in message ||
    (Array.isArray(message.content) && message.content.some(isMarked)) ||
    (Array.isArray(message.tool_calls) &&
      message.tool_calls.some(
        (call) => (stripExtras && hasExtraContent(call)) || hasSignedId(call) || isMarked(call),
      )) ||
    (typeof message.tool_call_id === 'string' &&
      message.tool_call_id.includes(SIGNATURE_ID_SEPARATOR))
  );
}

/** A message without the fields only the gateway reads; the same one when it has none. */
function plainMessage(message: unknown, keep: ExtensionStripping): unknown {
  if (!messageHasExtensions(message, keep)) return message;
  const stripExtras = keep.keepsToolCallExtras !== true;
  const {
    cache_control: _mark,
    thinking_blocks: blocks,
    reasoning_content: reasoning,
    is_error: isError,
    ...rest
  } = message as JsonObject;
  const byOtherName = carriesReasoningByOtherName(message as JsonObject);
  const otherName = byOtherName ? rest.reasoning : undefined;
  if (byOtherName) delete rest.reasoning;
  if (keepsReasoning(message as JsonObject, keep)) {
    const kept = reasoning ?? otherName ?? thinkingText(blocks);
    if (kept !== undefined) rest.reasoning_content = kept;
  }
  if (Array.isArray(rest.content)) rest.content = rest.content.map(unmarked);
  if (isError === true) rest.content = withErrorPrefix(rest.content);
  if (Array.isArray(rest.tool_calls)) {
    rest.tool_calls = rest.tool_calls.map((call) =>
      unmarked(shortId(stripExtras ? withoutExtraContent(call) : call)),
    );
  }
  if (typeof rest.tool_call_id === 'string')
    rest.tool_call_id = idWithoutSignature(rest.tool_call_id);
  return rest;
}

/**
 * Whether an assistant turn carries its reasoning back as `reasoning`, the name vLLM (from
 * 0.11), Groq, Ollama and OpenRouter answer it by: not a field of OpenAI's message, which
 * OpenAI refuses ("Additional properties are not allowed"), as Mistral does (422). It is
 * stripped where `reasoning_content` is, and kept as that for DeepSeek's tool-call turns.
 */
function carriesReasoningByOtherName(message: JsonObject): boolean {
  return message.role === 'assistant' && 'reasoning' in message;
}

/** Whether a message's reasoning goes to the backend: a tool-call turn's, to DeepSeek. */
function keepsReasoning(message: JsonObject, keep: ExtensionStripping): boolean {
  return (
    keep.keepsToolTurnReasoning === true &&
    message.role === 'assistant' &&
    Array.isArray(message.tool_calls) &&
    message.tool_calls.length > 0
  );
}

/**
 * The text of a turn's thinking blocks, for a backend that takes reasoning as
 * `reasoning_content` (the Messages edge carries a turn's reasoning as blocks only);
 * undefined when they hold none (redacted blocks have no text to give).
 */
function thinkingText(blocks: unknown): string | undefined {
  if (!Array.isArray(blocks)) return undefined;
  const texts = blocks.flatMap((entry: unknown) => {
    const block = normalizedThinkingBlock(entry);
    return block?.type === 'thinking' && block.thinking !== '' ? [block.thinking] : [];
  });
  return texts.length > 0 ? texts.join('\n\n') : undefined;
}

/** Whether a tool call's id carries a Gemini signature (tool-call-signature-id). */
function hasSignedId(call: unknown): boolean {
  return (
    isJsonObject(call) && typeof call.id === 'string' && call.id.includes(SIGNATURE_ID_SEPARATOR)
  );
}

/** A tool call with its id short again: OpenAI and others cap ids far below a signature's length. */
function shortId(call: unknown): unknown {
  if (!hasSignedId(call)) return call;
  const id = (call as JsonObject).id as string;
  return { ...(call as JsonObject), id: idWithoutSignature(id) };
}

function hasExtraContent(call: unknown): boolean {
  return isJsonObject(call) && 'extra_content' in call;
}

/** A tool call without the provider extras it was answered with (Gemini's signature). */
function withoutExtraContent(call: unknown): unknown {
  if (!hasExtraContent(call)) return call;
  const { extra_content: _extra, ...rest } = call as JsonObject;
  return rest;
}

/**
 * A failed tool's output as OpenAI takes it: OpenAI has no error flag on tool output
 * (a Messages client's `is_error`), so the text says so and the model still learns it.
 */
function withErrorPrefix(content: unknown): unknown {
  if (typeof content === 'string') return failedToolText(content);
  if (!Array.isArray(content)) return 'Error';
  const parts: unknown[] = content;
  const first = parts.findIndex((part) => isJsonObject(part) && part.type === 'text');
  if (first < 0) return [{ type: 'text', text: 'Error' }, ...parts];
  return parts.map((part, index) => {
    if (index !== first || !isJsonObject(part)) return part;
    return { ...part, text: failedToolText(typeof part.text === 'string' ? part.text : '') };
  });
}

function isMarked(item: unknown): boolean {
  return isJsonObject(item) && 'cache_control' in item;
}

/** A Messages client's strict tool (`strict` at the tool's top level, Anthropic's field). */
function isStrict(tool: unknown): boolean {
  return isJsonObject(tool) && 'strict' in tool;
}

/** A tool without Anthropic's `strict` (OpenAI's own is `function.strict`, kept). */
function unstrict(tool: unknown): unknown {
  if (!isStrict(tool)) return tool;
  const { strict: _strict, ...rest } = tool as JsonObject;
  return rest;
}

/** A content part or tool without its caching mark. */
function unmarked(item: unknown): unknown {
  if (!isMarked(item)) return item;
  const { cache_control: _mark, ...rest } = item as JsonObject;
  return rest;
}
