import type { JsonObject, Operation } from '@aigw/contracts/data-plane';
import { isJsonObject } from './json-shape';
import { choiceFailed } from './unfinished-choices';

// The least an OpenAI-format answer must hold for a client's SDK to read it: the answer
// passes through as the backend sent it, so a choice without its message (or with a number
// for its text) would reach the client as a clean 200 that breaks it. Extra fields pass.

const isNumberList = (value: unknown): boolean =>
  Array.isArray(value) && value.every((n) => typeof n === 'number' && Number.isFinite(n));

/**
 * What makes a chat stream chunk unreadable to the edges that translate it (Messages,
 * Responses, Gemini): a tool call fragment that is not an object, or whose function is
 * not one. Else undefined; the rest of the chunk is relayed as it came.
 */
export function openAiChunkProblem(chunk: JsonObject): string | undefined {
  const choices = chunk.choices;
  if (!Array.isArray(choices)) return undefined;
  for (const choice of choices) {
    const calls =
      isJsonObject(choice) && isJsonObject(choice.delta) ? choice.delta.tool_calls : undefined;
    if (!Array.isArray(calls)) continue;
    const readable = calls.every(
      (call) => isJsonObject(call) && (call.function === undefined || isJsonObject(call.function)),
    );
    if (!readable) return 'a tool call fragment that is not an object';
  }
  return undefined;
}

const isNamed = (value: unknown): boolean => isJsonObject(value) && typeof value.name === 'string';

/**
 * A tool call as chat's clients read it: an object naming the function it calls, or the
 * custom (free-form) tool when the client offered one (`type: "custom"`, no function).
 */
function isToolCall(call: unknown): boolean {
  if (!isJsonObject(call)) return false;
  return call.type === 'custom' ? isNamed(call.custom) : isNamed(call.function);
}

const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

/**
 * A base64 vector: OpenAI's float32s, or another dtype a compatible backend was asked for
 * (vLLM's `embed_dtype` float16 or bfloat16, two bytes a value). The gateway passes it on
 * as it came; its width is the client's to know, so only the text is checked.
 */
function isBase64Vector(value: unknown): boolean {
  // The pattern takes at least one character, so a match is never empty.
  return typeof value === 'string' && value.length % 4 === 0 && BASE64.test(value);
}

/** What is wrong with one result of the list, or undefined when the client can read it. */
function resultProblem(operation: Operation, result: unknown): string | undefined {
  if (!isJsonObject(result)) return 'an entry that is not an object';
  // As in a stream: a choice the backend finished as failed is no answer, whatever it holds.
  if (operation !== 'embeddings' && choiceFailed(result)) {
    return `a choice that finished as failed (${JSON.stringify(result.finish_reason ?? 'error')})`;
  }
  switch (operation) {
    case 'chat': {
      const message = result.message;
      if (!isJsonObject(message)) return 'a choice without a message object';
      const content = message.content;
      // Text, none (a tool call or refusal), or a list of parts (Mistral's reasoning models).
      if (content !== undefined && content !== null && typeof content !== 'string') {
        if (!Array.isArray(content)) return 'a message whose content is not text';
      }
      const calls = message.tool_calls;
      if (calls === undefined || calls === null) return undefined;
      if (!Array.isArray(calls)) return 'tool_calls that are not a list';
      // The edges that translate an answer (Messages, Responses, Gemini) read each call.
      return calls.every(isToolCall) ? undefined : 'a tool call without its function name';
    }
    case 'completions':
      return typeof result.text === 'string' ? undefined : 'a choice without its text';
    case 'embeddings':
      return isNumberList(result.embedding) || isBase64Vector(result.embedding)
        ? undefined
        : 'an embedding that is neither numbers nor base64';
    default:
      return undefined;
  }
}

/**
 * What makes a JSON answer unreadable for `operation` (chat, completions, embeddings), or
 * undefined when it is fine.
 */
export function openAiAnswerProblem(operation: Operation, answer: JsonObject): string | undefined {
  const list = operation === 'embeddings' ? answer.data : answer.choices;
  if (!Array.isArray(list)) {
    return `a body without its "${operation === 'embeddings' ? 'data' : 'choices'}" list`;
  }
  // Chat and completions answer at least one choice (n >= 1): none is no answer at all.
  if (list.length === 0 && (operation === 'chat' || operation === 'completions')) {
    return 'a body without any choice';
  }
  for (const result of list) {
    const problem = resultProblem(operation, result);
    if (problem) return problem;
  }
  return undefined;
}
