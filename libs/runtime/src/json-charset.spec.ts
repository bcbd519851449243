import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { foreignJsonCharset, utf8Transcoder } from './json-charset';

describe('foreignJsonCharset', () => {
  it('names a JSON body charset other than UTF-8, as the client spelt it', () => {
    assert.equal(foreignJsonCharset('application/json; charset=ISO-8859-1'), 'ISO-8859-1');
    assert.equal(foreignJsonCharset('Application/JSON;charset="utf-16"'), 'utf-16');
    assert.equal(
      foreignJsonCharset('application/merge-patch+json; charset=windows-1252'),
      'windows-1252',
    );
  });

  it('passes UTF-8 in any spelling, US-ASCII, no charset and other media types', () => {
    for (const header of [
      undefined,
      'application/json',
      'application/json; charset=utf-8',
      'application/json;charset=UTF8',
      'application/json; charset="UTF-8"',
      'application/json; charset=us-ascii',
      'multipart/form-data; boundary=x; charset=latin1',
      'text/plain; charset=utf-16',
    ]) {
      assert.equal(foreignJsonCharset(header), undefined, String(header));
    }
  });
});

describe('utf8Transcoder', () => {
  const transcode = async (charset: string, chunks: Buffer[]) => {
    const transcoder = utf8Transcoder(charset);
    assert.ok(transcoder, charset);
    const out: Buffer[] = [];
    for await (const piece of Readable.from(chunks).pipe(transcoder)) out.push(piece as Buffer);
    return Buffer.concat(out).toString('utf8');
  };

  it('turns Latin-1, Windows-1252 and UTF-16 text into UTF-8, a character cut between chunks kept whole', async () => {
    assert.equal(await transcode('ISO-8859-1', [Buffer.from('café', 'latin1')]), 'café');
    assert.equal(await transcode('windows-1252', [Buffer.from([0x80])]), '€');
    const utf16 = Buffer.from('{"a":"日本😀"}', 'utf16le');
    const pieces = [utf16.subarray(0, 9), utf16.subarray(9, 15), utf16.subarray(15)];
    assert.equal(await transcode('utf-16le', pieces), '{"a":"日本😀"}');
  });

  it('knows no decoder for a made-up label', () => {
    assert.equal(utf8Transcoder('x-klingon'), undefined);
  });
});
