import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { DataPlaneError, type GatewayRequest } from '@aigw/contracts/data-plane';
import { MultipartForm, type FormFile } from '../forms/multipart-form';
import { imageHoldCounts } from './image-hold';
import { imageVariationParts, MAX_VARIATION_IMAGE_BYTES } from './image-variation-form';

const PNG = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 1, 2, 3];

const file = (field: string, bytes: number[] | Uint8Array = PNG): FormFile => ({
  field,
  filename: `${field}.png`,
  contentType: 'image/png',
  data: bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes),
});

const form = (fields: [string, string][], files: FormFile[] = [file('image')]) =>
  new MultipartForm([['model', 'dall-e-2'], ...fields], files);

function refusedFor(param: string, value: unknown): void {
  assert.throws(
    () => imageVariationParts(value),
    (error: unknown) =>
      error instanceof DataPlaneError && error.httpStatus === 400 && error.param === param,
    param,
  );
}

describe('imageVariationParts', () => {
  it('reads the fields (n as a number) and keeps the image', () => {
    const image = file('image');
    const parts = imageVariationParts(
      form(
        [
          ['n', '3'],
          ['size', '512x512'],
          ['response_format', 'b64_json'],
          ['user', 'u-1'],
          ['stream', 'false'],
        ],
        [image],
      ),
    );
    assert.deepEqual(parts.body, {
      model: 'dall-e-2',
      n: 3,
      size: '512x512',
      response_format: 'b64_json',
      user: 'u-1',
    });
    assert.deepEqual(parts.uploads, [image]);
  });

  it('refuses what OpenAI refuses, naming the field', () => {
    refusedFor('image', { model: 'dall-e-2' }); // JSON, not a form
    refusedFor('image', form([], []));
    refusedFor('image', form([], [file('mask')]));
    refusedFor('image', form([], [file('image'), file('image')]));
    refusedFor('image', form([], [file('image', [1, 2, 3])])); // not a PNG
    const large = new Uint8Array(MAX_VARIATION_IMAGE_BYTES + 1);
    large.set(PNG);
    refusedFor('image', form([], [file('image', large)]));
    refusedFor('model', new MultipartForm([], [file('image')]));
    for (const n of ['0', '11', '1.5', 'two', '']) refusedFor('n', form([['n', n]]));
    refusedFor('response_format', form([['response_format', 'png']]));
    refusedFor('stream', form([['stream', 'true']]));
    refusedFor(
      'size',
      form([
        ['size', 'a'],
        ['size', 'b'],
      ]),
    );
  });

  it('is held per image, without image input tokens for its file', () => {
    const parts = imageVariationParts(
      form([
        ['n', '2'],
        ['size', '256x256'],
      ]),
    );
    const held = imageHoldCounts({
      operation: 'image-variations',
      body: parts.body,
      uploads: parts.uploads,
    } as unknown as GatewayRequest);
    assert.equal(held.images, 2);
    assert.equal(held.imageVariant, '256x256');
    assert.ok(!('imageInputTokens' in held));
  });
});
