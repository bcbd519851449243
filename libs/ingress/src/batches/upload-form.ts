import type { FormStream, MultipartReader } from '../forms/multipart-stream';
import type { SpooledFile, UploadSpool } from '../forms/upload-spool';

export type Field = readonly [string, string];

/** The client's `POST /v1/files` form, read up to its file. */
export interface UploadForm {
  /** The text fields read so far: those before the file, or all when the file was spooled. */
  readonly fields: readonly Field[];
  readonly file?: {
    readonly filename: string;
    readonly contentType: string;
    /** The file's bytes: as they arrive, or read back from its spool file. */
    readonly content: AsyncIterable<Buffer>;
  };
  /** The fields after a file read as it arrives, read once its content is (none otherwise). */
  readonly after: AsyncIterable<Field>;
  /** Whether the file waited on disk for the fields after it. */
  readonly spooled: boolean;
  /** The file's bytes read so far. */
  fileBytes(): number;
  /** Deletes the file's spool file, if any: once the upload is done, however it ended. */
  discard(): Promise<void>;
}

/**
 * Reads an upload's form up to its `file` part. When the fields it needs to start (purpose
 * and model, `canStream`) came before it, the file is left to be read as it arrives, and
 * the rest of the form after it. Otherwise (the SDKs and curl send `file` first when it is
 * given first) the file is written to a file of `spool` as it arrives, and read back from
 * it once the fields after it are: never held in memory. A file part under another name is
 * skipped: only `file` goes on, as before.
 */
export async function readUploadForm(
  form: FormStream,
  canStream: (fields: readonly Field[]) => boolean,
  spool: UploadSpool,
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
  const nothingToDiscard = () => Promise.resolve();
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
        spooled: false,
        fileBytes: () => fileBytes,
        discard: nothingToDiscard,
      };
    }
    const spooled = await spool.spool(counted(reader.content()));
    try {
      for await (const field of fieldsAfter(reader)) fields.push(field);
    } catch (error) {
      await spooled.remove();
      throw error;
    }
    return {
      fields,
      file: { ...head, content: readBack(spooled) },
      after: listed([]),
      spooled: true,
      fileBytes: () => fileBytes,
      discard: () => spooled.remove(),
    };
  }
  return {
    fields,
    after: listed([]),
    spooled: false,
    fileBytes: () => fileBytes,
    discard: nothingToDiscard,
  };
}

/** The text fields of the rest of the form (other file parts skipped), to its end. */
async function* fieldsAfter(reader: MultipartReader): AsyncGenerator<Field> {
  for (let part = await reader.nextPart(); part; part = await reader.nextPart()) {
    if (part.filename === undefined) yield [part.name, await reader.text()];
  }
}

/** A spooled file's bytes, read from disk only once asked for (the upload may be refused first). */
async function* readBack(spooled: SpooledFile): AsyncGenerator<Buffer> {
  yield* spooled.content();
}

async function* listed<T>(items: readonly T[]): AsyncGenerator<T> {
  yield* items;
}
