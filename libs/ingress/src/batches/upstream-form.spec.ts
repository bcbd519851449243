import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { DataPlaneError } from '@aigw/contracts/data-plane';
import { fileUploadForm } from './upstream-form';

const file = { filename: 'in.jsonl', contentType: 'application/jsonl', data: Buffer.from('{}') };

describe('fileUploadForm', () => {
  it('writes each field then the file', () => {
    const form = fileUploadForm([['purpose', 'batch']], file);
    const text = form.data.toString('utf8');
    assert.match(text, /name="purpose"\r\n\r\nbatch\r\n/);
    assert.match(text, /name="file"; filename="in.jsonl"/);
  });

  it('writes a file given as parts in order, as one body', () => {
    const parts = [Buffer.from('{"a":1}'), Buffer.from('\n'), Buffer.from('{"b":"ü"}')];
    const form = fileUploadForm([], { ...file, data: parts });
    assert.match(form.data.toString('utf8'), /\r\n\r\n\{"a":1\}\n\{"b":"ü"\}\r\n--aigw-/);
  });

  it('refuses a field sent twice: the backend could read the other value than the gateway', () => {
    // The gateway checks and rewrites a batch file by the first 'purpose'; a second one
    // ('batch' after 'user_data') could reach the backend unchecked.
    assert.throws(
      () =>
        fileUploadForm(
          [
            ['purpose', 'user_data'],
            ['purpose', 'batch'],
          ],
          file,
        ),
      (error: unknown) =>
        error instanceof DataPlaneError &&
        error.httpStatus === 400 &&
        error.param === 'purpose' &&
        /once/.test(error.message),
    );
  });
});
