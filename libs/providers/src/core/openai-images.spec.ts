import { after, before, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  DataPlaneError,
  DataPlaneErrorCode,
  type GatewayRequest,
  type JsonAnswer,
  type UpstreamTarget,
} from '@aigw/contracts/data-plane';
import {
  FAKE_INPUT_IMAGE_TOKENS,
  FAKE_OUTPUT_TEXT_TOKENS,
  FakeOpenAiUpstream,
} from '@aigw/testing/fake-provider';
import { azureDeploymentUrl } from '../azure/azure-urls';
import { OpenAiCompatibleAdapter } from '../openai-compatible/openai-compatible.adapter';
import { imageUsage, imageVariant } from './openai-images';

function imageRequest(body: Record<string, unknown> = {}): GatewayRequest {
  return {
    requestId: 'req-1',
    operation: 'images',
    requestedModel: 'painter',
    stream: false,
    clientWantsStreamUsage: false,
    body: { model: 'painter', prompt: 'a fox in the snow', ...body },
    caller: { userKey: 'alice' },
    allowedModels: [],
    forwardHeaders: {},
  };
}

describe('imageUsage', () => {
  it('counts the images made as asked, with the tokens gpt-image-1 reports', () => {
    assert.deepEqual(
      imageUsage(
        { prompt: 'x', quality: 'high', size: '1024x1024' },
        { data: [{}, {}], usage: { input_tokens: 12, output_tokens: 8320 } },
      ),
      {
        inputTokens: 12,
        outputTokens: 8320,
        cachedInputTokens: 0,
        // No breakdown: what the Images API makes is images.
        imageOutputTokens: 8320,
        images: 2,
        imageVariant: 'high/1024x1024',
        source: 'reported',
      },
    );
  });

  it('counts the image tokens of the input an edit reports apart from its text', () => {
    const reported = (details: unknown) =>
      imageUsage(
        { prompt: 'add a hat' },
        {
          data: [{}],
          usage: { input_tokens: 408, output_tokens: 1056, input_tokens_details: details },
        },
      );
    const usage = reported({ text_tokens: 20, image_tokens: 388 });
    assert.equal(usage.inputTokens, 408);
    assert.equal(usage.imageInputTokens, 388);
    assert.equal(usage.outputTokens, 1056);
    // None, a bad count, no details: no image part.
    for (const details of [{ text_tokens: 408, image_tokens: 0 }, { image_tokens: -1 }, null]) {
      assert.ok(!('imageInputTokens' in reported(details)), JSON.stringify(details));
    }
    // Never more than the input it is a part of.
    assert.equal(reported({ image_tokens: 9_000 }).imageInputTokens, 408);
  });

  it('counts the image tokens of the output apart from its text, all of it without a breakdown', () => {
    const reported = (details?: unknown) =>
      imageUsage(
        { prompt: 'a fox' },
        {
          data: [{}],
          usage: {
            input_tokens: 20,
            output_tokens: 1080,
            ...(details === undefined ? {} : { output_tokens_details: details }),
          },
        },
      );
    const usage = reported({ text_tokens: 24, image_tokens: 1056 });
    assert.equal(usage.outputTokens, 1080);
    assert.equal(usage.imageOutputTokens, 1056);
    // No breakdown, or one without a usable image count: the output is the images made.
    for (const details of [undefined, null, { text_tokens: 24 }, { image_tokens: -1 }]) {
      assert.equal(reported(details).imageOutputTokens, 1080, JSON.stringify(details));
    }
    // A breakdown of no image tokens has no image part.
    assert.ok(!('imageOutputTokens' in reported({ text_tokens: 1080, image_tokens: 0 })));
    // Never more than the output it is a part of.
    assert.equal(reported({ image_tokens: 9_000 }).imageOutputTokens, 1080);
  });

  it("counts the prompt's tokens when nothing is reported", () => {
    const usage = imageUsage({ prompt: 'a fox in the snow' }, { data: [{}] });
    assert.equal(usage.images, 1);
    assert.equal(usage.imageVariant, undefined);
    assert.ok(usage.inputTokens > 0);
    assert.equal(usage.source, 'estimated');
  });

  it('names the variant by what was sent', () => {
    assert.equal(imageVariant({ quality: 'hd' }), 'hd');
    assert.equal(imageVariant({ size: '1792x1024' }), '1792x1024');
    assert.equal(imageVariant({ quality: '', size: 5 }), undefined);
  });
});

