import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { deflateSync } from 'node:zlib';
import { cpuMillis } from '../testing/cpu-millis';
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
function objectStreamPdf(
  pages: number,
  dictionary = '/Type/ObjStm/N 3/First 10/Filter/FlateDecode',
): string {
  const inside = Array.from(
    { length: pages },
    () => '<</Type/Page/Parent 2 0 R/MediaBox[0 0 612 792]>>',
  ).join('\n');
  const data = deflateSync(Buffer.from(`<</Type/Pages/Count ${pages}>>\n${inside}`, 'latin1'));
  return Buffer.concat([
    Buffer.from(`%PDF-1.5\n1 0 obj\n<<${dictionary}/Length `, 'latin1'),
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
    // Its keys in any order: many writers sort them.
    const sorted = objectStreamPdf(2, '/Filter/FlateDecode/First 10/N 3/Type/ObjStm');
    assert.equal(pdfPageCount(sorted), 2);
  });

  it('inflates 16 MiB of object streams at most, so deflate bombs cost little', () => {
    // 1,000 streams of 4 MiB of zeros each (4 KiB deflated): 4 GiB if all were inflated.
    const bomb = deflateSync(Buffer.alloc(4 * 1024 * 1024));
    const stream = Buffer.concat([
      Buffer.from('<</Type/ObjStm/Filter/FlateDecode>>stream\n', 'latin1'),
      bomb,
      Buffer.from('\nendstream\n', 'latin1'),
    ]);
    const pdf = Buffer.concat([
      Buffer.from('%PDF-1.5\n', 'latin1'),
      ...Array.from({ length: 1_000 }, () => stream),
    ]).toString('base64');
    const { result: pages, ms } = cpuMillis(() => pdfPageCount(pdf));
    assert.equal(pages, 1);
    assert.ok(ms < 1_000, `took ${Math.round(ms)} ms of CPU`);
  });

  it('reads a stream dictionary only so far, so markers without streams cost little', () => {
    const markers = Buffer.from(`%PDF-1.5\n${'/Type/ObjStm '.repeat(200_000)}`, 'latin1');
    const { result: pages, ms } = cpuMillis(() => pdfPageCount(markers.toString('base64')));
    assert.equal(pages, 1);
    assert.ok(ms < 1_000, `took ${Math.round(ms)} ms of CPU`);
  });

  it('reads crafted files of 12 MB quickly, and one of more /Page names than a document has as its most pages', () => {
    const crafted = (unit: string) =>
      Buffer.from(unit.repeat(Math.floor((12 * 1024 * 1024) / unit.length)), 'latin1').toString(
        'base64',
      );
    for (const [unit, pages] of [
      ['/Type/Page ', 10_000],
      ['/Pages ', 10_000],
      ['/Type/ObjStm stream\n', 1],
      ['/Filter/FlateDecode/Type/ObjStm stream\nxendstream ', 1],
    ] as const) {
      const pdf = crafted(unit);
      const { result, ms } = cpuMillis(() => pdfPageCount(pdf));
      assert.equal(result, pages, unit);
      assert.ok(ms < 1_500, `${unit.trim()}: took ${Math.round(ms)} ms of CPU`);
    }
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
