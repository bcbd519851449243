import { DataPlaneError, DataPlaneErrorCode } from '@aigw/contracts/data-plane';
import type { Field } from './upload-form';

/**
 * A `multipart/form-data` body of text fields then one file, as a backend's `POST /files`
 * reads it. Names and the filename are quoted as RFC 7578 says (percent-escaped). A field
 * sent twice is a 400: the gateway reads the first (a `purpose` of `batch` has its lines
 * checked and rewritten), and a backend that reads the last would take another file.
 */
export function fileUploadForm(
  fields: readonly Field[],
  file: {
    readonly filename: string;
    readonly contentType: string;
    /** The file's bytes, or its parts in order (a rewritten batch file's lines). */
    readonly data: Uint8Array | readonly Uint8Array[];
  },
): { contentType: string; data: Buffer } {
  const once = new FieldsOnce();
  fields.forEach(([name]) => once.check(name));
  const boundary = newBoundary();
  const parts: Buffer[] = [
    ...fields.map(([name, value]) => fieldPart(boundary, name, value)),
    fileHead(boundary, file),
    ...(Array.isArray(file.data) ? file.data : [file.data]).map((part: Uint8Array) =>
      Buffer.from(part.buffer, part.byteOffset, part.byteLength),
    ),
    fileEnd(boundary),
  ];
  return { contentType: contentTypeOf(boundary), data: Buffer.concat(parts) };
}

/**
 * The same form written as its file's bytes arrive (an upload streamed to its backend):
 * the fields, the file's head, its content, then the fields the client sent after its file
 * (read once its content is) and the closing delimiter, written only when all came whole:
 * a failure on the way (a refused line) ends the body without it, so no backend reads the
 * cut form as a file. Repeated fields are refused as `fileUploadForm` refuses them, those
 * before the file at once, those after it as they come.
 */
export function streamedUploadForm(
  fields: readonly Field[],
  file: {
    readonly filename: string;
    readonly contentType: string;
    readonly content: AsyncIterable<Uint8Array> | Iterable<Uint8Array>;
  },
  after: AsyncIterable<Field>,
): { contentType: string; body: AsyncGenerator<Buffer> } {
  const once = new FieldsOnce();
  fields.forEach(([name]) => once.check(name));
  const boundary = newBoundary();
  async function* body(): AsyncGenerator<Buffer> {
    for (const [name, value] of fields) yield fieldPart(boundary, name, value);
    yield fileHead(boundary, file);
    for await (const part of file.content) {
      yield Buffer.from(part.buffer, part.byteOffset, part.byteLength);
    }
    const ends: Buffer[] = [Buffer.from('\r\n')];
    for await (const [name, value] of after) {
      once.check(name);
      ends.push(fieldPart(boundary, name, value));
    }
    yield Buffer.concat([...ends, Buffer.from(`--${boundary}--\r\n`)]);
  }
  return { contentType: contentTypeOf(boundary), body: body() };
}

/** Refuses a field name seen before. */
class FieldsOnce {
  // The file's own part counts: a text field named `file` would give the backend two, and
  // it might read the one the gateway never checked.
  private readonly seen = new Set<string>(['file']);

  check(name: string): void {
    if (this.seen.has(name)) {
      throw new DataPlaneError(
        DataPlaneErrorCode.InvalidRequest,
        `'${name.slice(0, 64)}' must be sent once`,
        { param: name.slice(0, 64) },
      );
    }
    this.seen.add(name);
  }
}

const newBoundary = () => `aigw-${crypto.randomUUID()}`;
const contentTypeOf = (boundary: string) => `multipart/form-data; boundary=${boundary}`;

function fieldPart(boundary: string, name: string, value: string): Buffer {
  return Buffer.from(
    `--${boundary}\r\nContent-Disposition: form-data; name="${quoted(name)}"\r\n\r\n${value}\r\n`,
  );
}

function fileHead(boundary: string, file: { filename: string; contentType: string }): Buffer {
  return Buffer.from(
    `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${quoted(file.filename)}"\r\n` +
      `Content-Type: ${file.contentType.replace(/[\r\n]/g, '')}\r\n\r\n`,
  );
}

function fileEnd(boundary: string): Buffer {
  return Buffer.from(`\r\n--${boundary}--\r\n`);
}

function quoted(value: string): string {
  return value.replace(/"/g, '%22').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
}
