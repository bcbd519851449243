// Which client headers may travel to a provider. Credentials, hop-by-hop and framing
// headers never do: the gateway injects its own credentials and frames its own body.
const NEVER_FORWARDED = new Set([
  'authorization',
  'proxy-authorization',
  'x-api-key',
  'api-key',
  'x-goog-api-key',
  // Scope the client's own OpenAI key: beside the gateway's key they get a 401 (mismatch).
  'openai-organization',
  'openai-project',
  // Google's counterpart: with our token it bills quota to another project we may use.
  'x-goog-user-project',
  'cookie',
  // The client's address, as a proxy in front of us writes it (x-forwarded-* below).
  'forwarded',
  'x-real-ip',
  'proxy-connection',
  'host',
  'connection',
  'keep-alive',
  'transfer-encoding',
  'te',
  'trailer',
  'upgrade',
  'content-length',
  'content-type',
  // The body is decoded at the edge and sent on as plain JSON (or the provider's own form).
  'content-encoding',
  'accept',
  'accept-encoding',
  'expect',
]);

/**
 * The client's headers a provider may see. `withheld` (lowercase) are headers the gateway
 * set itself for its own policies (identity from a verified token): never forwarded.
 */
export function forwardableHeaders(
  headers: Readonly<Record<string, string | string[] | undefined>>,
  stripHeaders: readonly string[],
  withheld: readonly string[] = [],
): Record<string, string> {
  const decisions = decisionsFor(stripHeaders);
  const forwarded: Record<string, string> = {};
  // Object.keys, not Object.entries: no [name, value] pair to allocate per header.
  for (const name of Object.keys(headers)) {
    const value = headers[name];
    if (value === undefined) continue;
    let lower = decisions.get(name);
    if (lower === undefined) {
      lower = forwardedName(name, stripHeaders);
      if (decisions.size >= MAX_DECISIONS) decisions.clear();
      decisions.set(name, lower);
    }
    if (lower === null || (withheld.length > 0 && withheld.includes(lower))) continue;
    forwarded[lower] = Array.isArray(value) ? value.join(', ') : value;
  }
  return forwarded;
}

/** The name a header is forwarded under (lowercase), or null when it never is. */
function forwardedName(name: string, stripHeaders: readonly string[]): string | null {
  const lower = name.toLowerCase();
  if (NEVER_FORWARDED.has(lower) || stripHeaders.includes(lower)) return null;
  if (lower.startsWith('x-forwarded-') || lower.startsWith('x-ai-gateway-')) return null;
  // The internal hops' own headers (x-aigw-internal-token, say): a client never sets them.
  if (lower.startsWith('x-aigw-')) return null;
  // AWS signing and session headers: the gateway signs Bedrock calls with its own.
  if (lower.startsWith('x-amz-')) return null;
  return lower;
}

// Each header name's fate, per route's stripHeaders list (a reload brings new lists):
// clients send the same few names on every request, and deciding afresh was a tenth of
// the policies' cost (bench/micro/policies.ts). Names are the client's: bounded.
const decisionsByList = new WeakMap<readonly string[], Map<string, string | null>>();
const MAX_DECISIONS = 1_000;

function decisionsFor(stripHeaders: readonly string[]): Map<string, string | null> {
  let decisions = decisionsByList.get(stripHeaders);
  if (!decisions) {
    decisions = new Map();
    decisionsByList.set(stripHeaders, decisions);
  }
  return decisions;
}

/** The W3C Trace Context headers, which name the caller's span. */
const TRACE_CONTEXT_HEADERS = ['traceparent', 'tracestate'] as const;

/**
 * The forwarded headers with the gateway's span named in place of the client's, so the
 * provider call is the gateway span's child; a route that strips `traceparent` sends none,
 * one that strips `tracestate` sends no tracestate.
 */
export function withTraceHeaders(
  forwarded: Record<string, string>,
  trace: Readonly<Partial<Record<(typeof TRACE_CONTEXT_HEADERS)[number], string>>> | undefined,
  stripHeaders: readonly string[],
): Record<string, string> {
  if (!trace || stripHeaders.includes('traceparent')) return forwarded;
  for (const name of TRACE_CONTEXT_HEADERS) {
    delete forwarded[name];
    const value = trace[name];
    // A stripped tracestate stays stripped: the span's carries the client's on.
    if (value !== undefined && !stripHeaders.includes(name)) forwarded[name] = value;
  }
  return forwarded;
}
