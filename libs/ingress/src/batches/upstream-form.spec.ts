import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { DataPlaneError, DataPlaneErrorCode } from '@aigw/contracts/data-plane';
import { fileUploadForm, streamedUploadForm } from './upstream-form';

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

async function* listed<T>(items: readonly T[]): AsyncGenerator<T> {
  yield* items;
}

async function written(body: AsyncIterable<Buffer>): Promise<string> {
  const parts: Buffer[] = [];
  for await (const part of body) parts.push(part);
  return Buffer.concat(parts).toString('utf8');
}

describe('streamedUploadForm', () => {
  const content = [Buffer.from('{"a":1}\n'), Buffer.from('{"b":"ü"}\n')];

  it('writes the form fileUploadForm writes, the fields after the file after it', async () => {
    const streamed = streamedUploadForm([['purpose', 'batch']], { ...file, content }, listed([]));
    const whole = fileUploadForm([['purpose', 'batch']], { ...file, data: content });
    const boundary = (type: string) => type.slice(type.indexOf('boundary=') + 9);
    assert.equal(
      (await written(streamed.body)).replaceAll(boundary(streamed.contentType), 'B'),
      whole.data.toString('utf8').replaceAll(boundary(whole.contentType), 'B'),
    );
    const after = streamedUploadForm(
      [['purpose', 'batch']],
      { ...file, content },
      listed([['expires_after[anchor]', 'created_at'] as const]),
    );
    assert.match(
      await written(after.body),
      /\{"b":"ü"\}\n\r\n--aigw-[^\r]+\r\nContent-Disposition: form-data; name="expires_after\[anchor\]"\r\n\r\ncreated_at\r\n--aigw-[^-]+-[^\r]*--\r\n$/,
    );
  });

  it('refuses a repeated field, and ends without the closing delimiter when its file fails', async () => {
    assert.throws(
      () =>
        streamedUploadForm(
          [
            ['purpose', 'batch'],
            ['purpose', 'x'],
          ],
          { ...file, content },
          listed([]),
        ),
      (error: unknown) => error instanceof DataPlaneError && error.param === 'purpose',
    );
    const repeated = streamedUploadForm(
      [['purpose', 'batch']],
      { ...file, content },
      listed([['purpose', 'user_data'] as const]),
    );
    await assert.rejects(
      written(repeated.body),
      (error: unknown) => error instanceof DataPlaneError && error.httpStatus === 400,
    );
    const sent: Buffer[] = [];
    async function* failing(): AsyncGenerator<Buffer> {
      yield Buffer.from('{"a":1}\n');
      throw new DataPlaneError(DataPlaneErrorCode.InvalidRequest, 'Line 2 is not JSON.');
    }
    const cut = streamedUploadForm([], { ...file, content: failing() }, listed([]));
    await assert.rejects(async () => {
      for await (const part of cut.body) sent.push(part);
    }, /Line 2/);
    assert.doesNotMatch(Buffer.concat(sent).toString('utf8'), /--\r\n$/);
  });
});

describe('a text field named file', () => {
  // The backend would get two `file` parts: whichever it reads may be the one the gateway
  // never checked (an unscreened batch file sent as text beside a screened one).
  const isFileRefusal = (error: unknown) =>
    error instanceof DataPlaneError && error.httpStatus === 400 && error.param === 'file';

  it('is refused before the file', () => {
    assert.throws(
      () =>
        fileUploadForm(
          [
            ['file', '{"body":{}}'],
            ['purpose', 'batch'],
          ],
          file,
        ),
      isFileRefusal,
    );
    assert.throws(
      () =>
        streamedUploadForm(
          [['file', '{"body":{}}']],
          { ...file, content: [Buffer.from('{}')] },
          listed([]),
        ),
      isFileRefusal,
    );
  });

  it('is refused after the file, before the form is closed', async () => {
    const form = streamedUploadForm(
      [['purpose', 'batch']],
      { ...file, content: [Buffer.from('{}')] },
      listed([['file', '{"body":{}}'] as const]),
    );
    await assert.rejects(written(form.body), isFileRefusal);
  });
});
