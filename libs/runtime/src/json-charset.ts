import { Transform, type TransformCallback } from 'node:stream';
import { TextDecoder } from 'node:util';

/** Charsets whose bytes read the same as UTF-8 (US-ASCII is a subset of it). */
const UTF8_LABELS: ReadonlySet<string> = new Set(['utf-8', 'utf8', 'us-ascii']);

/**
 * The charset a JSON `Content-Type` declares when it is not UTF-8 (or one its bytes read
 * the same as), else undefined. Read as UTF-8 regardless (RFC 8259 wants JSON in UTF-8),
 * a Latin-1 é would become U+FFFD, sent on to the provider as if the client had written it,
 * and UTF-16 would fail as a JSON syntax error: such a body is transcoded (utf8Transcoder).
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

/**
 * A stream turning text in `charset` into UTF-8 (WHATWG labels: iso-8859-1, windows-1252,
 * utf-16, shift_jis...), or undefined when no decoder knows the label. Characters cut
 * between two chunks are kept whole (a streaming decode).
 */
export function utf8Transcoder(charset: string): Transform | undefined {
  let decoder: TextDecoder;
  try {
    decoder = new TextDecoder(charset);
  } catch {
    return undefined;
  }
  return new Transform({
    transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback) {
      callback(null, Buffer.from(decoder.decode(chunk, { stream: true }), 'utf8'));
    },
    flush(callback: TransformCallback) {
      const rest = decoder.decode();
      callback(null, rest === '' ? undefined : Buffer.from(rest, 'utf8'));
    },
  });
}
