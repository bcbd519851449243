// A chat request's images were held at 1,600 tokens each whatever the model: gpt-4o-mini
// bills an image up to 48,169 tokens (2,833 + 5,667 a tile), so its token budgets and
// per-model limits held a thirtieth of what an image call spent.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TOKENS_PER_IMAGE, type GatewayRequest } from '@aigw/contracts/data-plane';
import { admissionOn, ask, refusalOf } from './admission-fixture';
import { imageTokensUpperBound } from './image-token-bound';

const IMAGE = { type: 'image_url', image_url: { url: 'data:image/png;base64,iVBORw0KGgo=' } };

function imageAsk(images: number): GatewayRequest {
  const request = ask('u', 10);
  const content = [{ type: 'text', text: 'Describe.' }, ...Array<unknown>(images).fill(IMAGE)];
  return { ...request, body: { ...request.body, messages: [{ role: 'user', content }] } };
}

describe('imageTokensUpperBound', () => {
  it("is OpenAI's highest image cost for the models that bill an image past 1,600 tokens", () => {
    assert.equal(imageTokensUpperBound('gpt-4o-mini'), 48_169);
    assert.equal(imageTokensUpperBound('gpt-4o-mini-2024-07-18'), 48_169);
    assert.equal(imageTokensUpperBound('openai/gpt-4o-mini'), 48_169);
    assert.equal(imageTokensUpperBound('gpt-4.1-nano'), 3_779);
    assert.equal(imageTokensUpperBound('gpt-5-nano'), 3_779);
    assert.equal(imageTokensUpperBound('o4-mini'), 2_642);
    assert.equal(imageTokensUpperBound('gpt-4.1-mini-2025-04-14'), 2_489);
  });

  it('is the prompt estimate for every other model', () => {
    const models = [
      'gpt-4o',
      'claude-sonnet-4-5',
      'claude-opus-4-6',
      'anthropic.claude-3-5-sonnet-20241022-v2:0',
      'claude-sonnet-4-20250514',
      'gemini-3-pro-preview',
      'gemini-3.5-flash',
      'gpt-4o-mini-tts',
      'mistral-large-latest',
    ];
    for (const model of models) {
      assert.equal(imageTokensUpperBound(model), TOKENS_PER_IMAGE, model);
    }
  });

  // Held at 1,600, one image on these billed up to 2.6 to 3.9 times its hold.
  it("is Claude's high-resolution tier from Opus 4.7: 2,576 px a side, 4,784 patches of 28 px", () => {
    for (const model of [
      'claude-opus-4-7',
      'claude-opus-4-7-20260416',
      'claude-opus-4.7',
      'anthropic.claude-opus-4-7-v1:0',
      'us.anthropic.claude-opus-4-7-v1:0',
      'claude-opus-4-7@20260416',
      'claude-opus-4-8',
      'claude-sonnet-5',
      'claude-haiku-5-5',
      'claude-mythos-preview',
    ]) {
      assert.equal(imageTokensUpperBound(model), 4_784, model);
    }
  });

  it("is Gemini 1.5 and 2.x's 258 tokens a tile, at most 24 tiles (a 2,817 x 257 image)", () => {
    for (const model of [
      'gemini-2.5-flash',
      'gemini-2.5-pro-preview-06-05',
      'gemini-2.0-flash-lite-001',
      'models/gemini-2.5-flash',
      'google/gemini-2.0-flash',
      'gemini-1.5-pro-002',
    ]) {
      assert.equal(imageTokensUpperBound(model), 24 * 258, model);
    }
  });

  it("is Pixtral's 1,024 px at 16 px a token, with a break token a row", () => {
    for (const model of ['pixtral-12b-2409', 'pixtral-large-latest', 'mistral/pixtral-12b']) {
      assert.equal(imageTokensUpperBound(model), 64 * 64 + 64, model);
    }
  });

  // Held at 1,600, one image on these billed up to 1.9 (Mistral) or 2.1 (Cohere) times it.
  it("is Mistral Small and Medium's 1,540 px at 28 px a token, with a break token a row", () => {
    for (const model of [
      'mistral-small-latest',
      'mistral-small-2506',
      'mistral-medium-2508',
      'mistral/mistral-medium-latest',
      'magistral-medium-2509',
      'magistral-small-latest',
    ]) {
      assert.equal(imageTokensUpperBound(model), 55 * 55 + 55, model);
    }
  });

  it("is Cohere's high detail: 12 tiles of 512 px and a thumbnail, 256 tokens each", () => {
    for (const model of [
      'command-a-vision-07-2025',
      'cohere/command-a-vision',
      'c4ai-aya-vision-32b',
      'aya-vision-8b',
    ]) {
      assert.equal(imageTokensUpperBound(model), 13 * 256, model);
    }
  });
});

