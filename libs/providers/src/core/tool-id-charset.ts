import { createHash } from 'node:crypto';

/** The characters Anthropic's tool_use ids and Converse's toolUseIds are made of. */
const TOOL_ID_CHARS = /^[a-zA-Z0-9_-]+$/;

/** The hex digits of a rewritten id's digest, after a `_`. */
const DIGEST_CHARS = 12;

/**
 * A client's tool call id as one of `[a-zA-Z0-9_-]`, at most `maxLength` long, as Claude's
 * APIs take them. Ids made elsewhere (another provider's "functions.get_weather:0", a
 * framework's long ones) are rewritten the same way every time, so a tool result still
 * names its call; a digest of the original keeps two rewritten ids apart. An id that
 * already fits is sent as it is.
 */
export function toolIdInCharset(id: string, maxLength = Number.POSITIVE_INFINITY): string {
  if (id.length <= maxLength && TOOL_ID_CHARS.test(id)) return id;
  const digest = createHash('sha256').update(id).digest('hex').slice(0, DIGEST_CHARS);
  const kept = id.replace(/[^a-zA-Z0-9_-]/g, '_').slice(0, maxLength - DIGEST_CHARS - 1);
  return `${kept}_${digest}`;
}
