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
  'cookie',
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

export function forwardableHeaders(
  headers: Readonly<Record<string, string | string[] | undefined>>,
  stripHeaders: readonly string[],
): Record<string, string> {
  const forwarded: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    const lower = name.toLowerCase();
    if (value === undefined || NEVER_FORWARDED.has(lower) || stripHeaders.includes(lower)) continue;
    if (lower.startsWith('x-forwarded-') || lower.startsWith('x-ai-gateway-')) continue;
    // The internal hops' own headers (x-aigw-internal-token, say): a client never sets them.
    if (lower.startsWith('x-aigw-')) continue;
    // AWS signing and session headers: the gateway signs Bedrock calls with its own.
    if (lower.startsWith('x-amz-')) continue;
    forwarded[lower] = Array.isArray(value) ? value.join(', ') : value;
  }
  return forwarded;
}

/** The W3C Trace Context headers, which name the caller's span. */
const TRACE_CONTEXT_HEADERS = ['traceparent', 'tracestate'] as const;

/**
 * The forwarded headers with the gateway's span named in place of the client's, so the
 * provider call is the gateway span's child; a route that strips `traceparent` sends none.
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
    if (value !== undefined) forwarded[name] = value;
  }
  return forwarded;
}
