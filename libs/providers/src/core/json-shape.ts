import type { JsonObject } from '@aigw/contracts/data-plane';

// Shape checks for JSON from outside (clients, providers), read before any field is.

/** A JSON object: not null, not an array, not a scalar; the only thing whose fields may be read. */
export function isJsonObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A string with something in it: what an id or a name must be. */
export function isNonEmptyString(value: unknown): value is string {
  return typeof value === 'string' && value !== '';
}

/** A whole number from 0 up: what an index into a list or a text must be. */
export function isIndex(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

/** `text` parsed as JSON when it is an object; undefined for anything else, or not JSON. */
export function parseJsonObject(text: string): JsonObject | undefined {
  try {
    const parsed: unknown = JSON.parse(text);
    return isJsonObject(parsed) ? parsed : undefined;
  } catch {
    return undefined; // not JSON: the caller says what it expected
  }
}
