import type { AnthropicCacheControl } from './messages.dto';

/**
 * A `cache_control` value as Anthropic takes it, `{"type": "ephemeral"}` with an optional
 * `ttl` of "5m" or "1h", rebuilt with those fields alone; undefined for anything else.
 * The Messages edge and the adapters check marks with it, each in its own error style.
 */
export function normalizedCacheControl(value: unknown): AnthropicCacheControl | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  const { type, ttl } = value as { type?: unknown; ttl?: unknown };
  if (type !== 'ephemeral') return undefined;
  if (ttl === undefined) return { type };
  return ttl === '5m' || ttl === '1h' ? { type, ttl } : undefined;
}
