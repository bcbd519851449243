import type { JsonObject } from '@aigw/contracts/data-plane';

// Shape checks for what the Messages API sent; kept out of the package's exports.

/** A JSON object: not null, not an array, not a scalar. */
export function isJsonObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function isNonEmptyString(value: unknown): value is string {
  return typeof value === 'string' && value !== '';
}
