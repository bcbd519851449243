import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { DataPlaneError } from '@aigw/contracts/data-plane';
import { FormStream, MultipartReader } from './multipart-stream';

/** A form as the platform's FormData writes it, with its content type. */
async function encoded(form: FormData): Promise<{ body: Buffer; type: string }> {
  const request = new Request('http://x/', { method: 'POST', body: form });
  return {
    body: Buffer.from(await request.arrayBuffer()),
    type: request.headers.get('content-type')!,
  };
}

/** The body in chunks of `size` bytes, so delimiters fall across chunks. */
function chunked(body: Buffer, size: number): Readable {
  const chunks: Buffer[] = [];
  for (let at = 0; at < body.length; at += size) chunks.push(body.subarray(at, at + size));
  return Readable.from(chunks, { objectMode: false });
}

/** Every part of a form, its content read whole. */
async function parts(reader: MultipartReader) {
  const read: { name: string; filename?: string; contentType: string; data: Buffer }[] = [];
  for (let part = await reader.nextPart(); part; part = await reader.nextPart()) {
    const pieces: Buffer[] = [];
    for await (const piece of reader.content()) pieces.push(piece);
    read.push({ ...part, data: Buffer.concat(pieces) });
  }
  return read;
}

const refusedWith = (status: number) => (error: unknown) =>
  error instanceof DataPlaneError && error.httpStatus === status;

describe('MultipartReader', () => {
  it('reads what FormData writes, whatever the chunking, delimiter look-alikes in the file kept', async () => {
    // CR LF and dashes inside the data, and a line that starts like the delimiter.
    const file = Buffer.concat([
      Buffer.from('{"a":1}\r\n--\r\n-'),
      Buffer.alloc(5000, 'é'),
      Buffer.from('\r\n--not-the-boundary\r\n'),
    ]);
    const form = new FormData();
    form.append('purpose', 'batch');
    form.append('file', new Blob([file], { type: 'application/jsonl' }), 'in.jsonl');
    form.append('expires_after[anchor]', 'created_at');
    const { body, type } = await encoded(form);
    const boundary = /boundary=(.+)$/.exec(type)![1];
    for (const size of [1, 2, 7, 64, 1000, body.length]) {
      const read = await parts(new MultipartReader(chunked(body, size), boundary, Infinity));
      assert.deepEqual(
        read.map(({ name, filename, contentType }) => ({ name, filename, contentType })),
        [
          { name: 'purpose', filename: undefined, contentType: 'application/octet-stream' },
          { name: 'file', filename: 'in.jsonl', contentType: 'application/jsonl' },
          {
            name: 'expires_after[anchor]',
            filename: undefined,
            contentType: 'application/octet-stream',
          },
        ],
        `chunks of ${size}`,
      );
      assert.equal(read[0].data.toString(), 'batch');
      assert.deepEqual(read[1].data, file, `chunks of ${size}`);
      assert.equal(read[2].data.toString(), 'created_at');
    }
  });

  it('skips a part not read, and reads a field as text', async () => {
    const body = Buffer.from(
      'preamble\r\n--b\r\nContent-Disposition: form-data; name="skip"; filename="x"\r\n\r\n' +
        'xxxxxxxx\r\n--b\r\nContent-Disposition: form-data; name="purpose"\r\n\r\nbatch\r\n--b--\r\n',
    );
    const reader = new MultipartReader(chunked(body, 3), 'b', Infinity);
    assert.equal((await reader.nextPart())?.filename, 'x');
    assert.equal((await reader.nextPart())?.name, 'purpose');
    assert.equal(await reader.text(), 'batch');
    assert.equal(await reader.nextPart(), undefined);
    assert.equal(reader.bytesRead, body.length);
  });

  it('fails with a 413 once the body passes its limit, before reading it all', async () => {
    const big = Buffer.concat([
      Buffer.from('--b\r\nContent-Disposition: form-data; name="file"; filename="f"\r\n\r\n'),
      Buffer.alloc(10_000, 'x'),
      Buffer.from('\r\n--b--\r\n'),
    ]);
    const reader = new MultipartReader(chunked(big, 100), 'b', 1000);
    await reader.nextPart();
    await assert.rejects(async () => {
      for await (const piece of reader.content()) void piece;
    }, refusedWith(413));
    assert.ok(reader.bytesRead <= 1100, `read ${reader.bytesRead} bytes`);
  });

  it('refuses what is not a well-formed form with a 400', async () => {
    const refused = async (text: string) =>
      assert.rejects(
        parts(new MultipartReader(chunked(Buffer.from(text), 4), 'b', Infinity)),
        refusedWith(400),
        text,
      );
    await refused('no boundary here');
    await refused('--b\r\nContent-Disposition: form-data; name="a"\r\n\r\nnever closed');
    await refused('--b\r\nContent-Disposition: attachment; name="a"\r\n\r\n1\r\n--b--');
    await refused('--b\r\nContent-Disposition: form-data\r\n\r\n1\r\n--b--');
    await refused('--b\r\nContent-Disposition: form-data; name="a"');
    await refused('--b\r\nContent-Disposition: form-data; name="a"\r\n\r\n1\r\n--bjunk');
    await refused(
      '--b\r\nContent-Disposition: form-data; name="a"\r\n\r\n1\r\n'.repeat(300) + '--b--',
    );
    const reader = new MultipartReader(
      chunked(
        Buffer.from(
          `--b\r\nContent-Disposition: form-data; name="a"\r\n\r\n${'x'.repeat(70_000)}\r\n--b--`,
        ),
        1000,
      ),
      'b',
      Infinity,
    );
    await reader.nextPart();
    await assert.rejects(reader.text(), refusedWith(400));
  });
});

describe('FormStream', () => {
  it('refuses a form without a boundary, and drains what a refused client still sends', async () => {
    assert.throws(
      () => new FormStream(Readable.from([]), 'multipart/form-data', 10).reader(),
      refusedWith(400),
    );
    // Refused at its first part's head, 5000 bytes still to come.
    const text = `--b\r\nContent-Disposition: attachment; name="a"\r\n\r\n${'x'.repeat(5000)}`;
    const body = chunked(Buffer.from(text), 100);
    const form = new FormStream(body, 'multipart/form-data; boundary=b', Infinity);
    await assert.rejects(parts(form.reader()), refusedWith(400));
    assert.equal(body.readableEnded, false);
    await form.drain();
    assert.equal(body.readableEnded, true);
  });
});
