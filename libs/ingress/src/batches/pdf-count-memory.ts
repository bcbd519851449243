import { MAX_INLINE_FILE_BYTES } from './file-inputs';

/**
 * What all the uploads being counted at once (UploadPdfPages) may keep in memory by
 * default: four PDFs of the most a call may send as content (128 MiB).
 */
export const DEFAULT_PDF_COUNT_MEMORY_BYTES = 4 * MAX_INLINE_FILE_BYTES;

/**
 * The bytes every PDF upload being counted keeps in memory, shared by them all: each may
 * keep up to 32 MiB until it has passed whole, so many at once could otherwise take the
 * process's memory. An upload whose next bytes do not fit is let go uncounted (a call
 * naming it is then held at its size, as for any file uncounted). The count itself copies
 * one upload's bytes whole, but runs synchronously: one such copy at a time, beyond this.
 */
export class PdfCountMemory {
  private keptBytes = 0;

  constructor(readonly maxBytes: number = DEFAULT_PDF_COUNT_MEMORY_BYTES) {}

  /** Room for `bytes` more, taken; false (nothing taken) when they do not fit. */
  take(bytes: number): boolean {
    if (this.keptBytes + bytes > this.maxBytes) return false;
    this.keptBytes += bytes;
    return true;
  }

  /** `bytes` taken before, given back. */
  give(bytes: number): void {
    this.keptBytes -= bytes;
  }

  /** The bytes kept now, by every upload being counted. */
  get kept(): number {
    return this.keptBytes;
  }
}
