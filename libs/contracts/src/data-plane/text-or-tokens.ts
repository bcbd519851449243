import { DataPlaneError, DataPlaneErrorCode } from './data-plane.errors';
import type { JsonObject } from './data-plane.types';

// What OpenAI takes as an embeddings `input` or a legacy completion's `prompt`. One rule
// for the edge (the request DTOs and the request builder) and the wire (the OpenAI-format
// adapter), so a body one accepts the other does too, with the same message.

/** The accepted shapes, in words, as every refusal names them. */
export const TEXT_OR_TOKENS_EXPECTED =
  'a string, a non-empty array of strings, an array of token ids, or an array of token-id arrays';

// Token ids are whole numbers: a fraction or NaN would be read by a lenient backend as an id
// of its own choosing.
const isTokenIds = (value: unknown): boolean =>
  Array.isArray(value) && value.every((id) => typeof id === 'number' && Number.isSafeInteger(id));

/** Whether `value` is text, texts, token ids, or lists of token ids (never empty). */
export function isTextOrTokens(value: unknown): boolean {
  if (typeof value === 'string') return true;
  return (
    Array.isArray(value) &&
    value.length > 0 &&
    (value.every((item) => typeof item === 'string') ||
      isTokenIds(value) ||
      value.every((item) => isTokenIds(item)))
  );
}

/**
 * Refuses an embeddings `input` or a completion's `prompt` OpenAI's API would not take (a
 * number, true, an object, a list of lists of strings): it is sent as it came, and a
 * lenient backend would embed or complete something of its own reading, past prompt rules
 * that read only these shapes.
 */
export function checkTextOrTokens(body: JsonObject, field: 'input' | 'prompt'): void {
  const value = body[field];
  if (value === undefined) {
    throw new DataPlaneError(DataPlaneErrorCode.InvalidRequest, `'${field}' is required`, {
      param: field,
    });
  }
  if (!isTextOrTokens(value)) {
    throw new DataPlaneError(
      DataPlaneErrorCode.InvalidRequest,
      `${field} must be ${TEXT_OR_TOKENS_EXPECTED}`,
      { param: field },
    );
  }
}

/**
 * How many prompts a legacy completion's `prompt` holds: OpenAI completes each one of a
 * list of texts or of token-id lists (`n` choices each), while a text or one list of ids is
 * one prompt. Anything else counts one (the edge refuses it before anything is held).
 */
export function promptCount(prompt: unknown): number {
  if (!Array.isArray(prompt) || prompt.length === 0) return 1;
  return prompt.every((item) => typeof item === 'number') ? 1 : prompt.length;
}
