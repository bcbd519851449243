import {
  DataPlaneError,
  DataPlaneErrorCode,
  PROMPT_TEXT_FIELDS,
  type JsonObject,
  type Operation,
} from '@aigw/contracts/data-plane';
import type { RedactionTally, Redactor } from './redactor';
import { isObject, mapEveryString, mapSame } from './copy-on-write';
import { isServerToolPart, mapCitationTexts, mapServerToolBlockTexts } from './server-tool-texts';

type Redact = (text: string) => string;

/** Content parts whose text is prose; image, audio and file parts pass untouched. */
const TEXT_PARTS = new Set(['text', 'input_text', 'output_text']);

/**
 * The canonical (OpenAI) body with every text the client wrote redacted: chat messages'
 * content and content parts (the Anthropic Messages and Responses APIs arrive translated,
 * so their system prompt, instructions, content blocks and tool results are these),
 * function call arguments, and the prompt, suffix or input of the other operations (and
 * an embedding's document titles).
 * Copy on write: an object or array nothing matched in is returned as it came, so the
 * common case allocates nothing.
 *
 * Assistant turns are redacted too: they often repeat what the user wrote ("I emailed
 * jane@example.com") and their tool arguments carry it, so leaving them would hand the
 * provider the same data on the next turn. What identifies or signs a turn is never
 * touched: ids, tool_call_id, names, and thinking or reasoning blocks (signed or
 * encrypted: a provider refuses one that was altered). An Anthropic server tool's blocks
 * sent back in a turn are read as its text is (server-tool-texts.ts): the call's input
 * (a search query), the results' titles and outputs, a fetched page's text and a cited
 * text's quotes; their encrypted content, URLs and ids pass as they came.
 */
export function redactBody(
  operation: Operation,
  body: JsonObject,
  redactor: Redactor,
  tally: RedactionTally,
): JsonObject {
  let out = body;
  const messages = body.messages;
  if (Array.isArray(messages)) {
    const redact: Redact = (text) => redactor.redact(text, tally);
    const redacted = mapSame(messages, (message) => redactMessage(message, redact));
    if (redacted !== messages) out = { ...out, messages: redacted };
  }
  // Every other text field, whatever the operation: an OpenAI-format backend gets the body
  // as it came, so a prompt beside a chat's messages or an embeddings input reaches it too.
  // Each is masked as any prompt is (an embedding's vector is then the masked text's, which
  // is what the provider saw); a block rule refuses the request naming the field.
  for (const field of TEXT_FIELDS) {
    const value = body[field];
    if (value === undefined || value === null) continue;
    const redacted = redactPrompt(value, (text) => redactor.redact(text, tally, field));
    if (redacted !== value) out = { ...out, [field]: redacted };
  }
  out = redactPrediction(out, (text) => redactor.redact(text, tally, 'prediction'));
  if (operation !== 'embeddings') return out;
  return redactTitles(out, (text) => redactor.redact(text, tally, 'title'));
}

/**
 * An embedding's document titles, which ride beside `input` and reach the provider with it:
 * Vertex's `title` sent beside `input`, and `provider_extras.title` (a Gemini client's, or a
 * `/v1` client's), shared or one per input (null where an input has none). The other
 * `provider_extras` are settings (top_k, Google's enum names), not text the client wrote.
 */
function redactTitles(body: JsonObject, redact: Redact): JsonObject {
  let out = body;
  if (typeof body.title === 'string') {
    const title = redact(body.title);
    if (title !== body.title) out = { ...out, title };
  } else if (body.title !== undefined && body.title !== null) {
    // An OpenAI-format backend gets `title` as it came: a list, object or number would carry
    // text (a card number) past the rules. Vertex's title is a string anyway.
    throw new DataPlaneError(DataPlaneErrorCode.InvalidRequest, 'title must be a string', {
      param: 'title',
    });
  }
  const extras = body.provider_extras;
  if (!isObject(extras)) return out;
  const titles = extras.title;
  const redacted = redactPrompt(titles, redact);
  return redacted === titles ? out : { ...out, provider_extras: { ...extras, title: redacted } };
}

