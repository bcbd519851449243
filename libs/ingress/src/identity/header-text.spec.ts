import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { headerText } from './header-text';

/** A header value as Node hands it over: each byte of `bytes` one character. */
const asNodeReadsIt = (bytes: Buffer) => bytes.toString('latin1');

describe('headerText', () => {
  it('keeps ASCII as it is (the same string, no copy)', () => {
    const value = 'alice-42';
    assert.equal(headerText(value), value);
  });

  it('reads UTF-8 bytes as UTF-8: two-, three- and four-byte characters', () => {
    for (const id of ['josé', '山田', 'ops-🚀']) {
      assert.equal(headerText(asNodeReadsIt(Buffer.from(id, 'utf8'))), id);
    }
  });

  it('keeps a Latin-1 byte that is no UTF-8 as Latin-1 read it (é from a Latin-1 client)', () => {
    assert.equal(headerText(asNodeReadsIt(Buffer.from([0x6a, 0x6f, 0x73, 0xe9]))), 'josé');
  });

  it('keeps bytes that are broken UTF-8 (a cut or overlong sequence) as they were read', () => {
    for (const bytes of [
      [0x61, 0xc3],
      [0xc0, 0xaf],
      [0xed, 0xa0, 0x80],
    ]) {
      const read = asNodeReadsIt(Buffer.from(bytes));
      assert.equal(headerText(read), read);
    }
  });
});
