import { DataPlaneError, DataPlaneErrorCode } from '@aigw/contracts/data-plane';
import { boundaryOf, MAX_PART_HEADER_BYTES } from '../../forms/multipart-form';
import { MultipartScan } from '../../forms/multipart-scan';

// Google's simple multipart upload (`uploadType=multipart`, or `X-Goog-Upload-Protocol:
// multipart`): one `multipart/related` body (or `multipart/form-data`, as curl's -F sends
// it) of a JSON metadata part and then the media part. Read as it arrives: the metadata
// part is small and read whole; the media part's bytes are handed on as they come, only
// a tail that may hold the closing delimiter kept back.

const CRLF = Buffer.from('\r\n');
const HEADER_END = Buffer.from('\r\n\r\n');

/** Whether an upload request is the simple multipart one (and not a resumable start). */
export function isMultipartUpload(
  query: Readonly<Record<string, unknown>>,
  protocol: string | undefined,
): boolean {
  return query.uploadType === 'multipart' || protocol?.toLowerCase() === 'multipart';
}

/** The boundary of a `multipart/related` or `multipart/form-data` body, if it has one. */
export function multipartBoundary(contentType: string | undefined): string | undefined {
  return boundaryOf(contentType, /^multipart\/(related|form-data)\s*(;|$)/i);
}

/** A part's headers, lower-cased names. */
export type PartHeaders = Readonly<Record<string, string>>;

/**
 * A multipart body's parts in turn: `nextPart` gives a part's headers (undefined after the
 * closing delimiter), `content` its bytes as they arrive. A part not read is skipped.
 */
export class MultipartParts extends MultipartScan {
  constructor(
    body: AsyncIterable<unknown>,
    boundary: string,
    /** The whole body's limit: past it, a 413. */
    maxBytes: number,
  ) {
    super(body, boundary, maxBytes, {
      tooLarge: () =>
        new DataPlaneError(
          DataPlaneErrorCode.BodyTooLarge,
          `The file is larger than the ${maxBytes} bytes this gateway takes`,
        ),
      endsEarly: malformed,
    });
  }

  async nextPart(): Promise<PartHeaders | undefined> {
    if (this.state === 'preamble' || this.state === 'content') {
      for await (const skipped of this.content()) void skipped;
    }
    if (this.state === 'done') return undefined;
    await this.atLeast(2);
    if (this.held[0] === 0x2d && this.held[1] === 0x2d) {
      this.state = 'done';
      return undefined;
    }
    if (!this.held.subarray(0, 2).equals(CRLF)) throw malformed();
    // The delimiter's CRLF is kept: a part with no headers ends its (empty) block at once.
    let end = this.held.indexOf(HEADER_END);
    while (end === -1 && this.held.length <= MAX_PART_HEADER_BYTES) {
      if (!(await this.more())) break;
      end = this.held.indexOf(HEADER_END);
    }
    if (end === -1 || end > MAX_PART_HEADER_BYTES) throw malformed();
    const headers: Record<string, string> = {};
    const block = end === 0 ? '' : this.held.toString('utf8', CRLF.length, end);
    for (const line of block.split('\r\n')) {
      const colon = line.indexOf(':');
      if (colon > 0)
        headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
    }
    this.held = this.held.subarray(end + HEADER_END.length);
    this.state = 'content';
    return headers;
  }

  /** The current part's bytes as they arrive, up to the next delimiter. */
  content(): AsyncGenerator<Buffer> {
    return this.untilDelimiter();
  }

  /** The current part whole, at most `max` bytes (a 400 past it). */
  text(max: number, what: string): Promise<string> {
    return this.whole(max, () => invalid(`The ${what} part is larger than ${max} bytes`));
  }
}

function malformed(): DataPlaneError {
  return invalid(
    'The multipart upload is malformed: send a JSON metadata part, then the media part, each after the boundary, and the closing boundary',
  );
}

function invalid(message: string): DataPlaneError {
  return new DataPlaneError(DataPlaneErrorCode.InvalidRequest, message);
}
