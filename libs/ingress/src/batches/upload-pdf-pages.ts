import { PDF_HEADER_BYTES, startsAsPdf, uploadedPdfPages } from '@aigw/contracts/data-plane';
import { MAX_INLINE_FILE_BYTES } from './file-inputs';
import type { PdfCountMemory } from './pdf-count-memory';

/**
 * Why a PDF upload was not counted: larger than a call may send as content, or its bytes
 * did not fit in what all uploads being counted may keep in memory at once.
 */
export type PdfUncounted = 'too_large' | 'memory';

/**
 * The pages of an uploaded PDF, counted as its bytes pass on to the backend: a call that
 * later names the file by id sends no pages its budget hold could read. Bytes are kept only
 * while the file may be a PDF, is no larger than a call may send as file content
 * (MAX_INLINE_FILE_BYTES) and fits in `memory`, shared by every upload being counted: any
 * other file is counted as nothing here. `release` gives the bytes back however the upload
 * ended; `pages` does once it has read them.
 */
export class UploadPdfPages {
  private kept: Buffer[] | undefined = [];
  private keptBytes = 0;
  private headerRead = false;
  private whole = false;

  constructor(
    private readonly memory: PdfCountMemory,
    /** A PDF (so far) let go uncounted, and why (metrics). */
    private readonly onUncounted?: (reason: PdfUncounted) => void,
  ) {}

  /** `content` as it comes, its bytes kept for the count while they may be needed. */
  async *passing(content: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
    for await (const piece of content) {
      this.keep(piece);
      yield piece;
    }
    this.whole = true;
  }

  /** The PDF's pages once the whole file has passed; undefined for any other file. */
  pages(): number | undefined {
    if (!this.whole || !this.kept || this.keptBytes === 0) {
      this.release();
      return undefined;
    }
    const bytes = Buffer.concat(this.kept, this.keptBytes);
    this.release();
    return uploadedPdfPages(bytes);
  }

  /** Lets the kept bytes go and gives them back to `memory`; safe to call more than once. */
  release(): void {
    this.memory.give(this.keptBytes);
    this.kept = undefined;
    this.keptBytes = 0;
  }

  private keep(piece: Buffer): void {
    if (!this.kept) return;
    if (this.keptBytes + piece.length > MAX_INLINE_FILE_BYTES)
      return this.letGo('too_large', piece);
    if (!this.memory.take(piece.length)) return this.letGo('memory', piece);
    this.kept.push(piece);
    this.keptBytes += piece.length;
    if (!this.headerRead && this.keptBytes >= PDF_HEADER_BYTES) {
      // Once: a file that does not start as a PDF is let go at its first KiB.
      this.headerRead = true;
      if (!startsAsPdf(Buffer.concat(this.kept))) this.release();
    }
  }

  /** A file that may still be a PDF let go uncounted at `piece`: counted when it is one. */
  private letGo(reason: PdfUncounted, piece: Buffer): void {
    // Before its first KiB was read, only what came so far (under a KiB) and `piece` tell.
    const isPdf = this.headerRead || startsAsPdf(Buffer.concat([...(this.kept ?? []), piece]));
    this.release();
    if (isPdf) this.onUncounted?.(reason);
  }
}
