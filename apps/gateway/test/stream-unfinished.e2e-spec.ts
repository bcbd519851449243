// An OpenAI-format backend that ends its stream with [DONE] but never finished a choice
// (no finish_reason), or finished it as failed (finish_reason "error", as OpenRouter
// does): the answer was cut, so no edge may end it as a finished one. Each
// gets its own error event instead; the text that went by is still billed, and the
// gateway keeps serving.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { metricSum, until } from '@aigw/testing';
import { RawSseUpstream } from '@aigw/testing/fake-provider';
import { startGatewayWithConfig, type AppProcess } from '@aigw/testing/processes';
import { hasErrorEvent, looksFinished } from './fuzz/answer-checks';
import { streamingEdges } from './streaming-edges';

const chunk = (delta: object, finish: string | null = null) => ({
  id: 'chatcmpl-cut',
  object: 'chat.completion.chunk',
  created: 1,
  model: 'upstream-model',
  choices: [{ index: 0, delta, finish_reason: finish }],
});

/** Content, then [DONE], with no choice ever finished. */
const UNFINISHED = [
  chunk({ role: 'assistant', content: '' }),
  chunk({ content: 'Half an' }),
  '[DONE]',
];
/** Content, then the choice finished as failed: OpenRouter's finish_reason for an error. */
const FAILED = [
  chunk({ role: 'assistant', content: '' }),
  chunk({ content: 'Half an' }),
  chunk({}, 'error'),
  '[DONE]',
];
const FINISHED = [
  chunk({ role: 'assistant', content: '' }),
  chunk({ content: 'Whole.' }),
  chunk({}, 'stop'),
  '[DONE]',
];

const EDGES = streamingEdges('cut');

describe('a backend stream that ends with [DONE] but no finish_reason', () => {
  const raw = new RawSseUpstream();
  let gateway: AppProcess;

  before(async () => {
    await raw.start();
    gateway = await startGatewayWithConfig(
      `kind: AIGatewayRoute
metadata: {name: stream-unfinished}
spec:
  backends:
  - {name: cutter, provider: vllm, baseUrl: "${raw.baseUrl}/v1", model: upstream-model, modelNameOverride: cut, auth: {apiKeyRef: {name: cut-key}}}
`,
      { AI_GATEWAY_SECRET_CUT_KEY_APIKEY: 'sk-cut' },
    );
  });
  after(async () => {
    await gateway?.stop();
    await raw.stop();
  });

  const post = async (path: string, body: object) => {
    const response = await fetch(`${gateway.baseUrl}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': 'k', authorization: 'Bearer k' },
      body: JSON.stringify(body),
    });
    return { status: response.status, text: await response.text() };
  };
  const metric = async (name: string, labels: Record<string, string>) =>
    metricSum(
      await (await fetch(`http://127.0.0.1:${gateway.adminPort}/metrics`)).text(),
      name,
      labels,
    );
  const outputTokens = () => metric('ai_gateway_tokens_total', { model: 'cut', type: 'output' });
  const broken = () => metric('ai_gateway_backend_streams_broken_total', { backend: 'cutter' });

  for (const [edge, cut, why] of EDGES.flatMap((edge) => [
    [edge, UNFINISHED, /without a finish_reason/] as const,
    [edge, FAILED, /finished a choice with an error/] as const,
  ])) {
    it(`${edge.name}: ends a choice ${cut === FAILED ? 'that failed' : 'never finished'} with its error event, not as a finished answer, and bills the text`, async () => {
      const billedBefore = await outputTokens();
      const brokenBefore = await broken();
      raw.next(cut);
      const answer = await post(edge.path, edge.body);
      const shown = `${answer.status} ${answer.text.slice(0, 1500)}`;
      assert.equal(answer.status, 200, shown);
      assert.match(answer.text, /Half an/, shown);
      assert.ok(hasErrorEvent(edge.format, edge.path, answer.text), `no error event: ${shown}`);
      assert.ok(!looksFinished(edge.format, edge.path, answer.text), `looks finished: ${shown}`);
      assert.match(answer.text, why, shown);
      await until('the cut answer to be billed', async () => (await outputTokens()) > billedBefore);
      // Counted against the backend that cut it: nothing else tells which backend does.
      assert.equal((await broken()) - brokenBefore, 1);

      // The gateway keeps serving, and a stream that does finish ends cleanly.
      const billedCut = await outputTokens();
      raw.next(FINISHED);
      const whole = await post(edge.path, edge.body);
      assert.equal(whole.status, 200, whole.text);
      assert.ok(looksFinished(edge.format, edge.path, whole.text), whole.text.slice(0, 1500));
      // Billed before the next case reads its own starting count, so that case's wait for
      // its cut answer's bill is not met by this answer's, settled late on a loaded machine.
      await until(
        'the finished answer to be billed',
        async () => (await outputTokens()) > billedCut,
      );
    });
  }
});
