import type { JsonObject } from '@aigw/contracts/data-plane';
import { isJsonObject } from '../core/json-shape';

/**
 * A chat body Groq takes: its messages without `name`, which Groq answers 400 to (its
 * OpenAI compatibility page) and which multi-agent frameworks set on every turn. A
 * participant's name changes nothing Groq's models read. The same object when none has one.
 */
export function groqChatBody(body: JsonObject): JsonObject {
  if (!Array.isArray(body.messages) || !body.messages.some(isNamed)) return body;
  return { ...body, messages: body.messages.map(unnamed) };
}

function isNamed(message: unknown): boolean {
  return isJsonObject(message) && 'name' in message;
}

function unnamed(message: unknown): unknown {
  if (!isNamed(message)) return message;
  const { name: _name, ...rest } = message as JsonObject;
  return rest;
}
