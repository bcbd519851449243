/** Charsets whose bytes read the same as UTF-8 (US-ASCII is a subset of it). */
const UTF8_LABELS: ReadonlySet<string> = new Set(['utf-8', 'utf8', 'us-ascii']);

/**
 * The charset a JSON `Content-Type` declares when it is not UTF-8 (or one its bytes read
 * the same as), else undefined. JSON bodies are read as UTF-8 whatever the header says
 * (RFC 8259 wants JSON in UTF-8): a Latin-1 é read so becomes U+FFFD, sent on to the
 * provider as if the client had written it, and UTF-16 fails as a JSON syntax error.
 */
export function foreignJsonCharset(contentType: string | undefined): string | undefined {
  if (contentType === undefined) return undefined;
  const [mediaType = '', ...parameters] = contentType.split(';');
  const media = mediaType.trim().toLowerCase();
  if (media !== 'application/json' && !media.endsWith('+json')) return undefined;
  for (const parameter of parameters) {
    const equals = parameter.indexOf('=');
    if (equals === -1 || parameter.slice(0, equals).trim().toLowerCase() !== 'charset') continue;
    const charset = parameter
      .slice(equals + 1)
      .trim()
      .replace(/^"(.*)"$/, '$1');
    return UTF8_LABELS.has(charset.toLowerCase()) ? undefined : charset;
  }
  return undefined;
}
