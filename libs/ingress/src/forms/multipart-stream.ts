import type { Readable } from 'node:stream';
import { DataPlaneError, DataPlaneErrorCode } from '@aigw/contracts/data-plane';
import {
  dispositionOf,
  formBoundary,
  invalidForm,
  MAX_PART_HEADER_BYTES,
  MAX_PARTS,
  partHeaders,
} from './multipart-form';
import { MultipartScan } from './multipart-scan';

/**
 * A `multipart/form-data` request body not read yet (the Files API's upload): read part by
 * part as it arrives, so a file of any size up to `maxBytes` is never held whole.
 */
export class FormStream {
  constructor(
    readonly body: Readable,
    readonly contentType: string | undefined,
    /** The upload's limit (AI_GATEWAY_MAX_FILE_BYTES): past it the read fails with a 413. */
    readonly maxBytes: number,
    /**
     * What its reader may hold in memory (AI_GATEWAY_MAX_BODY_BYTES): a batch line is read
     * whole within it. A file is never held: one sent before its fields waits on disk.
     */
    readonly maxHeldBytes: number = maxBytes,
  ) {}

  private opened?: MultipartReader;

  /** The reader of its parts (one per body); a form without a boundary is a 400. */
  reader(): MultipartReader {
    if (this.opened) return this.opened;
    const boundary = formBoundary(this.contentType);
    if (boundary === undefined) {
      throw invalidForm("Send the form as 'multipart/form-data' with a boundary");
    }
    this.opened = new MultipartReader(this.body, boundary, this.maxBytes);
    return this.opened;
  }

  /**
   * Reads and drops what the client is still sending (at most `max` bytes), so an answer
   * given before the end (a refused line, a 413) reaches a client that is still writing
   * rather than a reset connection.
   */
  drain(max = DRAIN_BYTES): Promise<void> {
    // A body being read by its reader is read on by it (a stream read one way at a time).
    if (this.opened) return this.opened.drain(max);
    const { body } = this;
    return new Promise((resolve) => {
      if (body.readableEnded || body.destroyed) return resolve();
      let drained = 0;
      const done = () => {
        body.off('data', onData);
        resolve();
      };
      const onData = (chunk: Buffer) => {
        drained += chunk.length;
        if (drained > max) done();
      };
      body.on('data', onData);
      body.once('end', done);
      body.once('close', done);
      body.once('error', done);
      body.resume();
    });
  }
}

/** Past this much a refused upload's rest is not read: its connection is let close. */
const DRAIN_BYTES = 64 * 1024 * 1024;
/** A text field is a purpose, a model, an expiry: far less than this. */
const MAX_FIELD_BYTES = 64 * 1024;
const CRLF = Buffer.from('\r\n');
const HEADER_END = Buffer.from('\r\n\r\n');

/** A part's head: its field name, and a file part's filename and type. */
export interface PartHead {
  readonly name: string;
  readonly filename?: string;
  readonly contentType: string;
}

function bodyTooLarge(): DataPlaneError {
  return new DataPlaneError(
    DataPlaneErrorCode.BodyTooLarge,
    'The request body is larger than this gateway accepts',
  );
}

/**
 * Reads a `multipart/form-data` body (RFC 7578) part by part as it arrives: `nextPart`
 * gives a part's head, then `content` its bytes as they come (only the tail that may
 * hold the next delimiter is kept back) or `text` a field's value. Whatever a part's
 * content the caller does not read is skipped by the next `nextPart`. The body's bytes are
 * counted as they arrive: past `maxBytes` the read fails with a 413.
 */
export class MultipartReader extends MultipartScan {
  private parts = 0;

  constructor(body: AsyncIterable<unknown>, boundary: string, maxBytes: number) {
    super(body, boundary, maxBytes, { tooLarge: bodyTooLarge, endsEarly: endsBeforeClosing });
  }

  /** The next part's head, or undefined after the closing delimiter. */
  async nextPart(): Promise<PartHead | undefined> {
    if (this.state === 'preamble') {
      await this.skip(() =>
        invalidForm('The multipart body has no part (its boundary never appears)'),
      );
    } else if (this.state === 'content') {
      await this.skip();
    }
    if (this.state === 'done') return undefined;
    await this.atLeast(2);
    // `--` after a delimiter closes the form.
    if (this.held[0] === 0x2d && this.held[1] === 0x2d) {
      this.state = 'done';
      await this.readToEnd();
      return undefined;
    }
    if (this.parts >= MAX_PARTS) throw invalidForm(`The form has more than ${MAX_PARTS} parts`);
    this.parts++;
    if (!this.held.subarray(0, 2).equals(CRLF))
      throw invalidForm('The multipart body is malformed');
    this.held = this.held.subarray(2);
    let end = this.held.indexOf(HEADER_END);
    while (end === -1 && this.held.length <= MAX_PART_HEADER_BYTES + HEADER_END.length) {
      if (!(await this.more())) break;
      end = this.held.indexOf(HEADER_END);
    }
    if (end === -1 || end > MAX_PART_HEADER_BYTES) {
      throw invalidForm('A part of the multipart body has no end to its headers');
    }
    const headers = partHeaders(this.held.toString('utf8', 0, end));
    this.held = this.held.subarray(end + HEADER_END.length);
    const disposition = dispositionOf(headers['content-disposition']);
    this.state = 'content';
    return {
      ...disposition,
      contentType: headers['content-type'] || 'application/octet-stream',
    };
  }

  /** The current part's bytes as they arrive, up to its closing delimiter. */
  content(): AsyncGenerator<Buffer> {
    return this.untilDelimiter();
  }

  /** The current part's content as text (a field's value), at most 64 KiB. */
  text(): Promise<string> {
    return this.whole(MAX_FIELD_BYTES, () =>
      invalidForm(`A text field of the form is longer than ${MAX_FIELD_BYTES} bytes`),
    );
  }

  /** The body's bytes read so far. */
  get bytesRead(): number {
    return this.received;
  }

  /**
   * Reads and drops the rest of the body, at most `max` bytes more (errors end it: the
   * client is gone, or its body was bad).
   */
  async drain(max: number): Promise<void> {
    let drained = 0;
    try {
      for (let next = await this.source.next(); !next.done; next = await this.source.next()) {
        drained += (next.value as Uint8Array).length;
        if (drained > max) return;
      }
    } catch {
      // Nothing more to read.
    }
  }

  /** The current part's (or the preamble's) rest, read and dropped. */
  private async skip(missing?: () => DataPlaneError): Promise<void> {
    for await (const piece of this.untilDelimiter(missing)) void piece;
  }

  /** What follows the closing delimiter (an epilogue) is read, counted and dropped. */
  private async readToEnd(): Promise<void> {
    while (await this.more()) this.held = this.held.subarray(this.held.length);
  }
}

function endsBeforeClosing(): DataPlaneError {
  return invalidForm('The multipart body ends before its closing boundary');
}
