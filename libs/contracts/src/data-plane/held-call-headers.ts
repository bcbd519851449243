/**
 * The client headers a held-object call (Files, Batch and Message Batches APIs) may carry
 * to its backend: Anthropic's `anthropic-beta` on a message batch's create, which turns on
 * the betas its requests use, as it does for a single /v1/messages call. No other header
 * crosses: the backend's key and API version are the provider library's to set.
 */
export const HELD_CALL_HEADER_NAMES = ['anthropic-beta'] as const;

export type HeldCallHeaderName = (typeof HELD_CALL_HEADER_NAMES)[number];

export type HeldCallHeaders = Readonly<Partial<Record<HeldCallHeaderName, string>>>;

/** A header value as HTTP carries it: visible ASCII and spaces, no line breaks. */
const HEADER_VALUE = /^[\x20-\x7e]{1,16384}$/;

/**
 * The held-call headers as they cross a hop (JSON), checked: undefined when absent, else
 * an object of allowed names to header values. Anything else throws (a peer asks for no
 * other header at a backend).
 */
export function readHeldCallHeaders(value: unknown): HeldCallHeaders | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new TypeError('headers must be an object');
  }
  const read: Partial<Record<HeldCallHeaderName, string>> = {};
  for (const [name, text] of Object.entries(value as Record<string, unknown>)) {
    if (!(HELD_CALL_HEADER_NAMES as readonly string[]).includes(name)) {
      throw new TypeError(`header ${name.slice(0, 64)} is not carried`);
    }
    if (typeof text !== 'string' || !HEADER_VALUE.test(text)) {
      throw new TypeError(`header ${name} has no valid value`);
    }
    read[name as HeldCallHeaderName] = text;
  }
  return read;
}
