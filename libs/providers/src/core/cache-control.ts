import { DataPlaneError, DataPlaneErrorCode, type JsonObject } from '@aigw/contracts/data-plane';
import { normalizedCacheControl, type AnthropicCacheControl } from '@aigw/contracts';

/**
 * A prompt-caching breakpoint: Anthropic's `cache_control`, which the gateway's canonical
 * (OpenAI) requests carry as an extension on content parts and tools, as LiteLLM's do.
 * The prompt up to and including the marked part is cached by a provider that caches on
 * request (Anthropic); the OpenAI family caches by itself and never sees the field
 * (`withoutGatewayExtensions`).
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
