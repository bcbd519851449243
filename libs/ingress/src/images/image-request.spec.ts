import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { DataPlaneError, type GatewayRequest } from '@aigw/contracts/data-plane';
import {
  IMAGE_OUTPUT_TOKENS,
  imageHoldCounts,
  INPUT_IMAGE_TOKENS,
  PARTIAL_IMAGE_TOKENS,
} from './image-hold';
import { checkedImageBody, MAX_IMAGES } from './image-request';

const ok = { model: 'dall-e-3', prompt: 'a lighthouse' };

function refusedFor(param: string, body: Record<string, unknown>): void {
  assert.throws(
    () => checkedImageBody({ ...ok, ...body }),
    (error: unknown) =>
      error instanceof DataPlaneError && error.httpStatus === 400 && error.param === param,
    JSON.stringify(body),
  );
}

describe('checkedImageBody', () => {
  it('passes a good body through as it is', () => {
    const body = {
      ...ok,
      n: MAX_IMAGES,
      size: '1024x1024',
      quality: 'hd',
      style: 'vivid',
      response_format: 'b64_json',
      stream: false,
      moderation: 'low',
    };
    assert.equal(checkedImageBody(body), body);
  });

  it('refuses what OpenAI refuses, naming the field', () => {
    refusedFor('prompt', { prompt: undefined });
    refusedFor('prompt', { prompt: '' });
    for (const n of [0, 11, 2.5, '2']) refusedFor('n', { n });
    refusedFor('size', { size: 1024 });
    refusedFor('quality', { quality: ['hd'] });
    refusedFor('response_format', { response_format: 'png' });
    refusedFor('stream', { stream: 'true' });
    refusedFor('partial_images', { partial_images: 2 });
    for (const partial_images of [-1, 4, 1.5, '2']) {
      refusedFor('partial_images', { stream: true, partial_images });
    }
    refusedFor('n', { stream: true, n: 2 });
  });

  it('passes a gpt-image stream with 0-3 partial images', () => {
    for (const partial_images of [undefined, 0, 1, 3]) {
      const body = { ...ok, model: 'gpt-image-1', stream: true, n: 1, partial_images };
      assert.equal(checkedImageBody(body), body);
    }
  });
});

describe('imageHoldCounts', () => {
  const request = (body: Record<string, unknown>) =>
    ({ operation: 'images', body: { ...ok, ...body } }) as unknown as GatewayRequest;

  it('holds n images as asked and their output tokens at the quality asked', () => {
    const held = imageHoldCounts(request({ n: 3, quality: 'low', size: '1024x1536' }));
    assert.equal(held.images, 3);
    assert.equal(held.imageVariant, 'low/1024x1536');
    assert.equal(held.outputTokens, 3 * IMAGE_OUTPUT_TOKENS.low);
    assert.ok(held.inputTokens > 0);
  });

  it('holds every output token as an image token, for the image output price', () => {
    for (const body of [{ n: 3, quality: 'low' }, { quality: 'auto' }, {}]) {
      const held = imageHoldCounts(request(body));
      assert.equal(held.imageOutputTokens, held.outputTokens, JSON.stringify(body));
      assert.ok(held.outputTokens > 0);
    }
  });

  it("holds a stream's partial images as image output beside the image", () => {
    const held = imageHoldCounts(request({ stream: true, partial_images: 3, quality: 'low' }));
    assert.equal(held.outputTokens, IMAGE_OUTPUT_TOKENS.low + 3 * PARTIAL_IMAGE_TOKENS);
    assert.equal(held.imageOutputTokens, held.outputTokens);
  });

  it('assumes one image at the highest quality when the body leaves them out', () => {
    const held = imageHoldCounts(request({ quality: 'auto' }));
    assert.equal(held.images, 1);
    assert.equal(held.outputTokens, IMAGE_OUTPUT_TOKENS.high);
    assert.equal(imageHoldCounts(request({})).imageVariant, undefined);
  });

  it("holds an edit's files as image input, at low fidelity only when asked", () => {
    const file = {
      field: 'image[]',
      filename: 'a.png',
      contentType: 'image/png',
      data: Buffer.from('x'),
    };
    const edit = (body: Record<string, unknown>) =>
      ({
        ...request(body),
        operation: 'image-edits',
        uploads: [file, file, { ...file, field: 'mask' }],
      }) as GatewayRequest;
    const prompt = imageHoldCounts(request({})).inputTokens;
    const high = imageHoldCounts(edit({}));
    assert.equal(high.imageInputTokens, 3 * INPUT_IMAGE_TOKENS.high);
    assert.equal(high.inputTokens, prompt + 3 * INPUT_IMAGE_TOKENS.high);
    assert.equal(imageHoldCounts(edit({ input_fidelity: 'high' })).imageInputTokens, 3 * 6_821);
    const low = imageHoldCounts(edit({ input_fidelity: 'low' }));
    assert.equal(low.imageInputTokens, 3 * 581);
    assert.equal(low.inputTokens, prompt + 3 * 581);
    // A generation sends no image.
    assert.ok(!('imageInputTokens' in imageHoldCounts(request({}))));
  });
});
