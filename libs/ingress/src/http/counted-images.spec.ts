import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseGatewayConfig, type GatewayConfig } from '@aigw/config';
import type { RouterPort } from '@aigw/contracts/data-plane';
import { IngressPipeline } from '../ingress-pipeline';
import { countedInputTokens } from './countable-model';

// The token-count routes (/v1/messages/count_tokens, Gemini's :countTokens,
// /v1/responses/input_tokens) counted every image at 1,600 tokens, where a call's hold
// counts each at what the model serving it may bill (4,784 on Claude Opus 4.7, 6,192 on
// Gemini 2.5): a client sizing its context by the count was told a third of it.

function config(model: string): () => GatewayConfig {
  const result = parseGatewayConfig(
    `kind: AIGatewayRoute
metadata: {name: r}
spec:
  backends:
  - {name: b, provider: local, model: ${model}, modelNameOverride: m}
`,
    { env: {} },
  );
  if (!result.ok) throw new Error(JSON.stringify(result.errors));
  const parsed = result.config;
  return () => parsed;
}

const router: RouterPort = {
  route: () => Promise.reject(new Error('a count routes nothing')),
  listModels: () => ['m'],
};

const TEXT = { type: 'text', text: 'What is shown?' };
const IMAGE = { type: 'image_url', image_url: { url: 'data:image/png;base64,iVBORw0KGgo=' } };

/** What two images add to a prompt's count on a route whose backend runs `model`. */
async function twoImages(model: string): Promise<number> {
  const pipeline = new IngressPipeline(config(model), router, {});
  const count = (content: unknown[]) =>
    countedInputTokens(pipeline, { model: 'm', messages: [{ role: 'user', content }] }, {}, 'c');
  return (await count([TEXT, IMAGE, IMAGE])) - (await count([TEXT]));
}

describe("counting a prompt's images", () => {
  it('counts each at what the model serving it may bill, as its hold does', async () => {
    assert.equal(await twoImages('claude-opus-4-7'), 2 * 4_784);
    assert.equal(await twoImages('gemini-2.5-flash'), 2 * 6_192);
    assert.equal(await twoImages('mistral-small-latest'), 2 * 3_080);
  });

  it("counts a PDF's page as its text and an image of the page on the serving model", async () => {
    const page = (n: number) => `${n} 0 obj << /Type /Page >> endobj\n`;
    const pdf = Buffer.from(`%PDF-1.7\n${page(3)}%%EOF`).toString('base64');
    const file = { type: 'file', file: { file_data: `data:application/pdf;base64,${pdf}` } };
    const added = async (model: string) => {
      const pipeline = new IngressPipeline(config(model), router, {});
      const count = (content: unknown[]) =>
        countedInputTokens(
          pipeline,
          { model: 'm', messages: [{ role: 'user', content }] },
          {},
          'c',
        );
      return (await count([TEXT, file])) - (await count([TEXT]));
    };
    assert.equal(await added('claude-sonnet-4-5'), 3_000 + 1_600);
    assert.equal(await added('claude-opus-4-7'), 3_000 + 4_784);
  });

  it('counts each at 1,600 on a model that bills an image no more', async () => {
    assert.equal(await twoImages('claude-sonnet-4-5'), 2 * 1_600);
  });
});
