import { constants, inflateSync } from 'node:zlib';

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
 * What all the object streams read may inflate to, together: page dictionaries are small
 * (a thousand pages take a few hundred KiB), and a client's deflate bombs must not hold the
 * event loop. Streams past it go uncounted.
 */
const MAX_INFLATED_BYTES = 16 * 1024 * 1024;
/** Streams that would not inflate, at most, before the rest are left: each is an Error. */
const MAX_UNREADABLE_STREAMS = 16;

/** A stream cut short still gives what it holds, rather than an error. */
const INFLATE_CUT_SHORT = { finishFlush: constants.Z_SYNC_FLUSH };

/**
 * What reading PDFs for their pages may still cost, shared by all of a prompt's files: with
 * an allowance each, a request of many small deflate bombs held the event loop for seconds.
 * Object streams past it go uncounted (their file counts its written-out pages, one at least).
 */
export class PdfReadAllowance {
  /** Object streams that may still be looked at. */
  objectStreams = MAX_OBJECT_STREAMS;
  /** Bytes they may still inflate to. */
  inflatable = MAX_INFLATED_BYTES;
  /** Streams that may still fail to inflate. */
  unreadable = MAX_UNREADABLE_STREAMS;
}

function isPdfWhitespace(byte: number | undefined): boolean {
  // NUL, tab, line feed, form feed, carriage return, space.
  return byte === 0 || byte === 9 || byte === 10 || byte === 12 || byte === 13 || byte === 32;
}

function isNameCharacter(byte: number | undefined): boolean {
  if (byte === undefined) return false;
  return (byte >= 65 && byte <= 90) || (byte >= 97 && byte <= 122) || (byte >= 48 && byte <= 57);
}

/** The most pages counted: past every model's limit (Anthropic reads 600 at most). */
const MAX_PAGES = 10_000;
/** The `/Page` names looked at, at most: a real PDF has one or two a page. */
const MAX_PAGE_NAMES = 100_000;

/** Pages counted so far, and what reading for them may still cost. */
class PageTally {
  pages = 0;
  names = 0;

  get done(): boolean {
    return this.pages >= MAX_PAGES || this.names >= MAX_PAGE_NAMES;
  }

  /**
   * The count: a file with more `/Page` names than any document has is no document a
   * model reads, and counts as the most pages, erring high as the estimates do.
   */
  get count(): number {
    return this.names >= MAX_PAGE_NAMES ? MAX_PAGES : Math.min(this.pages, MAX_PAGES);
  }
}

/** Whether `/Type` (and any whitespace) comes right before `at`. */
function typeKeyBefore(bytes: Buffer, at: number): boolean {
  let before = at;
  while (before > 0 && isPdfWhitespace(bytes[before - 1])) before--;
  const key = before - TYPE_KEY.length;
  if (key < 0) return false;
  for (let i = 0; i < TYPE_KEY.length; i++) if (bytes[key + i] !== TYPE_KEY[i]) return false;
  return true;
}

/** Counts the page objects (`/Type /Page`) written out in `bytes`. */
function countPageObjects(bytes: Buffer, tally: PageTally): void {
  let at = bytes.indexOf(PAGE_TYPE);
  while (at !== -1 && !tally.done) {
    tally.names++;
    // Not /Pages, /PageLabels.
    if (!isNameCharacter(bytes[at + PAGE_TYPE.length]) && typeKeyBefore(bytes, at)) tally.pages++;
    at = bytes.indexOf(PAGE_TYPE, at + PAGE_TYPE.length);
  }
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

/**
 * Counts the page objects kept compressed in the object streams of `bytes`; one it cannot
 * read adds none. Each byte is searched once: the next stream is looked for after the last.
 */
function countPagesInObjectStreams(
  bytes: Buffer,
  tally: PageTally,
  allowance: PdfReadAllowance,
): void {
  let marker = bytes.indexOf(OBJECT_STREAM_TYPE);
  while (marker !== -1 && allowance.objectStreams > 0) {
    allowance.objectStreams--;
    if (allowance.inflatable <= 0 || allowance.unreadable <= 0 || tally.done) return;
    const start = streamDataStart(bytes, marker);
    let resumeAt = marker + OBJECT_STREAM_TYPE.length;
    if (start !== undefined) {
      const end = bytes.indexOf(END_STREAM, start);
      if (end === -1) return; // no stream ends after this one, nor after a later one
      resumeAt = end;
      // Its dictionary's keys come in any order; one not deflated was read with the rest.
      const dictionary = bytes.toString(
        'latin1',
        Math.max(0, marker - MAX_DICTIONARY_BYTES),
        start,
      );
      if (FLATE.test(dictionary)) {
        try {
          const objects = inflateSync(bytes.subarray(start, end), {
            ...INFLATE_CUT_SHORT,
            maxOutputLength: allowance.inflatable,
          });
          allowance.inflatable -= objects.length;
          countPageObjects(objects, tally);
        } catch (error) {
          // Past what is left to inflate (which it took), or not deflate data: uncounted.
          const tooLarge = (error as { code?: unknown }).code === 'ERR_BUFFER_TOO_LARGE';
          allowance.inflatable = tooLarge ? 0 : allowance.inflatable - (end - start);
          allowance.unreadable--;
        }
      }
    }
    marker = bytes.indexOf(OBJECT_STREAM_TYPE, resumeAt);
  }
}

/**
 * The pages of a PDF (its bytes, or them in base64), at least one: its page objects,
 * written out or in object streams. An object written again by an update counts again,
 * which errs high, as the token estimates this serves do. The reading is bounded (pages,
 * names, streams, inflated bytes), so a client's crafted file costs little; a prompt's
 * files share one `allowance`.
 */
export function pdfPageCount(
  pdf: string | Buffer,
  allowance: PdfReadAllowance = new PdfReadAllowance(),
): number {
  const bytes = typeof pdf === 'string' ? Buffer.from(pdf, 'base64') : pdf;
  const tally = new PageTally();
  countPageObjects(bytes, tally);
  countPagesInObjectStreams(bytes, tally, allowance);
  return Math.max(1, tally.count);
}
