// Image generation through the all-in-one gateway with the official openai client: the
// body reaches an OpenAI-compatible backend under the served model's name, the images come
// back as sent, dall-e-3 is billed per image by quality and size and gpt-image-1 by the
// tokens it reports (cost header and stored usage; an edit's input images at their own
// image input price, gpt-image-1.5's images at their image output price, held at it too),
// a dollar budget refuses once spent, a
// failing backend fails over, backends without images are skipped, bad bodies are 400s.
import { after, before, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import OpenAI, { toFile } from 'openai';
import { metricSum, until } from '@aigw/testing';
import {
  FAKE_IMAGE_B64,
  FAKE_INPUT_IMAGE_TOKENS,
  FAKE_OUTPUT_TEXT_TOKENS,
  FAKE_PARTIAL_IMAGE_TOKENS,
  FakeAnthropicUpstream,
  FakeOpenAiUpstream,
} from '@aigw/testing/fake-provider';
import { startApp, type AppProcess } from '@aigw/testing/processes';

const COST_HEADER = 'x-ai-gateway-cost-usd';
// gpt-image-1's list prices: $5 text and $10 image input, $40 output per 1M tokens.
const GPT_IMAGE = { inputPer1k: 0.005, imageInputPer1k: 0.01, outputPer1k: 0.04 };
// gpt-image-1.5's: $5 text input, $10 text output, $32 image output per 1M tokens.
const GPT_IMAGE_15 = { inputPer1k: 0.005, outputPer1k: 0.01, imageOutputPer1k: 0.032 };
const asHeader = (dollars: number) => Number(dollars.toFixed(7));

describe('all-in-one gateway: /v1/images/generations', () => {
  const primary = new FakeOpenAiUpstream('primary');
  const secondary = new FakeOpenAiUpstream('secondary');
  const anthropic = new FakeAnthropicUpstream();
  const dir = mkdtempSync(join(tmpdir(), 'aigw-images-'));
  let gateway: AppProcess;
  let client: OpenAI;
  let user: string;

  before(async () => {
    await Promise.all([primary.start(), secondary.start(), anthropic.start()]);
    writeFileSync(
      join(dir, 'config.yaml'),
      `kind: AIGatewayRoute
metadata: {name: images}
spec:
  backends:
  - {name: claude-first, priority: 0, provider: anthropic, baseUrl: "${anthropic.baseUrl}", auth: {apiKeyRef: {name: anthropic-key}}, model: claude-haiku-4-5, modelNameOverride: painter}
  - {name: primary, priority: 1, provider: openai, baseUrl: "${primary.baseUrl}", auth: {apiKeyRef: {name: openai-key}}, model: dall-e-3, modelNameOverride: painter}
  - {name: secondary, priority: 2, provider: openai-compatible, baseUrl: "${secondary.baseUrl}", model: dall-e-3-backup, modelNameOverride: painter}
  - {name: tokens, provider: openai-compatible, baseUrl: "${primary.baseUrl}", model: gpt-image-1}
  - {name: tokens-15, provider: openai-compatible, baseUrl: "${primary.baseUrl}", model: gpt-image-1.5}
  - {name: stream-first, priority: 0, provider: openai, baseUrl: "${primary.baseUrl}", auth: {apiKeyRef: {name: openai-key}}, model: gpt-image-1, modelNameOverride: streamer}
  - {name: stream-second, priority: 1, provider: openai-compatible, baseUrl: "${secondary.baseUrl}", model: gpt-image-1, modelNameOverride: streamer}
  - {name: together-painter, provider: together, baseUrl: "${primary.baseUrl}", model: flux-schnell}
  - {name: varier-azure, priority: 0, provider: azure, baseUrl: "${secondary.baseUrl}", auth: {apiKeyRef: {name: openai-key}}, model: dalle2, modelNameOverride: varier}
  - {name: varier, priority: 1, provider: openai, baseUrl: "${primary.baseUrl}", auth: {apiKeyRef: {name: openai-key}}, model: dall-e-2, modelNameOverride: varier}
  userIdentification: {header: x-user-id}
  failover: {on: [rateLimit, timeout, error], retryDelay: 0s}
  costControl:
    maxDailyCostPerUser: 0.25
    modelPricing:
      dall-e-3: {inputPer1k: 0, outputPer1k: 0, perImage: 0.04, perImageVariants: {hd: 0.08, 1792x1024: 0.08, hd/1792x1024: 0.12}}
      dall-e-3-backup: {inputPer1k: 0, outputPer1k: 0, perImage: 0.04}
      dall-e-2: {inputPer1k: 0, outputPer1k: 0, perImage: 0.02, perImageVariants: {256x256: 0.016, 512x512: 0.018}}
      gpt-image-1: {inputPer1k: ${GPT_IMAGE.inputPer1k}, imageInputPer1k: ${GPT_IMAGE.imageInputPer1k}, outputPer1k: ${GPT_IMAGE.outputPer1k}}
      gpt-image-1.5: {inputPer1k: ${GPT_IMAGE_15.inputPer1k}, outputPer1k: ${GPT_IMAGE_15.outputPer1k}, imageOutputPer1k: ${GPT_IMAGE_15.imageOutputPer1k}}
`,
    );
    gateway = await startApp('gateway', {
      AI_GATEWAY_CONFIG: join(dir, 'config.yaml'),
      AI_GATEWAY_DATA_DIR: join(dir, 'data'),
      AI_GATEWAY_SECRET_OPENAI_KEY_APIKEY: 'sk-openai-test',
      AI_GATEWAY_SECRET_ANTHROPIC_KEY_APIKEY: 'sk-ant-test',
    });
  });

  after(async () => {
    await gateway?.stop();
    await Promise.all([primary.stop(), secondary.stop(), anthropic.stop()]);
  });

  beforeEach(() => {
    primary.reset();
    secondary.reset();
    anthropic.reset();
    // A caller of its own per test: the route's $0.25 a day would not cover them all.
    user = `painter-${randomUUID()}`;
    client = new OpenAI({
      baseURL: `${gateway.baseUrl}/v1`,
      apiKey: 'unused',
      maxRetries: 0,
      defaultHeaders: { 'x-user-id': user },
    });
  });

  /** This test's caller's stored usage rows, once `count` of them are there. */
  async function storedRows(count: number) {
    const db = new DatabaseSync(join(dir, 'data', 'analytics.db'), { readOnly: true });
    try {
      const rows = () =>
        db
          .prepare(
            `SELECT input_tokens AS input, output_tokens AS output, cost_dollars AS cost
             FROM usage_events WHERE user_id = ?`,
          )
          .all(user) as { input: number; output: number; cost: number }[];
      await until('the usage rows are stored', () => rows().length >= count);
      return rows();
    } finally {
      db.close();
    }
  }

  it('generates under the served name and bills each image at its variant', async () => {
    const { data, response } = await client.images
      .generate({
        model: 'painter',
        prompt: 'a lighthouse',
        n: 2,
        quality: 'hd',
        size: '1792x1024',
      })
      .withResponse();
    assert.equal(data.data?.length, 2);
    assert.equal(data.data?.[0].url, 'https://images.example/fake-0.png');
    assert.equal(anthropic.calls.length, 0, 'a backend without images is no candidate');
    const [call] = primary.calls;
    assert.equal(call.path, '/v1/images/generations');
    assert.equal(call.headers.authorization, 'Bearer sk-openai-test');
    assert.deepEqual(call.body, {
      model: 'dall-e-3',
      prompt: 'a lighthouse',
      n: 2,
      quality: 'hd',
      size: '1792x1024',
    });
    assert.equal(Number(response.headers.get(COST_HEADER)), 0.24);
    // The quality alone, then the size alone, then perImage.
    for (const [asked, each] of [
      [{ quality: 'hd' as const }, 0.08],
      [{ size: '1792x1024' as const }, 0.08],
      [{ size: '1024x1024' as const }, 0.04],
    ] as const) {
      const { response: priced } = await client.images
        // Another caller: this one's $0.24 leaves no room under the day's $0.25.
        .generate(
          { model: 'painter', prompt: 'x', ...asked },
          { headers: { 'x-user-id': randomUUID() } },
        )
        .withResponse();
      assert.equal(Number(priced.headers.get(COST_HEADER)), each, JSON.stringify(asked));
    }
  });

  it('bills gpt-image-1 by the tokens it reports, and returns its base64 images', async () => {
    const { data, response } = await client.images
      .generate({ model: 'gpt-image-1', prompt: 'a fox', n: 1, quality: 'medium' })
      .withResponse();
    assert.equal(data.data?.[0].b64_json, FAKE_IMAGE_B64);
    assert.equal(data.usage?.output_tokens, 1056);
    const dollars = (20 / 1000) * GPT_IMAGE.inputPer1k + (1056 / 1000) * GPT_IMAGE.outputPer1k;
    assert.equal(Number(response.headers.get(COST_HEADER)), asHeader(dollars));
  });

  it("bills gpt-image-1.5's images at imageOutputPer1k and its text output at outputPer1k", async () => {
    const { data, response } = await client.images
      .generate({ model: 'gpt-image-1.5', prompt: 'a fox', n: 2, quality: 'medium' })
      .withResponse();
    assert.equal(data.data?.length, 2);
    assert.equal(data.usage?.output_tokens_details?.image_tokens, 2 * 1056);
    assert.equal(data.usage?.output_tokens, 2 * 1056 + FAKE_OUTPUT_TEXT_TOKENS);
    const dollars =
      (20 / 1000) * GPT_IMAGE_15.inputPer1k +
      (FAKE_OUTPUT_TEXT_TOKENS / 1000) * GPT_IMAGE_15.outputPer1k +
      ((2 * 1056) / 1000) * GPT_IMAGE_15.imageOutputPer1k;
    assert.equal(Number(response.headers.get(COST_HEADER)), asHeader(dollars));
    assert.equal((data.usage as unknown as { cost: number }).cost, asHeader(dollars));
    const text = await (await fetch(`http://127.0.0.1:${gateway.adminPort}/metrics`)).text();
    const tokens = (type: string) =>
      metricSum(text, 'ai_gateway_tokens_total', { user, model: 'gpt-image-1.5', type });
    assert.equal(tokens('output'), 2 * 1056 + FAKE_OUTPUT_TEXT_TOKENS);
    assert.equal(tokens('image_output'), 2 * 1056);
  });

  it("holds gpt-image-1.5's images at imageOutputPer1k: two high-quality ones never fit $0.25", async () => {
    // Held at 2 x 6,240 image tokens: about $0.40 at $32 per 1M ($0.125 at the text's $10,
    // which would let the call through).
    await assert.rejects(
      client.images.generate({ model: 'gpt-image-1.5', prompt: 'a fox', n: 2, quality: 'high' }),
      (error: unknown) => {
        assert.ok(error instanceof OpenAI.BadRequestError, String(error));
        const held = Number(/cost up to ([\d.]+) dollars/.exec(error.message)?.[1]);
        const images = ((2 * 6_240) / 1000) * GPT_IMAGE_15.imageOutputPer1k;
        assert.ok(held >= images && held < images + 0.001, `${held} held`);
        assert.match(error.message, /maxDailyCostPerUser/);
        return true;
      },
    );
    assert.equal(primary.calls.length, 0, 'refused before any call');
    // One fits ($0.20).
    const one = await client.images.generate({
      model: 'gpt-image-1.5',
      prompt: 'a fox',
      quality: 'high',
    });
    assert.equal(one.data?.length, 1);
  });

  it("bills a gpt-image-1 edit's input images at imageInputPer1k: header, usage.cost, stored row", async () => {
    const png = Buffer.from(FAKE_IMAGE_B64, 'base64');
    const { data, response } = await client.images
      .edit({
        model: 'gpt-image-1',
        image: [
          await toFile(png, 'room.png', { type: 'image/png' }),
          await toFile(png, 'lamp.png', { type: 'image/png' }),
        ],
        prompt: 'put the lamp in the room',
        quality: 'medium',
      })
      .withResponse();
    const imageTokens = 2 * FAKE_INPUT_IMAGE_TOKENS;
    assert.equal(data.usage?.input_tokens_details.image_tokens, imageTokens);
    // 20 text tokens at the text price, the two images' tokens at the image price.
    const dollars =
      (20 / 1000) * GPT_IMAGE.inputPer1k +
      (imageTokens / 1000) * GPT_IMAGE.imageInputPer1k +
      (1056 / 1000) * GPT_IMAGE.outputPer1k;
    assert.equal(Number(response.headers.get(COST_HEADER)), asHeader(dollars));
    assert.equal((data.usage as unknown as { cost: number }).cost, asHeader(dollars));
    const db = new DatabaseSync(join(dir, 'data', 'analytics.db'), { readOnly: true });
    try {
      const rows = () =>
        db
          .prepare(
            `SELECT input_tokens AS input, cost_dollars AS cost FROM usage_events WHERE user_id = ?`,
          )
          .all(user) as { input: number; cost: number }[];
      await until('the usage row is stored', () => rows().length >= 1);
      const [row] = rows();
      assert.equal(row.input, 20 + imageTokens);
      assert.ok(Math.abs(row.cost - dollars) < 1e-9, `${row.cost} stored, ${dollars} billed`);
    } finally {
      db.close();
    }
  });

  it('streams gpt-image-1 partial images as events, billed at the completed usage', async () => {
    const stream = await client.images.generate({
      model: 'gpt-image-1',
      prompt: 'a fox',
      quality: 'medium',
      stream: true,
      partial_images: 2,
    });
    const events = [];
    for await (const event of stream) events.push(event);
    assert.deepEqual(
      events.map((event) => event.type),
      [
        'image_generation.partial_image',
        'image_generation.partial_image',
        'image_generation.completed',
      ],
    );
    const completed = events[2];
    assert.ok(completed.type === 'image_generation.completed');
    assert.equal(completed.b64_json, FAKE_IMAGE_B64);
    const output = 1056 + 2 * FAKE_PARTIAL_IMAGE_TOKENS;
    assert.equal(completed.usage.output_tokens, output);
    const [call] = primary.calls;
    assert.equal(call.body.stream, true);
    assert.equal(call.body.partial_images, 2);
    assert.equal(call.headers.accept, 'text/event-stream');
    const dollars = (20 / 1000) * GPT_IMAGE.inputPer1k + (output / 1000) * GPT_IMAGE.outputPer1k;
    const [row] = await storedRows(1);
    assert.equal(row.input, 20);
    assert.equal(row.output, output);
    assert.ok(Math.abs(row.cost - dollars) < 1e-9, `${row.cost} stored, ${dollars} billed`);
  });

  it("streams a gpt-image-1 edit's events", async () => {
    const png = Buffer.from(FAKE_IMAGE_B64, 'base64');
    const stream = await client.images.edit({
      model: 'gpt-image-1',
      image: await toFile(png, 'room.png', { type: 'image/png' }),
      prompt: 'add a lamp',
      quality: 'low',
      stream: true,
      partial_images: 1,
    });
    const types = [];
    for await (const event of stream) types.push(event.type);
    assert.deepEqual(types, ['image_edit.partial_image', 'image_edit.completed']);
    const [row] = await storedRows(1);
    assert.equal(row.input, 20 + FAKE_INPUT_IMAGE_TOKENS);
    assert.equal(row.output, 1056 + FAKE_PARTIAL_IMAGE_TOKENS);
  });

  it('fails an image stream over before its first event, and ends a cut one with an error event', async () => {
    primary.next({ kind: 'status', status: 500 });
    const types = [];
    for await (const event of await client.images.generate({
      model: 'streamer',
      prompt: 'a bridge',
      quality: 'medium',
      stream: true,
      partial_images: 1,
    })) {
      types.push(event.type);
    }
    assert.deepEqual(types, ['image_generation.partial_image', 'image_generation.completed']);
    assert.equal(primary.calls.length, 1);
    assert.equal(secondary.calls.length, 1);

    primary.next({ kind: 'break-stream', afterChunks: 1 });
    const seen: string[] = [];
    await assert.rejects(
      (async () => {
        const stream = await client.images.generate({
          model: 'streamer',
          prompt: 'a bridge',
          quality: 'medium',
          stream: true,
          partial_images: 2,
        });
        for await (const event of stream) seen.push(event.type);
      })(),
      (error: unknown) => {
        assert.ok(error instanceof OpenAI.APIError, String(error));
        assert.match(error.message, /stream/);
        return true;
      },
    );
    assert.deepEqual(seen, ['image_generation.partial_image']);
    assert.equal(secondary.calls.length, 1, 'no failover after the first event');
  });

  it('refuses a stream only Together could make, and bad stream settings, before any call', async () => {
    for (const [body, param] of [
      [{ model: 'flux-schnell', prompt: 'x', stream: true }, 'stream'],
      [{ model: 'gpt-image-1', prompt: 'x', stream: true, partial_images: 4 }, 'partial_images'],
      [{ model: 'gpt-image-1', prompt: 'x', partial_images: 2 }, 'partial_images'],
      [{ model: 'gpt-image-1', prompt: 'x', stream: true, n: 2 }, 'n'],
    ] as const) {
      const response = await fetch(`${gateway.baseUrl}/v1/images/generations`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      assert.equal(response.status, 400, JSON.stringify(body));
      const error = ((await response.json()) as { error: { param: string } }).error;
      assert.equal(error.param, param);
    }
    assert.equal(primary.calls.length + secondary.calls.length, 0);
  });

  it('fails over to the next backend', async () => {
    primary.next({ kind: 'status', status: 500 });
    const data = await client.images.generate({ model: 'painter', prompt: 'a bridge' });
    assert.equal(data.data?.length, 1);
    assert.equal(primary.calls.length, 1);
    assert.equal(secondary.calls[0].body.model, 'dall-e-3-backup');
  });

  it('refuses bad bodies with OpenAI-style 400s before any call', async () => {
    for (const [body, param] of [
      [{ model: 'painter' }, 'prompt'],
      [{ model: 'painter', prompt: 'x', n: 11 }, 'n'],
      [{ model: 'painter', prompt: 'x', n: 1.5 }, 'n'],
      [{ model: 'painter', prompt: 'x', size: 1024 }, 'size'],
      [{ model: 'painter', prompt: 'x', response_format: 'png' }, 'response_format'],
      [{ model: 'painter', prompt: 'x', stream: 'true' }, 'stream'],
    ] as const) {
      const response = await fetch(`${gateway.baseUrl}/v1/images/generations`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      assert.equal(response.status, 400, param);
      const error = ((await response.json()) as { error: { param: string } }).error;
      assert.equal(error.param, param);
    }
    assert.equal(primary.calls.length + secondary.calls.length, 0);
  });

  it('refuses a caller whose dollar budget the images spent', async () => {
    // $0.08 a call (two standard images) against $0.25 a day: the fourth cannot fit.
    let refusedAt = -1;
    for (let i = 0; i < 8 && refusedAt < 0; i++) {
      try {
        await client.images.generate({ model: 'painter', prompt: 'a cat', n: 2 });
      } catch (error) {
        assert.ok(error instanceof OpenAI.RateLimitError, String(error));
        assert.match(error.message, /maxDailyCostPerUser/);
        refusedAt = i;
      }
      await new Promise((resolve) => setTimeout(resolve, 300));
    }
    assert.equal(refusedAt, 3);
  });

  it('edits uploaded images through /v1/images/edits, billed per image', async () => {
    const png = Buffer.from(FAKE_IMAGE_B64, 'base64');
    const { data, response } = await client.images
      .edit({
        model: 'painter',
        image: await toFile(png, 'photo.png', { type: 'image/png' }),
        mask: await toFile(png, 'mask.png', { type: 'image/png' }),
        prompt: 'add a hat',
        n: 2,
      })
      .withResponse();
    assert.equal(data.data?.length, 2);
    assert.equal(Number(response.headers.get(COST_HEADER)), 0.08);
    const [call] = primary.calls;
    assert.equal(call.path, '/v1/images/edits');
    assert.equal(call.body.model, 'dall-e-3');
    assert.equal(call.body.prompt, 'add a hat');
    assert.equal((call.body.image as { size: number }).size, png.length);
    assert.equal((call.body.mask as { filename: string }).filename, 'mask.png');

    const noImage = new FormData();
    noImage.append('model', 'painter');
    noImage.append('prompt', 'add a hat');
    const refused = await fetch(`${gateway.baseUrl}/v1/images/edits`, {
      method: 'POST',
      body: noImage,
    });
    assert.equal(refused.status, 400);
    assert.equal(((await refused.json()) as { error: { param: string } }).error.param, 'image');
  });

  it('makes variations of an uploaded PNG through /v1/images/variations, billed per image', async () => {
    const png = Buffer.from(FAKE_IMAGE_B64, 'base64');
    const { data, response } = await client.images
      .createVariation({
        model: 'varier',
        image: await toFile(png, 'otter.png', { type: 'image/png' }),
        n: 2,
        size: '512x512',
      })
      .withResponse();
    assert.equal(data.data?.length, 2);
    assert.equal(data.data?.[0].url, 'https://images.example/fake-0.png');
    assert.equal(Number(response.headers.get(COST_HEADER)), 0.036);
    assert.equal(secondary.calls.length, 0, 'Azure OpenAI has no variations: skipped');
    const [call] = primary.calls;
    assert.equal(call.path, '/v1/images/variations');
    assert.equal(call.headers.authorization, 'Bearer sk-openai-test');
    assert.equal(call.body.model, 'dall-e-2');
    assert.equal(call.body.n, '2');
    assert.equal(call.body.size, '512x512');
    assert.equal((call.body.image as { size: number }).size, png.length);
    const [row] = await storedRows(1);
    assert.ok(Math.abs(row.cost - 0.036) < 1e-9, `${row.cost} stored`);
    const text = await (await fetch(`http://127.0.0.1:${gateway.adminPort}/metrics`)).text();
    assert.ok(
      metricSum(text, 'ai_gateway_requests_total', { route: 'images.variations', status: '200' }) >=
        1,
    );
  });

  it('serves variations without /v1, answers a wrong method with a 405 and bad forms with 400s', async () => {
    const png = Buffer.from(FAKE_IMAGE_B64, 'base64');
    const form = (fields: Record<string, string>, image: Buffer = png) => {
      const body = new FormData();
      for (const [name, value] of Object.entries({ model: 'varier', ...fields })) {
        body.append(name, value);
      }
      body.append('image', new Blob([image], { type: 'image/png' }), 'a.png');
      return body;
    };
    const bare = await fetch(`${gateway.baseUrl}/images/variations`, {
      method: 'POST',
      body: form({ response_format: 'b64_json' }),
    });
    assert.equal(bare.status, 200);
    const answer = (await bare.json()) as { data: { b64_json: string }[] };
    assert.equal(answer.data[0].b64_json, FAKE_IMAGE_B64);
    const wrong = await fetch(`${gateway.baseUrl}/v1/images/variations`);
    assert.equal(wrong.status, 405);
    assert.equal(wrong.headers.get('allow'), 'POST');
    const before = primary.calls.length;
    for (const [body, param] of [
      [form({ n: '11' }), 'n'],
      [form({}, Buffer.from('GIF89a')), 'image'],
      [form({ stream: 'true' }), 'stream'],
    ] as const) {
      const refused = await fetch(`${gateway.baseUrl}/v1/images/variations`, {
        method: 'POST',
        body,
      });
      assert.equal(refused.status, 400, param);
      assert.equal(((await refused.json()) as { error: { param: string } }).error.param, param);
    }
    assert.equal(primary.calls.length, before, 'no call for a refused form');
  });

  it('stores the usage with its cost and counts route="images.generations"', async () => {
    await client.images.generate({ model: 'painter', prompt: 'a tree', quality: 'hd' });
    const text = await (await fetch(`http://127.0.0.1:${gateway.adminPort}/metrics`)).text();
    assert.ok(
      metricSum(text, 'ai_gateway_requests_total', {
        route: 'images.generations',
        status: '200',
      }) >= 10,
    );
    const db = new DatabaseSync(join(dir, 'data', 'analytics.db'), { readOnly: true });
    try {
      const rows = () =>
        db.prepare(`SELECT cost_dollars AS cost FROM usage_events WHERE user_id = ?`).all(user) as {
          cost: number;
        }[];
      await until('the usage row is stored', () => rows().length >= 1);
      assert.deepEqual(
        rows().map((row) => row.cost),
        [0.08],
      );
    } finally {
      db.close();
    }
  });
});
