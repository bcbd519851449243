import type { JsonObject } from '@aigw/contracts/data-plane';
import { isJsonObject } from './json-shape';

// Mistral answers a conversation whose last message is an assistant one with `prefix: true`
// with the prefix itself at the start of its answer (its prefix guide reads the new text as
// `content[len(prefix):]`). The gateway's clients expect the continuation alone, as other
// backends give it (Anthropic's prefill: the answer is the text after it), so the echo is
// taken off: only when the answer starts with the prefix exactly, never any other text.

/** The text of a message's content: a string, or a list of text parts (nothing else). */
function textOf(content: unknown): string | undefined {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return undefined;
  let text = '';
  for (const part of content) {
    if (!isJsonObject(part) || part.type !== 'text' || typeof part.text !== 'string') {
      return undefined;
    }
    text += part.text;
  }
  return text;
}

/**
 * The prefix a chat body asks the model to continue: the text of its last message when that
 * is an assistant one marked `prefix: true`; undefined otherwise (or when it is empty).
 */
export function continuedPrefix(body: JsonObject): string | undefined {
  const messages = body.messages;
  if (!Array.isArray(messages)) return undefined;
  const last: unknown = messages.at(-1);
  if (!isJsonObject(last) || last.role !== 'assistant' || last.prefix !== true) return undefined;
  const text = textOf(last.content);
  return text === undefined || text === '' ? undefined : text;
}

/**
 * A chat answer's choices without the echoed `prefix` at the start of their text (a string
 * content, or the first text part of a list, as Mistral's reasoning models answer). In place.
 */
export function stripEchoedPrefix(answer: JsonObject, prefix: string): void {
  if (!Array.isArray(answer.choices)) return;
  for (const choice of answer.choices) {
    const message = isJsonObject(choice) ? choice.message : undefined;
    if (!isJsonObject(message)) continue;
    const content = message.content;
    if (typeof content === 'string') {
      if (content.startsWith(prefix)) message.content = content.slice(prefix.length);
      continue;
    }
    if (!Array.isArray(content)) continue;
    const part: unknown = content.find((item) => isJsonObject(item) && item.type === 'text');
    if (isJsonObject(part) && typeof part.text === 'string' && part.text.startsWith(prefix)) {
      part.text = part.text.slice(prefix.length);
    }
  }
}

/** A choice whose answer was found to start with the prefix, or not to: relayed as it comes. */
const DECIDED = Symbol('decided');

/**
 * Takes the echoed prefix off a chat stream's text, choice by choice. A choice's first text
 * is held back (its deltas relayed empty) only while it could still be the prefix; once it
 * is the whole prefix, what follows it goes on, and once it cannot be, all of it goes on in
 * the delta that ruled it out (or the choice's finishing one). From then on, deltas pass
 * through untouched.
 */
export class EchoedPrefixStripper {
  private readonly held = new Map<number, string | typeof DECIDED>();

  constructor(private readonly prefix: string) {}

  /** One choice of a stream chunk, its delta changed in place where text is held or let go. */
  strip(choice: JsonObject): void {
    const index = typeof choice.index === 'number' ? choice.index : 0;
    const state = this.held.get(index);
    if (state === DECIDED) return;
    const delta = isJsonObject(choice.delta) ? choice.delta : undefined;
    const piece = typeof delta?.content === 'string' ? delta.content : '';
    const text = (state ?? '') + piece;
    const finished = choice.finish_reason !== undefined && choice.finish_reason !== null;
    if (text.startsWith(this.prefix)) {
      this.held.set(index, DECIDED);
      this.relay(choice, delta, text.slice(this.prefix.length));
    } else if (this.prefix.startsWith(text) && !finished) {
      this.held.set(index, text);
      if (piece !== '') (delta as JsonObject).content = '';
    } else {
      // Not the prefix (or the answer ended inside it): nothing held is lost.
      this.held.set(index, DECIDED);
      this.relay(choice, delta, text);
    }
  }

  /** The choice's delta carrying `text`, where it carried held or echoed text or none. */
  private relay(choice: JsonObject, delta: JsonObject | undefined, text: string): void {
    if (delta === undefined) {
      if (text !== '') choice.delta = { content: text };
    } else if (Array.isArray(delta.content)) {
      // A list of parts (a reasoning model's): the held text goes before them.
      if (text !== '') delta.content = [{ type: 'text', text }, ...(delta.content as unknown[])];
    } else if (typeof delta.content === 'string' || text !== '') {
      delta.content = text;
    }
  }
}
