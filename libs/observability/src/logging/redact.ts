import { REDACTED, Secret } from '../secret';

// Keys whose values are credentials whatever they look like. Token *counts* (max_tokens,
// inputTokens) must stay visible, so "token" alone matches only as a whole word or with a
// credential prefix.
const SENSITIVE_KEY =
  /^(authorization|proxy-authorization|cookie|set-cookie|token|bearer|password|passwd|passphrase|secret|credentials?)$|api[-_]?key|secret|passw(or)?d|private[-_]?key|credential|(api|auth|access|refresh|id|session|bearer|security)[-_]?token$|[-_.]token$/i;

// Credential-shaped text anywhere in a string (messages, error texts, URLs).
const VALUE_PATTERNS: readonly [RegExp, string][] = [
  [
    /((?:proxy-)?authorization|x-api-key|api-key|x-goog-api-key)(["']?\s*[:=]\s*["']?)[^"',\n]+/gi,
    `$1$2${REDACTED}`,
  ],
  [/\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]{6,}/gi, `$1 ${REDACTED}`],
  [/\bsk-[A-Za-z0-9_-]{8,}/g, REDACTED],
  [/\beyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*/g, REDACTED],
  [/\b(?:AKIA|ASIA)[0-9A-Z]{16}\b/g, REDACTED],
  [/\bAIza[0-9A-Za-z_-]{35}\b/g, REDACTED],
  [
    /([?&](?:api[-_]?key|key|token|access_token|sig|signature|x-amz-signature|x-amz-security-token)=)[^&\s"']+/gi,
    `$1${REDACTED}`,
  ],
  // The password of a URL's user info (redis://:pw@host, grpc://user:pw@collector), any
  // scheme: the user name is kept, as it tells an operator which account was meant. The
  // scheme's length is bounded so a long run of letters costs linear time, not quadratic.
  // The password runs to the authority's last @, as URL parsers read it: one with an @ left
  // unencoded is masked whole.
  [/(\b[a-z][a-z0-9+.-]{0,31}:\/\/[^\s/?#@:"']*:)[^\s/?#"']+@/gi, `$1${REDACTED}@`],
];

const MAX_DEPTH = 8;

export function isSensitiveKey(key: string): boolean {
  return SENSITIVE_KEY.test(key);
}

export function redactString(text: string): string {
  let out = text;
  for (const [pattern, replacement] of VALUE_PATTERNS) out = out.replace(pattern, replacement);
  return out;
}

/** Any wrapper that prints itself as `[REDACTED]` is treated as a secret, ours or not. */
function looksSecret(value: object): boolean {
  if (Secret.isSecret(value)) return true;
  const toString = (value as { toString?: unknown }).toString;
  return (
    typeof toString === 'function' &&
    toString !== Object.prototype.toString &&
    !Array.isArray(value) &&
    !(value instanceof Error) &&
    !(value instanceof Date) &&
    (toString as () => unknown).call(value) === REDACTED
  );
}

/**
 * A JSON-safe copy of `value` with secrets masked: sensitive keys, Secret wrappers, and
 * credential-shaped substrings. Handles cycles, Errors, Maps/Headers and binary data.
 */
export function redact(value: unknown): unknown {
  return walk(value, 0, new WeakSet());
}

function walk(value: unknown, depth: number, seen: WeakSet<object>): unknown {
  switch (typeof value) {
    case 'string':
      return redactString(value);
    case 'number':
    case 'boolean':
    case 'undefined':
      return value;
    case 'bigint':
      return value.toString();
    case 'symbol':
      return value.toString();
    case 'function':
      return `[Function ${value.name || 'anonymous'}]`;
    case 'object':
      break;
  }
  if (value === null) return null;
  if (looksSecret(value)) return REDACTED;
  if (seen.has(value)) return '[Circular]';
  if (depth >= MAX_DEPTH) return '[Truncated]';
  seen.add(value);
  try {
    if (value instanceof Date) return Number.isNaN(value.getTime()) ? null : value.toISOString();
    if (value instanceof Uint8Array) return `[${value.byteLength} bytes]`;
    if (value instanceof Error) return walkError(value, depth, seen);
    if (Array.isArray(value)) return value.map((item) => walk(item, depth + 1, seen));
    if (value instanceof Map || isHeaders(value)) {
      return walkEntries((value as Map<unknown, unknown>).entries(), depth, seen);
    }
    return walkEntries(Object.entries(value), depth, seen);
  } finally {
    seen.delete(value);
  }
}

function walkEntries(
  entries: Iterable<[unknown, unknown]>,
  depth: number,
  seen: WeakSet<object>,
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [rawKey, item] of entries) {
    const key = String(rawKey);
    out[key] =
      isSensitiveKey(key) && item !== undefined && item !== null
        ? REDACTED
        : walk(item, depth + 1, seen);
  }
  return out;
}

function walkError(error: Error, depth: number, seen: WeakSet<object>): Record<string, unknown> {
  const out: Record<string, unknown> = { name: error.name, message: redactString(error.message) };
  if (error.stack) out.stack = redactString(error.stack);
  // Own extra properties (code, status, config...) may carry request options with keys.
  for (const [key, item] of Object.entries(error)) {
    if (key === 'stack' || key === 'message') continue;
    out[key] = isSensitiveKey(key) && item != null ? REDACTED : walk(item, depth + 1, seen);
  }
  if (error.cause !== undefined) out.cause = walk(error.cause, depth + 1, seen);
  return out;
}

function isHeaders(value: object): boolean {
  return (
    (value as { [Symbol.toStringTag]?: unknown })[Symbol.toStringTag] === 'Headers' &&
    typeof (value as { entries?: unknown }).entries === 'function'
  );
}
