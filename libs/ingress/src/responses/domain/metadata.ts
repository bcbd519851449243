import type { JsonObject } from '@aigw/contracts/data-plane';
import { error as invalid } from './request-params';

// `metadata` of a response or a conversation, as OpenAI limits it; a response's is
// echoed and stored with it, so it is bounded here as OpenAI bounds it.

const MAX_METADATA_PAIRS = 16;
const MAX_METADATA_KEY = 64;
const MAX_METADATA_VALUE = 512;

/** `metadata`: at most 16 string pairs, keys up to 64 characters, values up to 512. */
export function metadataParam(value: unknown): Record<string, string> {
  if (value === undefined || value === null) return {};
  if (typeof value !== 'object' || Array.isArray(value)) {
    throw invalid('metadata', "Invalid type for 'metadata': expected an object.");
  }
  const entries = Object.entries(value as JsonObject);
  if (entries.length > MAX_METADATA_PAIRS) {
    throw invalid('metadata', `Invalid 'metadata': at most ${MAX_METADATA_PAIRS} pairs.`);
  }
  for (const [key, entry] of entries) {
    if (key.length > MAX_METADATA_KEY) {
      throw invalid(
        'metadata',
        `Invalid 'metadata': keys are at most ${MAX_METADATA_KEY} characters.`,
      );
    }
    if (typeof entry !== 'string' || entry.length > MAX_METADATA_VALUE) {
      throw invalid(
        `metadata.${key.slice(0, MAX_METADATA_KEY)}`,
        `Invalid 'metadata': values are strings of at most ${MAX_METADATA_VALUE} characters.`,
      );
    }
  }
  return Object.fromEntries(entries) as Record<string, string>;
}
