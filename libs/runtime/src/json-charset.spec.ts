import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { foreignJsonCharset } from './json-charset';

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
