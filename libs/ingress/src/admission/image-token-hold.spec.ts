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
    for (const model of ['gpt-4o', 'claude-sonnet-4-5', 'gemini-2.5-flash', 'gpt-4o-mini-tts']) {
      assert.equal(imageTokensUpperBound(model), TOKENS_PER_IMAGE, model);
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
