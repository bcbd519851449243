import type { JsonObject } from '@aigw/contracts/data-plane';
import { isJsonObject } from './json-shape';

// Mistral's reasoning models (mistral-small and mistral-medium-3.5 with `reasoning_effort`,
// Magistral) answer with `content` as a list of chunks: `thinking` ones, whose text is a
// list of text chunks, and `text` ones; streamed, the thinking comes as such lists and the
// answer mostly as strings. OpenAI's clients read `content` as text (an SDK's stream
// accumulator joins strings), and every edge of the gateway reads reasoning as
// `reasoning_content`, as DeepSeek sends it: such a list becomes the two.

/** A list's text and reasoning. */
interface SplitContent {
  readonly text: string;
  readonly reasoning: string;
}

/** The text of a thinking chunk's `thinking`: text chunks, or (leniently) a string. */
function thinkingText(thinking: unknown): string | undefined {
  if (typeof thinking === 'string') return thinking;
  if (!Array.isArray(thinking)) return undefined;
  let text = '';
  for (const part of thinking) {
    if (!isJsonObject(part) || part.type !== 'text' || typeof part.text !== 'string') {
      return undefined;
    }
    text += part.text;
  }
  return text;
}

/** A chunk list's text and reasoning; undefined when it holds a chunk of another kind. */
function split(content: readonly unknown[]): SplitContent | undefined {
  let text = '';
  let reasoning = '';
  for (const part of content) {
    if (!isJsonObject(part)) return undefined;
    if (part.type === 'text' && typeof part.text === 'string') {
      text += part.text;
      continue;
    }
    const thought = part.type === 'thinking' ? thinkingText(part.thinking) : undefined;
    // A chunk of another kind (a reference, say) has no place in a string: left as sent.
    if (thought === undefined) return undefined;
    reasoning += thought;
  }
  return { text, reasoning };
}

/** The reasoning beside whatever reasoning_content the holder already carries. */
function addReasoning(holder: JsonObject, reasoning: string): void {
  if (reasoning === '') return;
  const before = typeof holder.reasoning_content === 'string' ? holder.reasoning_content : '';
  holder.reasoning_content = before + reasoning;
}

/** An answer message's chunk list as text and reasoning_content, in place. */
function splitMessage(message: JsonObject): void {
  if (!Array.isArray(message.content)) return;
  const parts = split(message.content);
  if (!parts) return;
  const calls = message.tool_calls;
  // As OpenAI writes a message that only calls tools.
  const callsOnly = parts.text === '' && Array.isArray(calls) && calls.length > 0;
  message.content = callsOnly ? null : parts.text;
  addReasoning(message, parts.reasoning);
}

/** A chat answer's messages with their thinking chunks as reasoning_content, in place. */
export function splitAnswerThinking(answer: JsonObject): void {
  if (!Array.isArray(answer.choices)) return;
  for (const choice of answer.choices) {
    const message = isJsonObject(choice) ? choice.message : undefined;
    if (isJsonObject(message)) splitMessage(message);
  }
}

/** A stream choice's delta with its chunk list as text and reasoning_content, in place. */
export function splitDeltaThinking(choice: JsonObject): void {
  const delta = choice.delta;
  if (!isJsonObject(delta) || !Array.isArray(delta.content)) return;
  const parts = split(delta.content);
  if (!parts) return;
  // A delta of thinking alone carries no text: an empty one would open a text block early.
  if (parts.text === '') delete delta.content;
  else delta.content = parts.text;
  addReasoning(delta, parts.reasoning);
}
