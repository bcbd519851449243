import type { JsonObject } from '@aigw/contracts/data-plane';
import { isJsonObject } from '../core/json-shape';

// Mistral's rules on the order of a conversation's turns, which OpenAI does not have
// (mistral-common's request validator, which its chat API applies, answering 400
// invalid_request_message_order):
// - the last message is a user or tool one, or an assistant one with `prefix: true`, which
//   Mistral's chat API documents as "force the model to start its answer by the content of
//   the message": what a client ending on an assistant message (a prefill) asks for;
// - `prefix` is refused on any message but the last;
// - after a tool result come only other results or an assistant turn, never a user one.

/**
 * The assistant turn put between a tool result and a user message: Mistral takes no
 * assistant turn without content, and this one says only what happened.
 */
const TOOL_RESULTS_BRIDGE: Readonly<JsonObject> = {
  role: 'assistant',
  content: 'Tool results received.',
};

function roleOf(message: unknown): unknown {
  return isJsonObject(message) ? message.role : undefined;
}

function hasContent(content: unknown): boolean {
  return (typeof content === 'string' || Array.isArray(content)) && content.length > 0;
}

/**
 * A last assistant message Mistral can continue: text to start from, no tool calls (those
 * wait for results), and no `prefix` the client set itself.
 */
function isPrefill(message: unknown): boolean {
  if (!isJsonObject(message) || message.role !== 'assistant' || 'prefix' in message) return false;
  const calls = message.tool_calls;
  return hasContent(message.content) && !(Array.isArray(calls) && calls.length > 0);
}

function hasPrefix(message: unknown): boolean {
  return isJsonObject(message) && 'prefix' in message;
}

function userAfterToolResult(messages: readonly unknown[], index: number): boolean {
  return index > 0 && roleOf(messages[index]) === 'user' && roleOf(messages[index - 1]) === 'tool';
}

/** Whether the messages break one of Mistral's order rules that inMistralTurnOrder mends. */
export function breaksMistralTurnOrder(messages: readonly unknown[]): boolean {
  const last = messages.length - 1;
  return messages.some(
    (message, index) =>
      (index === last ? isPrefill(message) : hasPrefix(message)) ||
      userAfterToolResult(messages, index),
  );
}

/**
 * The messages in an order Mistral takes, with nothing of theirs lost: the last assistant
 * message marked as the prefix to continue, a stray `prefix` left off an earlier one, and
 * TOOL_RESULTS_BRIDGE before a user message that follows a tool result.
 */
export function inMistralTurnOrder(messages: readonly unknown[]): unknown[] {
  const last = messages.length - 1;
  const out: unknown[] = [];
  messages.forEach((message, index) => {
    if (userAfterToolResult(messages, index)) out.push({ ...TOOL_RESULTS_BRIDGE });
    if (index === last && isPrefill(message)) {
      out.push({ ...(message as JsonObject), prefix: true });
    } else if (index !== last && hasPrefix(message)) {
      const { prefix: _prefix, ...rest } = message as JsonObject;
      out.push(rest);
    } else {
      out.push(message);
    }
  });
  return out;
}
