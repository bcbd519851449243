import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { DataPlaneError } from '@aigw/contracts/data-plane';
import { formBoundary, MultipartForm, parseMultipartForm } from './multipart-form';

/** A form as the platform's FormData writes it, with its content type. */
async function encoded(form: FormData): Promise<{ body: Buffer; type: string }> {
  const request = new Request('http://x/', { method: 'POST', body: form });
  return {
    body: Buffer.from(await request.arrayBuffer()),
    type: request.headers.get('content-type')!,
  };
}

const refused = (body: string, type = 'multipart/form-data; boundary=b') =>
  assert.throws(
    () => parseMultipartForm(Buffer.from(body), type),
    (error: unknown) => error instanceof DataPlaneError && error.httpStatus === 400,
  );

describe('parseMultipartForm', () => {
  it('reads what FormData writes: fields in order with repeats, and the file bytes', async () => {
    const audio = Buffer.from([0, 1, 2, 13, 10, 45, 45, 255]); // CR LF -- inside the data
    const form = new FormData();
    form.append('model', 'whisper-1');
    form.append('timestamp_granularities[]', 'word');
    form.append('timestamp_granularities[]', 'segment');
    form.append('prompt', 'línea "uno"\r\ndos');
    form.append('file', new Blob([audio], { type: 'audio/wav' }), 'my "clip".wav');
    const { body, type } = await encoded(form);
    const parsed = parseMultipartForm(body, type);
    assert.ok(parsed instanceof MultipartForm);
    assert.deepEqual(parsed.fields, [
      ['model', 'whisper-1'],
      ['timestamp_granularities[]', 'word'],
      ['timestamp_granularities[]', 'segment'],
      ['prompt', 'línea "uno"\r\ndos'],
    ]);
    assert.equal(parsed.files.length, 1);
    const [file] = parsed.files;
    assert.equal(file.field, 'file');
    assert.equal(file.filename, 'my %22clip%22.wav'); // as FormData escapes the quote
    assert.equal(file.contentType, 'audio/wav');
    assert.deepEqual(Buffer.from(file.data), audio);
    // A view of the body, not a copy.
    assert.equal(file.data.buffer, body.buffer);
  });

  it('reads quoted boundaries, filename*, and a part without a content type', () => {
    const body =
      '--a b\r\nContent-Disposition: form-data; name="file"; filename*=UTF-8\'\'s%C3%AD.mp3\r\n\r\n' +
      'xyz\r\n--a b--\r\n';
    const parsed = parseMultipartForm(Buffer.from(body), 'multipart/form-data; boundary="a b"');
    assert.equal(parsed.files[0].filename, 'sí.mp3');
    assert.equal(parsed.files[0].contentType, 'application/octet-stream');
    assert.equal(Buffer.from(parsed.files[0].data).toString(), 'xyz');
  });

  it('refuses what is not a well-formed form with a 400', () => {
    refused(
      '--b\r\nContent-Disposition: form-data; name="a"\r\n\r\n1\r\n--b--',
      'multipart/form-data',
    );
    refused('no boundary here');
    refused('--b\r\nContent-Disposition: form-data; name="a"\r\n\r\nnever closed');
    refused('--b\r\nContent-Disposition: attachment; name="a"\r\n\r\n1\r\n--b--');
    refused('--b\r\nContent-Disposition: form-data\r\n\r\n1\r\n--b--');
    refused('--b\r\nContent-Disposition: form-data; name="a"');
    refused('--b\r\nContent-Disposition: form-data; name="a"\r\n\r\n1\r\n--b'.repeat(1) + 'junk');
    const many =
      '--b\r\nContent-Disposition: form-data; name="a"\r\n\r\n1\r\n'.repeat(300) + '--b--';
    refused(many);
  });

  it('finds the boundary of multipart/form-data only', () => {
    assert.equal(formBoundary('multipart/form-data; boundary=xyz'), 'xyz');
    assert.equal(formBoundary('Multipart/Form-Data;boundary="q r"'), 'q r');
    assert.equal(formBoundary('multipart/mixed; boundary=xyz'), undefined);
    assert.equal(formBoundary('application/json'), undefined);
    assert.equal(formBoundary(undefined), undefined);
  });
});
