// A PDF uploaded for a model to read is counted as it passes to the backend, so a call
// naming it by id is held for its pages; nothing else is kept past its first KiB.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { MAX_INLINE_FILE_BYTES } from './file-inputs';
import { UploadPdfPages } from './upload-pdf-pages';

const page = (n: number) => `${n} 0 obj\n<< /Type /Page /Parent 2 0 R >>\nendobj\n`;
const PDF = Buffer.from(`%PDF-1.7\n${page(3)}${page(4)}${page(5)}%%EOF\n`);

/** `bytes` in pieces of `size`, as an upload's arrive. */
async function* pieces(bytes: Buffer, size: number): AsyncGenerator<Buffer> {
  for (let at = 0; at < bytes.length; at += size) yield bytes.subarray(at, at + size);
}

async function passed(counter: UploadPdfPages, content: AsyncIterable<Buffer>): Promise<Buffer> {
  const out: Buffer[] = [];
  for await (const piece of counter.passing(content)) out.push(piece);
  return Buffer.concat(out);
}

describe('UploadPdfPages', () => {
  it('counts the pages of a PDF, however its bytes arrive, passing them on unchanged', async () => {
    for (const size of [1, 7, 4096]) {
      const counter = new UploadPdfPages();
      assert.deepEqual(await passed(counter, pieces(PDF, size)), PDF);
      assert.equal(counter.pages(), 3, `pieces of ${size}`);
    }
  });

  it('counts nothing before the whole file has passed', async () => {
    const counter = new UploadPdfPages();
    const iterator = counter.passing(pieces(PDF, 10))[Symbol.asyncIterator]();
    await iterator.next();
    assert.equal(counter.pages(), undefined);
  });

  it('counts nothing for another file, a large one let go at its first KiB', async () => {
    const text = new UploadPdfPages();
    await passed(text, pieces(Buffer.from('quarterly numbers\n'.repeat(10_000)), 4096));
    assert.equal(text.pages(), undefined);
    const small = new UploadPdfPages();
    await passed(small, pieces(Buffer.from('a short note'), 4));
    assert.equal(small.pages(), undefined);
  });

  it('counts nothing for a PDF larger than a call may send as content', async () => {
    const counter = new UploadPdfPages();
    const large = Buffer.concat([PDF, Buffer.alloc(MAX_INLINE_FILE_BYTES)]);
    await passed(counter, pieces(large, 1024 * 1024));
    assert.equal(counter.pages(), undefined);
  });
});
