/** A text as logged: at most the route's maxBytes of it, and its whole size. */
export interface CutText {
  readonly text: string;
  readonly truncated: boolean;
  /** The whole text's size in UTF-8 bytes, before any cut. */
  readonly bytes: number;
}

export const NO_TEXT: CutText = { text: '', truncated: false, bytes: 0 };

/**
 * `text` cut to at most `maxBytes` UTF-8 bytes, never inside a character (a cut character
 * is left out whole, so the stored text is valid UTF-8).
 */
export function cutText(text: string, maxBytes: number): CutText {
  // A UTF-16 unit takes at most 3 UTF-8 bytes: a short text needs no encoding to be kept.
  if (text.length * 3 <= maxBytes) {
    return { text, truncated: false, bytes: Buffer.byteLength(text) };
  }
  const bytes = Buffer.byteLength(text);
  if (bytes <= maxBytes) return { text, truncated: false, bytes };
  // Each unit takes at least a byte, so the first maxBytes units hold the first maxBytes bytes.
  const head = Buffer.from(text.slice(0, maxBytes));
  let end = maxBytes;
  // A continuation byte just past the cut: the character it belongs to goes whole.
  while (end > 0 && (head[end] & 0xc0) === 0x80) end--;
  return { text: head.toString('utf8', 0, end), truncated: true, bytes };
}
