import { inflateSync } from 'node:zlib';

// How many pages a PDF has, read from its bytes without a PDF library: a prompt's
// documents are billed by the page, and a token estimate has nothing else to go by.

/** `/Page` as a page object's type (after `/Type`), not the page tree's `/Pages`. */
const PAGE_TYPE = Buffer.from('/Page', 'latin1');
const TYPE_KEY = Buffer.from('/Type', 'latin1');
/** PDF 1.5 object streams, which hold objects (page objects among them) compressed. */
const OBJECT_STREAM_TYPE = Buffer.from('/ObjStm', 'latin1');
const OBJECT_STREAM = /\/Type\s*\/ObjStm\b([^]*?)stream\r?\n/g;
const END_STREAM = 'endstream';
/** What one object stream may inflate to: page dictionaries are small, so this is plenty. */
const MAX_OBJECT_STREAM_BYTES = 4 * 1024 * 1024;

function isPdfWhitespace(byte: number | undefined): boolean {
  // NUL, tab, line feed, form feed, carriage return, space.
  return byte === 0 || byte === 9 || byte === 10 || byte === 12 || byte === 13 || byte === 32;
}

function isNameCharacter(byte: number | undefined): boolean {
  if (byte === undefined) return false;
  return (byte >= 65 && byte <= 90) || (byte >= 97 && byte <= 122) || (byte >= 48 && byte <= 57);
}

/** Page objects (`/Type /Page`) written out in `bytes`. */
function pageObjectsIn(bytes: Buffer): number {
  let pages = 0;
  for (let at = bytes.indexOf(PAGE_TYPE); at !== -1; at = bytes.indexOf(PAGE_TYPE, at + 1)) {
    if (isNameCharacter(bytes[at + PAGE_TYPE.length])) continue; // /Pages, /PageLabels
    let before = at;
    while (before > 0 && isPdfWhitespace(bytes[before - 1])) before--;
    const key = before - TYPE_KEY.length;
    if (key >= 0 && bytes.subarray(key, before).equals(TYPE_KEY)) pages++;
  }
  return pages;
}

/** Page objects kept compressed in the object streams of `bytes`; one it cannot read adds none. */
function pageObjectsInObjectStreams(bytes: Buffer): number {
  const text = bytes.toString('latin1');
  let pages = 0;
  for (const match of text.matchAll(OBJECT_STREAM)) {
    const start = (match.index ?? 0) + match[0].length;
    const end = text.indexOf(END_STREAM, start);
    if (end === -1) continue;
    const data = bytes.subarray(start, end);
    try {
      const objects = /\/FlateDecode\b/.test(match[1] ?? '')
        ? inflateSync(data, { maxOutputLength: MAX_OBJECT_STREAM_BYTES })
        : data;
      pages += pageObjectsIn(objects);
    } catch {
      // Not deflate data, or too large: its pages go uncounted.
    }
  }
  return pages;
}

/**
 * The pages of a base64 PDF, at least one: its page objects, written out or in object
 * streams. An object written again by an update counts again, which errs high, as the
 * token estimates this serves do.
 */
export function pdfPageCount(base64: string): number {
  const bytes = Buffer.from(base64, 'base64');
  // Most PDFs have no object streams: their bytes are then searched once, natively.
  const compressed = bytes.includes(OBJECT_STREAM_TYPE) ? pageObjectsInObjectStreams(bytes) : 0;
  return Math.max(1, pageObjectsIn(bytes) + compressed);
}
