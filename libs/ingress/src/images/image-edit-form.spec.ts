import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { DataPlaneError } from '@aigw/contracts/data-plane';
import { MultipartForm, type FormFile } from '../forms/multipart-form';
import { imageEditParts, MAX_EDIT_IMAGES } from './image-edit-form';

const file = (field: string, bytes = [1, 2, 3]): FormFile => ({
  field,
  filename: `${field}.png`,
  contentType: 'image/png',
  data: new Uint8Array(bytes),
});

const form = (fields: [string, string][], files: FormFile[] = [file('image')]) =>
  new MultipartForm([['model', 'gpt-image-1'], ['prompt', 'add a hat'], ...fields], files);

function refusedFor(param: string, value: unknown): void {
  assert.throws(
    () => imageEditParts(value),
    (error: unknown) =>
      error instanceof DataPlaneError && error.httpStatus === 400 && error.param === param,
    param,
  );
}

describe('imageEditParts', () => {
  it('reads the fields (n as a number) and keeps the images and mask in order', () => {
    const files = [file('image[]'), file('image[]', [4]), file('mask', [5])];
    const parts = imageEditParts(
      form(
        [
          ['n', '2'],
          ['size', '1024x1024'],
          ['input_fidelity', 'high'],
          ['stream', 'false'],
        ],
        files,
      ),
    );
    assert.deepEqual(parts.body, {
      model: 'gpt-image-1',
      prompt: 'add a hat',
      n: 2,
      size: '1024x1024',
      input_fidelity: 'high',
    });
    assert.deepEqual(parts.uploads, files);
  });

  it('refuses what OpenAI refuses, naming the field', () => {
    refusedFor('image', { model: 'm', prompt: 'p' }); // JSON, not a form
    refusedFor('image', form([], []));
    refusedFor('image', form([], [file('file')]));
    refusedFor('image', form([], [file('image', [])]));
    refusedFor(
      'image',
      form(
        [],
        Array.from({ length: MAX_EDIT_IMAGES + 1 }, () => file('image[]')),
      ),
    );
    refusedFor('mask', form([], [file('image'), file('mask'), file('mask')]));
    refusedFor('prompt', new MultipartForm([['model', 'm']], [file('image')]));
    refusedFor('model', new MultipartForm([['prompt', 'p']], [file('image')]));
    refusedFor('n', form([['n', '11']]));
    refusedFor('n', form([['n', 'two']]));
    refusedFor('prompt', form([['prompt', 'again']]));
    refusedFor('response_format', form([['response_format', 'png']]));
    refusedFor('stream', form([['stream', 'yes']]));
    refusedFor(
      'partial_images',
      form([
        ['stream', 'true'],
        ['partial_images', '4'],
      ]),
    );
    refusedFor('partial_images', form([['partial_images', '2']]));
  });

  it('reads a stream: stream as a boolean, partial_images as a number', () => {
    const parts = imageEditParts(
      form([
        ['stream', 'true'],
        ['partial_images', '2'],
      ]),
    );
    assert.equal(parts.body.stream, true);
    assert.equal(parts.body.partial_images, 2);
  });
});
