import { normalizedThinkingBlock, type ThinkingBlock } from '@aigw/contracts/data-plane';

// A reasoning item's `encrypted_content` as this gateway writes it. Anthropic (and Claude
// on Bedrock) refuse a tool-use continuation unless the turn's signed thinking blocks come
// back as they were; a stateless gateway keeps nothing, so the blocks travel with the
// client, which returns reasoning items unchanged (Codex CLI, the Agents SDK). The string
// is opaque to the client but not secret: the signatures are the provider's and the
// thinking text is the summary the client already has.

/** Versions the encoding, so a later one can tell old strings from its own. */
export const ENCRYPTED_REASONING_PREFIX = 'aigw1.';

const BASE64URL = /^[A-Za-z0-9_-]+$/;

/** The blocks as `encrypted_content`: the version prefix, then their JSON in base64url. */
export function encodeReasoning(blocks: readonly ThinkingBlock[]): string {
  const json = JSON.stringify(blocks);
  return ENCRYPTED_REASONING_PREFIX + Buffer.from(json, 'utf8').toString('base64url');
}

/**
 * The blocks an `encrypted_content` of ours holds; undefined for anything else (another
 * prefix, such as OpenAI's own, bad base64url, or JSON that is not a list of blocks).
 */
export function decodeReasoning(value: string): ThinkingBlock[] | undefined {
  if (!value.startsWith(ENCRYPTED_REASONING_PREFIX)) return undefined;
  const payload = value.slice(ENCRYPTED_REASONING_PREFIX.length);
  // Node decodes base64 leniently (it skips what it cannot read), so check it first;
  // a length of 4n+1 is never whole base64.
  if (!BASE64URL.test(payload) || payload.length % 4 === 1) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
  } catch {
    return undefined;
  }
  if (!Array.isArray(parsed) || parsed.length === 0) return undefined;
  const blocks = parsed.map((entry: unknown) => normalizedThinkingBlock(entry));
  return blocks.every((block): block is ThinkingBlock => block !== undefined) ? blocks : undefined;
}

/** The well-formed entries of a canonical `thinking_blocks` (a message's or a delta's). */
export function thinkingBlocksOf(value: unknown): ThinkingBlock[] {
  if (!Array.isArray(value)) return [];
  return value.flatMap((entry: unknown) => normalizedThinkingBlock(entry) ?? []);
}
