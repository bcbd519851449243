import { DataPlaneError, DataPlaneErrorCode, type JsonObject } from '@aigw/contracts/data-plane';
import { normalizedCacheControl, type AnthropicCacheControl } from '@aigw/contracts';
import { isJsonObject } from './json-shape';

/**
 * A prompt-caching breakpoint: Anthropic's `cache_control`, which the gateway's canonical
 * (OpenAI) requests carry as an extension on content parts and tools, as LiteLLM's do.
 * The prompt up to and including the marked part is cached by a provider that caches on
 * request (Anthropic); the OpenAI family caches by itself and never sees the field.
 */
export type CacheControl = AnthropicCacheControl;

/** The field's own value, checked: `{"type": "ephemeral"}`, with an optional `ttl`. */
export function parseCacheControl(value: unknown, param: string): CacheControl | undefined {
  if (value === undefined || value === null) return undefined;
  const mark = normalizedCacheControl(value);
  if (!mark) {
    throw new DataPlaneError(
      DataPlaneErrorCode.InvalidRequest,
      `${param} must be {"type": "ephemeral"} with an optional "ttl" of "5m" or "1h"`,
      { param },
    );
  }
  return mark;
}

/** `cache_control` for a block or tool built for Anthropic's API, when marked. */
export function cacheField(cache: CacheControl | undefined): JsonObject {
  return cache ? { cache_control: { ...cache } } : {};
}

/**
 * The body without the `cache_control` marks on message parts, messages and tools, for a
 * provider that takes no such field (the OpenAI family caches by itself, and OpenAI
 * refuses fields it does not know). The same object when there are none, as there
 * usually are not.
 */
export function withoutCacheControl(body: JsonObject): JsonObject {
  if (!hasCacheControl(body)) return body;
  const copy: JsonObject = { ...body };
  if (Array.isArray(body.messages)) {
    copy.messages = body.messages.map((message: unknown) => {
      if (!isJsonObject(message)) return message;
      const { cache_control: _dropped, ...rest } = message;
      if (Array.isArray(rest.content)) rest.content = rest.content.map(unmarked);
      return rest;
    });
  }
  if (Array.isArray(body.tools)) copy.tools = body.tools.map(unmarked);
  return copy;
}

function unmarked(item: unknown): unknown {
  if (!isJsonObject(item) || !('cache_control' in item)) return item;
  const { cache_control: _dropped, ...rest } = item;
  return rest;
}

function hasCacheControl(body: JsonObject): boolean {
  const marked = (item: unknown) => isJsonObject(item) && 'cache_control' in item;
  if (Array.isArray(body.tools) && body.tools.some(marked)) return true;
  if (!Array.isArray(body.messages)) return false;
  return body.messages.some(
    (message: unknown) =>
      marked(message) ||
      (isJsonObject(message) && Array.isArray(message.content) && message.content.some(marked)),
  );
}