/**
 * A Predicted Output's content (a string or text parts): the model reads it, and it is often
 * the very file the prompt is about. Its shape was checked (text-shapes).
 */
function redactPrediction(body: JsonObject, redact: Redact): JsonObject {
  const prediction = body.prediction;
  if (!isObject(prediction)) return body;
  const content = redactPrompt(prediction.content, redact);
  return content === prediction.content
    ? body
    : { ...body, prediction: { ...prediction, content } };
}

/** The text fields besides messages (PROMPT_TEXT_FIELDS): what a prompt rule reads. */
const TEXT_FIELDS = PROMPT_TEXT_FIELDS.filter((field) => field !== 'messages');

/**
 * A prompt, input, query or documents: a string or a list of them, or of text parts
 * (`{type: 'text', text}`, a moderation's) or `{text}` objects (a rerank's documents);
 * token arrays and image parts pass untouched.
 */
function redactPrompt(value: unknown, redact: Redact): unknown {
  if (typeof value === 'string') return redact(value);
  if (Array.isArray(value)) return mapSame(value, (item) => redactItem(item, redact));
  return value;
}

function redactItem(item: unknown, redact: Redact): unknown {
  if (typeof item === 'string') return redact(item);
  if (!isObject(item) || typeof item.text !== 'string') return item;
  if (item.type !== undefined && !TEXT_PARTS.has(item.type as string)) return item;
  const text = redact(item.text);
  return text === item.text ? item : { ...item, text };
}

function redactMessage(message: unknown, redact: Redact): unknown {
  if (!isObject(message)) return message;
  let out = message;
  const content = redactContent(message.content, redact);
  if (content !== message.content) out = { ...out, content };
  if (Array.isArray(message.tool_calls)) {
    const calls = mapSame(message.tool_calls, (call) => redactCall(call, redact));
    if (calls !== message.tool_calls) out = { ...out, tool_calls: calls };
  }
  const legacy = redactCall({ function: message.function_call }, redact) as JsonObject;
  if (legacy.function !== message.function_call) out = { ...out, function_call: legacy.function };
  return out;
}

function redactContent(content: unknown, redact: Redact): unknown {
  if (typeof content === 'string') return redact(content);
  if (!Array.isArray(content)) return content;
  return mapSame(content, (part) => {
    // An Anthropic server tool's call or result sent back: its query, titles, outputs.
    if (isServerToolPart(part)) return mapServerToolBlockTexts(part, redact);
    if (!isObject(part) || typeof part.text !== 'string') return part;
    if (part.type !== undefined && !TEXT_PARTS.has(part.type as string)) return part;
    const text = redact(part.text);
    let out = text === part.text ? part : { ...part, text };
    // A cited text's sources quote the page (`cited_text`): the same rules read them.
    if (Array.isArray(part.citations)) {
      const citations = mapCitationTexts(part.citations, redact);
      if (citations !== part.citations) out = { ...out, citations };
    }
    return out;
  });
}

/**
 * A tool call's `function.arguments`, JSON text or the object itself (as vLLM and Ollama
 * take them, and the translating adapters send on); its id and name stay as they are.
 */
function redactCall(call: unknown, redact: Redact): unknown {
  if (!isObject(call) || !isObject(call.function)) return call;
  const args = call.function.arguments;
  if (args === undefined || args === null) return call;
  const redacted =
    typeof args === 'string' ? redactArguments(args, redact) : mapEveryString(args, redact);
  return redacted === args
    ? call
    : { ...call, function: { ...call.function, arguments: redacted } };
}

/**
 * Arguments are JSON: each string value is redacted on its own and the JSON written again
 * only if one changed, so a pattern can never eat a quote and leave invalid JSON behind.
 * Arguments that are not JSON (a model's malformed call) are redacted as text.
 */
function redactArguments(args: string, redact: Redact): string {
  let parsed: unknown;
  try {
    parsed = JSON.parse(args);
  } catch {
    return redact(args);
  }
  const redacted = mapEveryString(parsed, redact);
  return redacted === parsed ? args : JSON.stringify(redacted);
}
