import type { JsonObject } from '@aigw/contracts/data-plane';

/** A JSON object (not null, not a list): the only thing whose fields may be read. */
export function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
