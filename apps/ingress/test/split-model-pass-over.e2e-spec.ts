// A request larger than a model's whole per-model window, in the split deployment: the
// ingress passes that model over for the request alone and holds a later one, and the
// router learns of it from the request (`passedOverModels`). Here no Redis runs: the
// router's gate has its own view alone, as on its degraded path when a Redis read fails,
// so only the request can tell it.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OpenAI from 'openai';
import { FakeOpenAiUpstream } from '@aigw/testing/fake-provider';
import { startSplitDataPlane, type AppProcess } from '@aigw/testing/processes';

describe('split deployment: a model too small for a request is passed over for it alone', () => {
  const small = new FakeOpenAiUpstream('small');
  const roomy = new FakeOpenAiUpstream('roomy');
  const dir = mkdtempSync(join(tmpdir(), 'aigw-split-pass-over-'));
  const services: AppProcess[] = [];
  let client: OpenAI;

  before(async () => {
    await Promise.all([small.start(), roomy.start()]);
    const path = join(dir, 'split.yaml');
    writeFileSync(
      path,
      `kind: AIGatewayRoute
metadata: {name: split-pass-over}
spec:
  backends:
  - {name: small, priority: 0, provider: vllm, baseUrl: "${small.baseUrl}", model: small-model, modelNameOverride: chat}
  - {name: roomy, priority: 1, provider: vllm, baseUrl: "${roomy.baseUrl}", model: roomy-model, modelNameOverride: chat}
  failover:
    on: [budgetExceeded]
    retryDelay: 0s
  tokenRateLimit:
    perModel:
      small-model: {tokensPerMinute: 300}
      roomy-model: {tokensPerMinute: 100000}
`,
    );
    const { ingress } = await startSplitDataPlane({ AI_GATEWAY_CONFIG: path }, dir, services);
    client = new OpenAI({ baseURL: `${ingress.baseUrl}/v1`, apiKey: 'sk-client', maxRetries: 0 });
  });

  after(async () => {
    await Promise.all(services.map((service) => service.stop()));
    await Promise.all([small.stop(), roomy.stop()]);
  });

  const ask = (maxTokens: number) =>
    client.chat.completions.create({
      model: 'chat',
      messages: [{ role: 'user', content: 'hi' }],
      max_tokens: maxTokens,
    });

  it('sends the oversized request to the model held for it, and others to the small one', async () => {
    // 400 output tokens never fit the small model's 300 a minute: held on the roomy one.
    await ask(400);
    assert.equal(small.calls.length, 0, 'the model too small for the request was called');
    assert.equal(roomy.calls.length, 1);
    assert.equal(roomy.calls[0].body.model, 'roomy-model');
    // Passed over for that request alone: a call that fits is served by the small model.
    await ask(16);
    assert.equal(small.calls.length, 1);
    assert.equal(small.calls[0].body.model, 'small-model');
  });
});
