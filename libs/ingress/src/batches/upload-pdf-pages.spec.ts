// A PDF uploaded for a model to read is counted as it passes to the backend, so a call
// naming it by id is held for its pages; nothing else is kept past its first KiB.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { MAX_INLINE_FILE_BYTES } from './file-inputs';
import { PdfCountMemory } from './pdf-count-memory';
import { UploadPdfPages, type PdfUncounted } from './upload-pdf-pages';

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
      const counter = new UploadPdfPages(new PdfCountMemory());
      assert.deepEqual(await passed(counter, pieces(PDF, size)), PDF);
      assert.equal(counter.pages(), 3, `pieces of ${size}`);
    }
  });

  it('counts nothing before the whole file has passed', async () => {
    const counter = new UploadPdfPages(new PdfCountMemory());
    const iterator = counter.passing(pieces(PDF, 10))[Symbol.asyncIterator]();
    await iterator.next();
    assert.equal(counter.pages(), undefined);
  });

  it('counts nothing for another file, a large one let go at its first KiB', async () => {
    const text = new UploadPdfPages(new PdfCountMemory());
    await passed(text, pieces(Buffer.from('quarterly numbers\n'.repeat(10_000)), 4096));
    assert.equal(text.pages(), undefined);
    const small = new UploadPdfPages(new PdfCountMemory());
    await passed(small, pieces(Buffer.from('a short note'), 4));
    assert.equal(small.pages(), undefined);
  });

  it('counts nothing for a PDF larger than a call may send as content', async () => {
    const uncounted: PdfUncounted[] = [];
    const memory = new PdfCountMemory();
    const counter = new UploadPdfPages(memory, (reason) => uncounted.push(reason));
    const large = Buffer.concat([PDF, Buffer.alloc(MAX_INLINE_FILE_BYTES)]);
    await passed(counter, pieces(large, 1024 * 1024));
    assert.equal(counter.pages(), undefined);
    assert.deepEqual(uncounted, ['too_large']);
    assert.equal(memory.kept, 0);
  });

  it('keeps no more than the memory all uploads share: one past it goes uncounted', async () => {
    // Room for one PDF and a half: the first upload's bytes are kept until it is counted,
    // so a second meanwhile is let go when its bytes no longer fit; a third, after, fits.
    const big = Buffer.concat([PDF, Buffer.alloc(4096, 0x20)]);
    const memory = new PdfCountMemory(Math.floor(big.length * 1.5));
    const uncounted: PdfUncounted[] = [];
    const first = new UploadPdfPages(memory, (reason) => uncounted.push(reason));
    const second = new UploadPdfPages(memory, (reason) => uncounted.push(reason));
    assert.deepEqual(await passed(first, pieces(big, 512)), big);
    assert.deepEqual(await passed(second, pieces(big, 512)), big, 'uncounted, still sent whole');
    assert.equal(first.pages(), 3);
    assert.equal(second.pages(), undefined);
    assert.deepEqual(uncounted, ['memory']);
    assert.equal(memory.kept, 0);
    const third = new UploadPdfPages(memory);
    await passed(third, pieces(big, 512));
    assert.equal(third.pages(), 3);
  });

  it('gives its bytes back when the upload stops part way', async () => {
    const memory = new PdfCountMemory();
    const counter = new UploadPdfPages(memory);
    const iterator = counter.passing(pieces(PDF, 10))[Symbol.asyncIterator]();
    await iterator.next();
    await iterator.next();
    assert.equal(memory.kept, 20);
    counter.release();
    counter.release();
    assert.equal(memory.kept, 0);
    assert.equal(counter.pages(), undefined);
  });
});
