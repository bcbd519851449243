// Embeddings inputs and legacy completion prompts sent as token ids (OpenAI's API takes
// number[] and number[][]; LangChain's OpenAIEmbeddings sends ids by default) are held
// against a caller's token limits by their count, one token each, as text is by its own.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { FakeOpenAiUpstream } from '@aigw/testing/fake-provider';
import { startGatewayWithConfig, type AppProcess } from '@aigw/testing/processes';

const IDS = Array.from({ length: 3000 }, (_, index) => 1000 + index);

describe('token-id prompts against token limits', () => {
  const upstream = new FakeOpenAiUpstream('token-ids');
  let gateway: AppProcess;

  before(async () => {
    await upstream.start();
    gateway = await startGatewayWithConfig(`kind: AIGatewayRoute
metadata: {name: token-ids}
spec:
  backends:
  - {name: upstream, provider: vllm, baseUrl: '${upstream.baseUrl}', model: embedder}
  userIdentification: {header: x-user-id}
  tokenRateLimit:
    perUser: {inputTokensPerMinute: 1000}
`);
  });

  after(async () => {
    await gateway?.stop();
    await upstream.stop();
  });

  const post = async (path: string, body: unknown) => {
    const response = await fetch(`${gateway.baseUrl}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-user-id': 'ids-user' },
      body: JSON.stringify(body),
    });
    return {
      status: response.status,
      body: (await response.json()) as { error: { type: string; message: string } },
    };
  };

  for (const [path, field, shape, value] of [
    ['/v1/embeddings', 'input', 'number[]', IDS],
    ['/v1/embeddings', 'input', 'number[][]', [IDS.slice(0, 1500), IDS.slice(1500)]],
    ['/v1/completions', 'prompt', 'number[]', IDS],
  ] as const) {
    it(`refuses ${shape} ${field} of 3000 ids on ${path} as larger than a 1000-token window`, async () => {
      upstream.reset();
      const answer = await post(path, { model: 'embedder', [field]: value, max_tokens: 1 });
      assert.equal(answer.status, 400, JSON.stringify(answer.body));
      assert.equal(answer.body.error.type, 'invalid_request_error');
      assert.match(answer.body.error.message, /inputTokensPerMinute/);
      assert.equal(upstream.calls.length, 0, 'no backend called');
    });
  }

  it('still serves a token-id input within the window', async () => {
    upstream.reset();
    const answer = await post('/v1/embeddings', { model: 'embedder', input: IDS.slice(0, 500) });
    assert.equal(answer.status, 200, JSON.stringify(answer.body));
    assert.equal(upstream.calls.length, 1);
    assert.deepEqual(upstream.calls[0].body.input, IDS.slice(0, 500));
  });
});
