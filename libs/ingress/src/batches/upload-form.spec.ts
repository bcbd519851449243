// How much of an upload's form is held in memory: a file sent after its fields is read as
// it arrives; one sent before them waits on disk (a spool file) and is never held whole.
import { after, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { DataPlaneError } from '@aigw/contracts/data-plane';
import { FormStream } from '../forms/multipart-stream';
import { UploadSpool } from '../forms/upload-spool';
import { readUploadForm } from './upload-form';

const KiB = 1024;
const MiB = 1024 * KiB;
const BOUNDARY = 'spec-boundary';
const TYPE = `multipart/form-data; boundary=${BOUNDARY}`;

const filePart = (name = 'file') =>
  Buffer.from(
    `--${BOUNDARY}\r\nContent-Disposition: form-data; name="${name}"; filename="in.jsonl"\r\n` +
      'Content-Type: application/octet-stream\r\n\r\n',
  );
const fieldPart = (name: string, value: string) =>
  Buffer.from(
    `--${BOUNDARY}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`,
  );
const CLOSE = Buffer.from(`--${BOUNDARY}--\r\n`);

/** `bytes` of file content in 64 KiB chunks, made as they are read (never whole here). */
function* fileChunks(bytes: number): Generator<Buffer> {
  for (let at = 0; at < bytes; at += 64 * KiB) {
    yield Buffer.alloc(Math.min(64 * KiB, bytes - at), at % 251);
  }
}

/** The content fileChunks makes, hashed a chunk at a time: compared without holding it. */
async function digestOf(content: AsyncIterable<Buffer> | Iterable<Buffer>): Promise<string> {
  const { createHash } = await import('node:crypto');
  const hash = createHash('sha256');
  for await (const piece of content) hash.update(piece);
  return hash.digest('hex');
}

/** A full collection (gc exposed for this spec). */
const collect = (() => {
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
})();

/**
 * The bytes Buffers hold now, after collections: V8 frees a dead Buffer's memory on a
 * background thread, late on a busy machine, so the least of a few rounds, a pause after
 * each. Bytes still referenced (a file held in memory) never drop out of it.
 */
async function heldBytes(): Promise<number> {
  let least = Infinity;
  for (let round = 0; round < 10; round++) {
    collect();
    await new Promise((resolve) => setTimeout(resolve, 30));
    least = Math.min(least, process.memoryUsage().arrayBuffers);
  }
  return least;
}

const hasPurpose = (fields: readonly (readonly [string, string])[]) =>
  fields.some(([name]) => name === 'purpose');

describe('readUploadForm: a file sent before its purpose', () => {
  const root = mkdtempSync(join(tmpdir(), 'upload-form-spec-'));
  let dir: string;
  let spool: UploadSpool;
  let run = 0;
  beforeEach(() => {
    dir = join(root, `spool-${run++}`);
    spool = new UploadSpool(dir, 64 * MiB);
  });
  after(() => rmSync(root, { recursive: true, force: true }));

  const spoolFiles = () => {
    try {
      return readdirSync(dir);
    } catch {
      return [];
    }
  };

  it('writes it to disk as it arrives, before its purpose comes, holding far less than the file in memory', async () => {
    const size = 24 * MiB;
    let letPurposeCome!: () => void;
    const purposeMayCome = new Promise<void>((resolve) => (letPurposeCome = resolve));
    let spooledBeforePurpose = -1;
    async function* body() {
      yield filePart();
      yield* fileChunks(size);
      yield Buffer.from('\r\n');
      await purposeMayCome;
      yield fieldPart('purpose', 'batch');
      yield CLOSE;
    }
    // The held limit (the body limit) is far below the file: holding it whole was a 413.
    const form = new FormStream(Readable.from(body(), { objectMode: false }), TYPE, 64 * MiB, MiB);
    const heldBefore = await heldBytes();
    const reading = readUploadForm(form, hasPurpose, spool);
    // Once the whole file was read, the form waits for its purpose: the file is on disk.
    // Its size is read from the disk itself: the spool counts a piece before the file
    // system has it, so a read as the count reached the size could miss the last write.
    const onDisk = () => {
      const [name] = spoolFiles();
      return name === undefined ? -1 : statSync(join(dir, name)).size;
    };
    for (let tries = 0; tries < 2000 && (spool.bytes < size || onDisk() < size); tries++) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    assert.ok(spoolFiles().length > 0, 'a spool file while the purpose is awaited');
    spooledBeforePurpose = onDisk();
    // What is held while the purpose is awaited, after a collection: not the file.
    const heldWhileWaiting = (await heldBytes()) - heldBefore;
    letPurposeCome();
    const upload = await reading;
    assert.equal(spooledBeforePurpose, size, 'the whole file on disk before its purpose came');
    assert.equal(upload.spooled, true);
    assert.deepEqual(upload.fields, [['purpose', 'batch']]);
    assert.equal(upload.fileBytes(), size);
    assert.ok(
      heldWhileWaiting < 4 * MiB,
      `${heldWhileWaiting} bytes more held awaiting the purpose`,
    );
    assert.equal(await digestOf(upload.file!.content), await digestOf(fileChunks(size)));
    await upload.discard();
    assert.deepEqual(spoolFiles(), [], 'the spool file deleted');
    assert.equal(spool.bytes, 0, 'its bytes given back');
  });

  it('deletes the spool file when the client goes mid-file', async () => {
    async function* body() {
      yield filePart();
      yield* fileChunks(2 * MiB);
      throw Object.assign(new Error('aborted'), { code: 'ECONNRESET' });
    }
    const form = new FormStream(Readable.from(body(), { objectMode: false }), TYPE, 64 * MiB, MiB);
    await assert.rejects(readUploadForm(form, hasPurpose, spool), { code: 'ECONNRESET' });
    assert.deepEqual(spoolFiles(), []);
    assert.equal(spool.bytes, 0);
  });

  it('deletes the spool file when the client goes after the file, before its purpose', async () => {
    async function* body() {
      yield filePart();
      yield* fileChunks(2 * MiB);
      yield Buffer.from('\r\n');
      yield Buffer.from(`--${BOUNDARY}\r\nContent-Disposition: form-data; name="purp`);
      throw Object.assign(new Error('aborted'), { code: 'ECONNRESET' });
    }
    const form = new FormStream(Readable.from(body(), { objectMode: false }), TYPE, 64 * MiB, MiB);
    await assert.rejects(readUploadForm(form, hasPurpose, spool), { code: 'ECONNRESET' });
    assert.deepEqual(spoolFiles(), []);
    assert.equal(spool.bytes, 0);
  });

  it('refuses a file past the upload limit with the 413 and deletes what was spooled', async () => {
    async function* body() {
      yield filePart();
      yield* fileChunks(5 * MiB);
      yield Buffer.from('\r\n');
      yield fieldPart('purpose', 'batch');
      yield CLOSE;
    }
    const form = new FormStream(Readable.from(body(), { objectMode: false }), TYPE, 4 * MiB, MiB);
    await assert.rejects(readUploadForm(form, hasPurpose, spool), (error: unknown) => {
      assert.ok(error instanceof DataPlaneError);
      assert.equal(error.httpStatus, 413);
      return true;
    });
    assert.deepEqual(spoolFiles(), []);
  });

  it('refuses an upload once the spool is full: a 413 saying to send purpose first', async () => {
    const small = new UploadSpool(dir, 3 * MiB);
    const held = await small.spool(Readable.from([...fileChunks(2 * MiB)]));
    async function* body() {
      yield filePart();
      yield* fileChunks(2 * MiB);
      yield Buffer.from('\r\n');
      yield fieldPart('purpose', 'batch');
      yield CLOSE;
    }
    const form = new FormStream(Readable.from(body(), { objectMode: false }), TYPE, 64 * MiB, MiB);
    await assert.rejects(readUploadForm(form, hasPurpose, small), (error: unknown) => {
      assert.ok(error instanceof DataPlaneError);
      assert.equal(error.httpStatus, 413);
      assert.equal(error.param, 'file');
      assert.match(error.message, /up to 3145728 bytes for all such uploads at once/);
      assert.match(error.message, /send 'purpose' \(and 'model'.*before 'file'/);
      return true;
    });
    assert.deepEqual(spoolFiles(), [held.path.slice(dir.length + 1)], 'only the first upload');
    await held.remove();
    assert.equal(small.bytes, 0);
  });

  it('reads a small file sent before its purpose through the spool too, the fields after it all read', async () => {
    const form = new FormStream(
      Readable.from(
        [
          fieldPart('model', 'm'),
          filePart(),
          Buffer.from('{"a":1}\n\r\n'),
          fieldPart('purpose', 'batch'),
          fieldPart('expires_after[anchor]', 'created_at'),
          CLOSE,
        ],
        { objectMode: false },
      ),
      TYPE,
      64 * MiB,
      MiB,
    );
    const upload = await readUploadForm(form, hasPurpose, spool);
    assert.equal(upload.spooled, true);
    assert.deepEqual(upload.fields, [
      ['model', 'm'],
      ['purpose', 'batch'],
      ['expires_after[anchor]', 'created_at'],
    ]);
    assert.equal((await gathered(upload.file!.content)).toString(), '{"a":1}\n');
    await upload.discard();
    assert.deepEqual(spoolFiles(), []);
  });
});

describe('readUploadForm: a file sent after its purpose', () => {
  const spool = new UploadSpool(join(tmpdir(), 'upload-form-spec-unused'), MiB);

  it('streams it past the held limit, up to the upload limit, spooling nothing', async () => {
    const form = new FormStream(
      Readable.from(
        [
          fieldPart('purpose', 'batch'),
          filePart(),
          ...fileChunks(2 * MiB),
          Buffer.from('\r\n'),
          CLOSE,
        ],
        {
          objectMode: false,
        },
      ),
      TYPE,
      4 * MiB,
      16 * KiB,
    );
    const upload = await readUploadForm(form, hasPurpose, spool);
    assert.equal(upload.spooled, false);
    assert.equal(await digestOf(upload.file!.content), await digestOf(fileChunks(2 * MiB)));
    assert.equal(spool.bytes, 0);
  });

  it('refuses any form past the upload limit with the plain 413', async () => {
    const form = new FormStream(
      Readable.from(
        [
          fieldPart('purpose', 'batch'),
          filePart(),
          ...fileChunks(64 * KiB),
          Buffer.from('\r\n'),
          CLOSE,
        ],
        {
          objectMode: false,
        },
      ),
      TYPE,
      32 * KiB,
      32 * KiB,
    );
    const upload = await readUploadForm(form, hasPurpose, spool);
    await assert.rejects(gathered(upload.file!.content), (error: unknown) => {
      assert.ok(error instanceof DataPlaneError);
      assert.equal(error.httpStatus, 413);
      assert.doesNotMatch(error.message, /purpose/);
      return true;
    });
  });
});

/** Every piece of `content`, concatenated (rejects as it does). */
async function gathered(content: AsyncIterable<Buffer>): Promise<Buffer> {
  const pieces: Buffer[] = [];
  for await (const piece of content) pieces.push(piece);
  return Buffer.concat(pieces);
}
