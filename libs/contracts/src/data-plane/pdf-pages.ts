import { inflateSync } from 'node:zlib';

// How many pages a PDF has, read from its bytes without a PDF library: a prompt's
// documents are billed by the page, and a token estimate has nothing else to go by.

/** `/Page` as a page object's type (after `/Type`), not the page tree's `/Pages`. */
const PAGE_TYPE = Buffer.from('/Page', 'latin1');
const TYPE_KEY = Buffer.from('/Type', 'latin1');
/** PDF 1.5 object streams, which hold objects (page objects among them) compressed. */
const OBJECT_STREAM_TYPE = Buffer.from('/ObjStm', 'latin1');
const STREAM = Buffer.from('stream', 'latin1');
const END_STREAM = Buffer.from('endstream', 'latin1');
const FLATE = /\/FlateDecode\b/;
/** How far either side of `/ObjStm` its dictionary may go: its few keys take far less. */
const MAX_DICTIONARY_BYTES = 256;
/** The object streams read at most: a thousand-page PDF has a few dozen. */
const MAX_OBJECT_STREAMS = 4_096;
/**
 * What all of a PDF's object streams may inflate to, together: page dictionaries are small
 * (a thousand pages take a few hundred KiB), and a client's deflate bombs must not hold the
 * event loop. Streams past it go uncounted.
 */
const MAX_INFLATED_BYTES = 16 * 1024 * 1024;

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

/** Where an object stream's data starts, after the `stream` line ending its dictionary. */
function streamDataStart(bytes: Buffer, marker: number): number | undefined {
  const from = marker + OBJECT_STREAM_TYPE.length;
  const dictionary = bytes.subarray(from, from + MAX_DICTIONARY_BYTES);
  const keyword = dictionary.indexOf(STREAM);
  if (keyword === -1) return undefined;
  let start = from + keyword + STREAM.length;
  if (bytes[start] === 13) start++; // CR LF
  return bytes[start] === 10 ? start + 1 : undefined;
}

/** Page objects kept compressed in the object streams of `bytes`; one it cannot read adds none. */
function pageObjectsInObjectStreams(bytes: Buffer): number {
  let pages = 0;
  let inflatable = MAX_INFLATED_BYTES;
  let marker = bytes.indexOf(OBJECT_STREAM_TYPE);
  for (let read = 0; marker !== -1 && read < MAX_OBJECT_STREAMS && inflatable > 0; read++) {
    const next = bytes.indexOf(OBJECT_STREAM_TYPE, marker + 1);
    const start = streamDataStart(bytes, marker);
    const end = start === undefined ? -1 : bytes.indexOf(END_STREAM, start);
    // Its dictionary's keys come in any order; one not deflated was read with the rest.
    const dictionaryFrom = Math.max(0, marker - MAX_DICTIONARY_BYTES);
    const deflated =
      start !== undefined && FLATE.test(bytes.toString('latin1', dictionaryFrom, start));
    if (end !== -1 && deflated) {
      try {
        const objects = inflateSync(bytes.subarray(start, end), { maxOutputLength: inflatable });
        inflatable -= objects.length;
        pages += pageObjectsIn(objects);
      } catch (error) {
        // Past what is left to inflate (which it took), or not deflate data: uncounted.
        const tooLarge = (error as { code?: unknown }).code === 'ERR_BUFFER_TOO_LARGE';
        inflatable = tooLarge ? 0 : inflatable - (end - (start ?? end));
      }
    }
    marker = next;
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
  return Math.max(1, pageObjectsIn(bytes) + pageObjectsInObjectStreams(bytes));
}
