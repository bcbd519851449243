import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { deflateSync } from 'node:zlib';
import { pdfPageCount } from './pdf-pages';

/** A PDF of `pages` page objects written out, as older writers and many tools make them. */
function plainPdf(pages: number, separator = ' '): string {
  const kids = Array.from({ length: pages }, (_, index) => `${index + 3} 0 R`).join(' ');
  const objects = [
    '1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj',
    `2 0 obj << /Type /Pages /Kids [${kids}] /Count ${pages} >> endobj`,
    ...Array.from(
      { length: pages },
      (_, index) =>
        `${index + 3} 0 obj << /Type${separator}/Page /Parent 2 0 R /MediaBox [0 0 612 792] >> endobj`,
    ),
  ];
  return Buffer.from(`%PDF-1.4\n${objects.join('\n')}\n%%EOF\n`, 'latin1').toString('base64');
}

/** A PDF 1.5 whose page objects are kept in a deflated object stream (pdfTeX, Word). */
function objectStreamPdf(pages: number): string {
  const inside = Array.from(
    { length: pages },
    () => '<</Type/Page/Parent 2 0 R/MediaBox[0 0 612 792]>>',
  ).join('\n');
  const data = deflateSync(Buffer.from(`<</Type/Pages/Count ${pages}>>\n${inside}`, 'latin1'));
  return Buffer.concat([
    Buffer.from(
      '%PDF-1.5\n1 0 obj\n<</Type/ObjStm/N 3/First 10/Filter/FlateDecode/Length ',
      'latin1',
    ),
    Buffer.from(`${data.length}>>stream\n`, 'latin1'),
    data,
    Buffer.from('\nendstream\nendobj\n%%EOF\n', 'latin1'),
  ]).toString('base64');
}

describe('PDF page count', () => {
  it('counts page objects written out, whatever the space after /Type, never /Pages', () => {
    assert.equal(pdfPageCount(plainPdf(3)), 3);
    assert.equal(pdfPageCount(plainPdf(5, '')), 5);
    assert.equal(pdfPageCount(plainPdf(2, '\r\n')), 2);
  });

  it('counts page objects kept in deflated object streams', () => {
    assert.equal(pdfPageCount(objectStreamPdf(4)), 4);
  });

  it('counts a PDF it cannot read as one page', () => {
    assert.equal(pdfPageCount(Buffer.from('not a pdf').toString('base64')), 1);
    assert.equal(pdfPageCount(''), 1);
    const broken = Buffer.from(
      '%PDF-1.5\n<</Type/ObjStm/Filter/FlateDecode>>stream\nnot deflate\nendstream\n',
    ).toString('base64');
    assert.equal(pdfPageCount(broken), 1);
  });
});