describe('images on OpenAI-compatible backends', () => {
  const upstream = new FakeOpenAiUpstream();
  let target: UpstreamTarget;
  before(async () => {
    await upstream.start();
    target = {
      backendName: 'together',
      provider: 'together',
      model: 'dall-e-3',
      baseUrl: upstream.baseUrl,
      requestTimeoutMs: 2_000,
      firstByteTimeoutMs: 500,
    };
  });
  after(() => upstream.stop());
  beforeEach(() => upstream.reset());

  const invoke = (request: GatewayRequest) =>
    new OpenAiCompatibleAdapter().invoke({
      request,
      target,
      signal: new AbortController().signal,
    }) as Promise<JsonAnswer>;

  it('posts the body with the served model and passes the images back', async () => {
    const answer = await invoke(imageRequest({ n: 2, size: '1024x1792' }));
    assert.equal((answer.body.data as unknown[]).length, 2);
    assert.equal(answer.usage.images, 2);
    assert.equal(answer.usage.imageVariant, '1024x1792');
    assert.equal(upstream.calls[0].path, '/v1/images/generations');
    assert.deepEqual(upstream.calls[0].body, {
      model: 'dall-e-3',
      prompt: 'a fox in the snow',
      n: 2,
      size: '1024x1792',
    });
  });

  it('fails over (bad response) on an answer without its data', async () => {
    upstream.next({ kind: 'garbage' });
    await assert.rejects(invoke(imageRequest()), (error: unknown) => {
      assert.ok(error instanceof DataPlaneError);
      assert.equal(error.code, DataPlaneErrorCode.UpstreamBadResponse);
      return true;
    });
  });

  it('posts an edit as a form: the fields, the served model, the images and mask', async () => {
    const png = Buffer.from('\u0089PNG-not-really');
    const answer = await invoke({
      ...imageRequest({ n: 2, size: '1024x1024' }),
      operation: 'image-edits',
      uploads: [
        { field: 'image[]', filename: 'a.png', contentType: 'image/png', data: png },
        { field: 'mask', filename: 'm.png', contentType: 'image/png', data: Buffer.from('m') },
      ],
    });
    assert.equal((answer.body.data as unknown[]).length, 2);
    assert.equal(answer.usage.images, 2);
    const [call] = upstream.calls;
    assert.equal(call.path, '/v1/images/edits');
    assert.equal(call.body.model, 'dall-e-3');
    assert.equal(call.body.n, '2');
    assert.equal(call.body.prompt, 'a fox in the snow');
    assert.equal((call.body['image[]'] as { size: number }).size, png.length);
    assert.equal((call.body.mask as { filename: string }).filename, 'm.png');
  });

  it("reports a gpt-image edit's input image tokens from the backend's answer", async () => {
    const png = Buffer.from('\u0089PNG-not-really');
    const upload = (filename: string) => ({
      field: 'image[]',
      filename,
      contentType: 'image/png',
      data: png,
    });
    const answer = (await new OpenAiCompatibleAdapter().invoke({
      request: {
        ...imageRequest({ model: 'gpt-image-1' }),
        operation: 'image-edits',
        uploads: [upload('a.png'), upload('b.png')],
      },
      target: { ...target, model: 'gpt-image-1' },
      signal: new AbortController().signal,
    })) as JsonAnswer;
    assert.equal(answer.usage.imageInputTokens, 2 * FAKE_INPUT_IMAGE_TOKENS);
    assert.equal(answer.usage.inputTokens, 20 + 2 * FAKE_INPUT_IMAGE_TOKENS);
    assert.equal(answer.usage.source, 'reported');
  });

  it("reports a gpt-image-1.5 generation's image output tokens apart from its text", async () => {
    const answer = (await new OpenAiCompatibleAdapter().invoke({
      request: imageRequest({ model: 'gpt-image-1.5', n: 2 }),
      target: { ...target, model: 'gpt-image-1.5' },
      signal: new AbortController().signal,
    })) as JsonAnswer;
    assert.equal(answer.usage.outputTokens, 2 * 1056 + FAKE_OUTPUT_TEXT_TOKENS);
    assert.equal(answer.usage.imageOutputTokens, 2 * 1056);
    assert.equal(answer.usage.source, 'reported');
  });

  it("builds Azure's deployment URL for images", () => {
    assert.equal(
      azureDeploymentUrl('https://res.openai.azure.com', 'dalle', 'images', {}),
      'https://res.openai.azure.com/openai/deployments/dalle/images/generations?api-version=2024-10-21',
    );
    assert.equal(
      azureDeploymentUrl('https://res.openai.azure.com', 'img', 'image-edits', {}),
      'https://res.openai.azure.com/openai/deployments/img/images/edits?api-version=2024-10-21',
    );
  });
});
