/**
 * Gemini's thought signature carried inside a tool call's id: `<id>__gts__<base64url of the
 * signature's bytes>`. The id is the one field every client sends back verbatim (on the call
 * and on the tool result), while many drop `extra_content` (clients that rebuild their
 * history from id, type and function; every Messages and Responses client), and without the
 * signature Gemini 3 gets the validator bypass and loses its reasoning context.
 *
 * The separator is made of the characters an Anthropic tool_use id allows
 * (^[a-zA-Z0-9_-]+$), as is base64url, so such an id passes the OpenAI, Messages and
 * Responses APIs untouched, and an Anthropic backend keeps it as it is. The ids this gateway
 * generates (`call_` and hex) never hold it; an id from Gemini that does is not extended.
 * As base64url can itself hold the separator, an id splits at its first one.
 */
export const SIGNATURE_ID_SEPARATOR = '__gts__';

/**
 * Signatures run from hundreds of bytes to a few KB, and each byte adds 4/3 of a character to
 * the id, which the client stores and sends back twice per call (the call and its result) on
 * every later turn, and which logs, traces and another backend (should the conversation move
 * there) have to take. Above this many bytes (4 KB of id) the signature travels in
 * extra_content only, and a client that drops it gets the bypass.
 */
const MAX_ID_SIGNATURE_BYTES = 3072;

const BASE64URL = /^[A-Za-z0-9_-]+$/;

/**
 * The id to hand a client for a call Gemini signed: the id with the signature, or the id
 * alone when the signature is not canonical base64 (it could not come back the same), is
 * over the cap, or the id already holds the separator.
 */
export function idWithSignature(id: string, signature: string): string {
  if (id.includes(SIGNATURE_ID_SEPARATOR)) return id;
  const bytes = Buffer.from(signature, 'base64');
  if (bytes.length === 0 || bytes.length > MAX_ID_SIGNATURE_BYTES) return id;
  if (bytes.toString('base64') !== signature) return id;
  return `${id}${SIGNATURE_ID_SEPARATOR}${bytes.toString('base64url')}`;
}

/**
 * The signature a tool call id carries (as Gemini's base64), if it carries one. Anything
 * after the separator that is not canonical base64url within the cap is no signature: the id
 * may be the client's own, and it is never an error.
 */
export function signatureInId(id: string): string | undefined {
  const at = id.indexOf(SIGNATURE_ID_SEPARATOR);
  if (at < 0) return undefined;
  const encoded = id.slice(at + SIGNATURE_ID_SEPARATOR.length);
  if (!BASE64URL.test(encoded)) return undefined;
  const bytes = Buffer.from(encoded, 'base64url');
  if (bytes.length === 0 || bytes.length > MAX_ID_SIGNATURE_BYTES) return undefined;
  if (bytes.toString('base64url') !== encoded) return undefined;
  return bytes.toString('base64');
}

/**
 * The id without the signature it carries: what every backend but Gemini gets. A
 * conversation that moves to another provider (a failover) must not send it ids of kilobytes,
 * which OpenAI and others cap; the call and its result shorten alike, so they still pair.
 */
export function idWithoutSignature(id: string): string {
  if (!id.includes(SIGNATURE_ID_SEPARATOR) || signatureInId(id) === undefined) return id;
  return id.slice(0, id.indexOf(SIGNATURE_ID_SEPARATOR));
}
