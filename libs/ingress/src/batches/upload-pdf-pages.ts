import { PDF_HEADER_BYTES, startsAsPdf, uploadedPdfPages } from '@aigw/contracts/data-plane';
import { MAX_INLINE_FILE_BYTES } from './file-inputs';

/**
 * The pages of an uploaded PDF, counted as its bytes pass on to the backend: a call that
 * later names the file by id sends no pages its budget hold could read. Bytes are kept only
 * while the file may be a PDF and is no larger than a call may send as file content
 * (MAX_INLINE_FILE_BYTES): a larger one, or any other file, is counted as nothing here.
 */
export class UploadPdfPages {
  private kept: Buffer[] | undefined = [];
  private keptBytes = 0;
  private headerRead = false;
  private whole = false;

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
    if (!this.whole || !this.kept || this.keptBytes === 0) return undefined;
    const bytes = Buffer.concat(this.kept, this.keptBytes);
    this.kept = undefined;
    return uploadedPdfPages(bytes);
  }

  private keep(piece: Buffer): void {
    if (!this.kept) return;
    this.kept.push(piece);
    this.keptBytes += piece.length;
    if (this.keptBytes > MAX_INLINE_FILE_BYTES) {
      this.kept = undefined;
    } else if (!this.headerRead && this.keptBytes >= PDF_HEADER_BYTES) {
      // Once: a file that does not start as a PDF is let go at its first KiB.
      this.headerRead = true;
      if (!startsAsPdf(Buffer.concat(this.kept))) this.kept = undefined;
    }
  }
}
