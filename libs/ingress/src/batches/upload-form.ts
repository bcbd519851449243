import { DataPlaneError, DataPlaneErrorCode } from '@aigw/contracts/data-plane';
import type { FormStream, MultipartReader } from '../forms/multipart-stream';

export type Field = readonly [string, string];

/** The client's `POST /v1/files` form, read up to its file. */
export interface UploadForm {
  /** The text fields read so far: those before the file, or all when the file was held. */
  readonly fields: readonly Field[];
  readonly file?: {
    readonly filename: string;
    readonly contentType: string;
    /** The file's bytes: as they arrive when streamed, else held whole. */
    readonly content: AsyncIterable<Buffer>;
  };
  /** The fields after a streamed file, read once its content is (none otherwise). */
  readonly after: AsyncIterable<Field>;
  /** Whether the file is read as it arrives (rather than held). */
  readonly streamed: boolean;
  /** The file's bytes read so far. */
  fileBytes(): number;
}

/**
 * Reads an upload's form up to its `file` part. When the fields it needs to start (purpose
 * and model, `canStream`) came before it, the file is left to be read as it arrives, and
 * the rest of the form after it. Otherwise (the Node SDK writes `{ file, purpose }` in that
 * order) the file is held until the fields after it are read, as every upload once was,
 * within the form's `maxHeldBytes` (the body limit): past it, a 413 saying to send the
 * fields first. A file part under another name is skipped: only `file` goes on, as before.
 */
export async function readUploadForm(
  form: FormStream,
  canStream: (fields: readonly Field[]) => boolean,
): Promise<UploadForm> {
  const reader = form.reader();
  const fields: Field[] = [];
  let fileBytes = 0;
  const counted = async function* (content: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
    for await (const piece of content) {
      fileBytes += piece.length;
      yield piece;
    }
  };
  for (let part = await reader.nextPart(); part; part = await reader.nextPart()) {
    if (part.filename === undefined) {
      fields.push([part.name, await reader.text()]);
      continue;
    }
    if (part.name !== 'file') continue;
    const head = { filename: part.filename, contentType: part.contentType };
    if (canStream(fields)) {
      return {
        fields,
        file: { ...head, content: counted(reader.content()) },
        after: fieldsAfter(reader),
        streamed: true,
        fileBytes: () => fileBytes,
      };
    }
    const held: Buffer[] = [];
    for await (const piece of counted(reader.content())) {
      if (fileBytes > form.maxHeldBytes) throw heldTooLarge(form);
      held.push(piece);
    }
    for await (const field of fieldsAfter(reader)) fields.push(field);
    return {
      fields,
      file: { ...head, content: listed(held) },
      after: listed([]),
      streamed: false,
      fileBytes: () => fileBytes,
    };
  }
  return { fields, after: listed([]), streamed: false, fileBytes: () => fileBytes };
}

/** The text fields of the rest of the form (other file parts skipped), to its end. */
async function* fieldsAfter(reader: MultipartReader): AsyncGenerator<Field> {
  for (let part = await reader.nextPart(); part; part = await reader.nextPart()) {
    if (part.filename === undefined) yield [part.name, await reader.text()];
  }
}

async function* listed<T>(items: readonly T[]): AsyncGenerator<T> {
  yield* items;
}

/** A file sent before its fields grew past what is held in memory: how to send a larger one. */
function heldTooLarge(form: FormStream): DataPlaneError {
  return new DataPlaneError(
    DataPlaneErrorCode.BodyTooLarge,
    `A file sent before its 'purpose' and 'model' fields is held in memory, up to ${form.maxHeldBytes} bytes: ` +
      `to upload a larger file (up to ${form.maxBytes} bytes), send 'purpose' (and 'model', unless the ` +
      `x-ai-gateway-model header names it) before 'file' in the form.`,
    { param: 'file' },
  );
}
