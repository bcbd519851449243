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
    // AWS signing and session headers: the gateway signs Bedrock calls with its own.
    if (lower.startsWith('x-amz-')) continue;
    forwarded[lower] = Array.isArray(value) ? value.join(', ') : value;
  }
  return forwarded;
}