describe("a chat request's images in its budget hold", () => {
  const budget = '  tokenBudget: {perMinute: {limit: 20000}}';

  it('holds an image on gpt-4o-mini at what it may bill there', async () => {
    const { admission } = admissionOn('    - {name: b, provider: openai, model: chat}', budget);
    await admission.admit(imageAsk(2)); // 2 x 1,600 fit on a model that bills that
    const mini = admissionOn(
      '    - {name: b, provider: openai, model: gpt-4o-mini, modelNameOverride: chat}',
      budget,
    );
    const error = await refusalOf(mini.admission.admit(imageAsk(1)));
    assert.equal(error.httpStatus, 400);
    assert.match(error.message, /may cost up to \d+ tokens/);
    const cost = Number(/may cost up to (\d+) tokens/.exec(error.message)?.[1]);
    assert.ok(cost >= 48_169, error.message);
  });

  it('holds an image on Gemini 2.5 at its most tiles', async () => {
    const { admission } = admissionOn(
      '    - {name: b, provider: gemini, model: gemini-2.5-flash, modelNameOverride: chat}',
      '  tokenBudget: {perMinute: {limit: 12000}}',
    );
    // Two images fit at 1,600 each; Gemini may bill each 6,192.
    const error = await refusalOf(admission.admit(imageAsk(2)));
    assert.equal(error.httpStatus, 400);
    const cost = Number(/may cost up to (\d+) tokens/.exec(error.message)?.[1]);
    assert.ok(cost >= 2 * 6_192, error.message);
  });

  // A PDF's page is read as its text and an image of the page (Anthropic, OpenAI): the
  // page's image bills as any image does on the model, held at 1,600 it was not.
  it("holds each page of a PDF at the model's image bound beside its text", async () => {
    const page = (n: number) => `${n} 0 obj << /Type /Page >> endobj\n`;
    const pdf = Buffer.from(`%PDF-1.7\n${page(3)}${page(4)}%%EOF`).toString('base64');
    const request = ask('u', 10);
    const file = { type: 'file', file: { file_data: `data:application/pdf;base64,${pdf}` } };
    const asked = {
      ...request,
      body: { ...request.body, messages: [{ role: 'user', content: [file] }] },
    };
    const on = (model: string) =>
      admissionOn(
        `    - {name: b, provider: anthropic, model: ${model}, modelNameOverride: chat}`,
        '  tokenBudget: {perMinute: {limit: 12000}}',
      ).admission;
    await on('claude-sonnet-4-5').admit(asked); // two pages at 4,600 fit
    const error = await refusalOf(on('claude-opus-4-7').admit(asked));
    assert.equal(error.httpStatus, 400);
    const cost = Number(/may cost up to (\d+) tokens/.exec(error.message)?.[1]);
    assert.ok(cost >= 2 * (3_000 + 4_784), error.message);
  });

  it('holds the dearest model of a failover chain', async () => {
    const { admission } = admissionOn(
      `    - {name: a, provider: openai, model: gpt-4o, modelNameOverride: chat, priority: 0}
    - {name: b, provider: openai, model: gpt-4o-mini, modelNameOverride: chat, priority: 1}`,
      budget,
    );
    const error = await refusalOf(admission.admit(imageAsk(1)));
    assert.equal(error.httpStatus, 400);
  });
});
