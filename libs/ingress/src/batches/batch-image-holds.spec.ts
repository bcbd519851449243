// A batch's images were held at 1,600 tokens each whatever model ran it (and a Responses
// line's input_image at nothing), while a chat call's are held at what its model may bill:
// gpt-4o-mini bills an image up to 48,169 tokens, so a batch of image lines on it held a
// thirtieth of its bill.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { bindLimit, LocalBudgetStore, userLimits } from '@aigw/budget-core';
import { parseGatewayConfig, routeForModel } from '@aigw/config';
import { TOKENS_PER_IMAGE } from '@aigw/contracts/data-plane';
import { imageTokensUpperBound } from '../admission/image-token-bound';
import { BatchEstimator } from './batch-estimate';
import { BatchHolds } from './batch-holds';

const IMAGE_URL = 'data:image/png;base64,iVBORw0KGgo=';
const chatLine = {
  model: 'vision',
  max_tokens: 10,
  messages: [
    {
      role: 'user',
      content: [
        { type: 'text', text: 'Describe.' },
        { type: 'image_url', image_url: { url: IMAGE_URL } },
      ],
    },
  ],
};
const responsesLine = {
  model: 'vision',
  max_output_tokens: 10,
  input: [
    {
      role: 'user',
      content: [
        { type: 'input_text', text: 'Describe.' },
        { type: 'input_image', image_url: IMAGE_URL },
      ],
    },
  ],
};

describe("a batch's images", () => {
  it("are counted in the upload's estimate, a Responses line's input_image too", () => {
    const estimator = new BatchEstimator(100);
    estimator.add('/v1/chat/completions', chatLine);
    estimator.add('/v1/responses', responsesLine);
    const { images, inputTokens } = estimator.estimate;
    assert.equal(images, 2);
    assert.ok(inputTokens >= 2 * TOKENS_PER_IMAGE, String(inputTokens));
  });

  it("count each page of a line's PDF, which the model also reads as an image", () => {
    const page = (n: number) => `${n} 0 obj << /Type /Page >> endobj\n`;
    const pdf = Buffer.from(`%PDF-1.7\n${page(3)}${page(4)}%%EOF`).toString('base64');
    const estimator = new BatchEstimator(100);
    estimator.add('/v1/chat/completions', {
      model: 'vision',
      messages: [
        {
          role: 'user',
          content: [{ type: 'file', file: { file_data: `data:application/pdf;base64,${pdf}` } }],
        },
      ],
    });
    assert.equal(estimator.estimate.images, 2);
  });

  it('are held at what the batch model may bill for each', async () => {
    const parsed = parseGatewayConfig(
      `kind: AIGatewayRoute
metadata: {name: vision}
spec:
  backends:
  - {name: openai-v, provider: openai, baseUrl: "http://127.0.0.1:9/v1", model: gpt-4o-mini, modelNameOverride: vision}
  userIdentification: {header: x-user-id}
  tokenBudget:
    perUser: {limit: 1000000, period: 1d}
`,
      { env: {} },
    );
    if (!parsed.ok) throw new Error('bad config');
    const now = Date.UTC(2026, 11, 7, 10);
    const budgets = new LocalBudgetStore(':memory:', () => now);
    const holds = new BatchHolds({
      config: () => parsed.config,
      store: budgets,
      priceFactor: 0.5,
      now: () => now,
    });
    const estimator = new BatchEstimator(100);
    for (let line = 0; line < 10; line++) estimator.add('/v1/chat/completions', chatLine);
    const owner = {
      owner: 'alice',
      model: 'vision',
      upstreamModel: 'gpt-4o-mini',
      provider: 'openai',
    };
    assert.ok(await holds.hold(owner, estimator.estimate));
    const [limit] = userLimits({
      route: routeForModel(parsed.config, 'vision')!,
      userKey: 'alice',
    });
    const bound = bindLimit(limit, now);
    const [{ reserved }] = await budgets.balances([{ key: bound.key, limit: bound.limit }], now);
    assert.ok(reserved >= 10 * imageTokensUpperBound('gpt-4o-mini'), String(reserved));
  });
});
