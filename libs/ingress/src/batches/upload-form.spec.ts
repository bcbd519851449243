// How much of an upload's form is held in memory: a file sent before its fields is held
// whole within the form's held limit (the body limit), one sent after them never is.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { DataPlaneError } from '@aigw/contracts/data-plane';
import { FormStream } from '../forms/multipart-stream';
import { readUploadForm } from './upload-form';

const KiB = 1024;

/** The form FormData writes for these parts, in chunks of 4 KiB, as a FormStream. */
async function formStream(
  parts: readonly (readonly [string, string | Buffer])[],
  maxBytes: number,
  maxHeldBytes: number,
): Promise<FormStream> {
  const form = new FormData();
  for (const [name, value] of parts) {
    if (typeof value === 'string') form.append(name, value);
    else form.append(name, new Blob([value]), 'in.jsonl');
  }
  const request = new Request('http://x/', { method: 'POST', body: form });
  const body = Buffer.from(await request.arrayBuffer());
  const chunks: Buffer[] = [];
  for (let at = 0; at < body.length; at += 4 * KiB) chunks.push(body.subarray(at, at + 4 * KiB));
  return new FormStream(
    Readable.from(chunks, { objectMode: false }),
    request.headers.get('content-type')!,
    maxBytes,
    maxHeldBytes,
  );
}

const hasPurpose = (fields: readonly (readonly [string, string])[]) =>
  fields.some(([name]) => name === 'purpose');

async function read(content: AsyncIterable<Buffer>): Promise<Buffer> {
  const pieces: Buffer[] = [];
  for await (const piece of content) pieces.push(piece);
  return Buffer.concat(pieces);
}

describe('readUploadForm: the held limit', () => {
  const file = Buffer.alloc(64 * KiB, 'a');

  it('streams a file sent after its fields past the held limit, up to the upload limit', async () => {
    const form = await formStream(
      [
        ['purpose', 'batch'],
        ['file', file],
      ],
      1024 * KiB,
      16 * KiB,
    );
    const upload = await readUploadForm(form, hasPurpose);
    assert.equal(upload.streamed, true);
    assert.ok((await read(upload.file!.content)).equals(file));
  });

  it('holds a file sent before its fields when it is within the held limit, as before', async () => {
    const form = await formStream(
      [
        ['file', file],
        ['purpose', 'batch'],
      ],
      1024 * KiB,
      64 * KiB,
    );
    const upload = await readUploadForm(form, hasPurpose);
    assert.equal(upload.streamed, false);
    assert.deepEqual(upload.fields, [['purpose', 'batch']]);
    assert.ok((await read(upload.file!.content)).equals(file));
  });

  it('refuses a file sent before its fields past the held limit: a 413 saying to send them first', async () => {
    const form = await formStream(
      [
        ['file', file],
        ['purpose', 'batch'],
      ],
      1024 * KiB,
      64 * KiB - 1,
    );
    await assert.rejects(readUploadForm(form, hasPurpose), (error: unknown) => {
      assert.ok(error instanceof DataPlaneError);
      assert.equal(error.httpStatus, 413);
      assert.equal(error.param, 'file');
      assert.match(error.message, /held in memory, up to 65535 bytes/);
      assert.match(error.message, /up to 1048576 bytes\), send 'purpose' \(and 'model'/);
      return true;
    });
  });

  it('refuses any form past the upload limit with the plain 413', async () => {
    const form = await formStream(
      [
        ['purpose', 'batch'],
        ['file', file],
      ],
      32 * KiB,
      32 * KiB,
    );
    const upload = await readUploadForm(form, hasPurpose);
    await assert.rejects(read(upload.file!.content), (error: unknown) => {
      assert.ok(error instanceof DataPlaneError);
      assert.equal(error.httpStatus, 413);
      assert.doesNotMatch(error.message, /purpose/);
      return true;
    });
  });
});
