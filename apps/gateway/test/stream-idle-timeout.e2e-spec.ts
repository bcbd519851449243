// A backend stream that sends its first chunk and then nothing: the gateway cuts it at the
// backend's streamIdleTimeout, long before its requestTimeout. Each edge ends the client's
// stream with its error event (never a clean-looking end), the upstream call is cancelled,
// the text that went by is billed, and the gateway keeps serving.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { metricSum, until } from '@aigw/testing';
import {
  HALF_ANSWER_FINISHED,
  HALF_ANSWER_STARTED,
  RawSseUpstream,
} from '@aigw/testing/fake-provider';
import { startGatewayWithConfig, type AppProcess } from '@aigw/testing/processes';
import { hasErrorEvent, looksFinished } from './fuzz/answer-checks';
import { streamingEdges } from './streaming-edges';

const IDLE_S = 1;
/** Far past the idle timeout: a cut before it can only be the idle timeout's. */
const REQUEST_TIMEOUT_S = 120;

const EDGES = streamingEdges('stall');

describe('a backend stream that stalls after its first chunk', () => {
  const raw = new RawSseUpstream();
  let gateway: AppProcess;

  before(async () => {
    await raw.start();
    gateway = await startGatewayWithConfig(
      `kind: AIGatewayRoute
metadata: {name: stream-idle-timeout}
spec:
  backends:
  - {name: staller, provider: vllm, baseUrl: "${raw.baseUrl}/v1", model: upstream-model, modelNameOverride: stall, requestTimeout: ${REQUEST_TIMEOUT_S}s, streamIdleTimeout: ${IDLE_S}s, auth: {apiKeyRef: {name: stall-key}}}
`,
      { AI_GATEWAY_SECRET_STALL_KEY_APIKEY: 'sk-stall' },
    );
  });
  after(async () => {
    await gateway?.stop();
    await raw.stop();
  });

  const post = async (path: string, body: object) => {
    const started = performance.now();
    const response = await fetch(`${gateway.baseUrl}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': 'k', authorization: 'Bearer k' },
      body: JSON.stringify(body),
    });
    const text = await response.text();
    return { status: response.status, text, tookMs: performance.now() - started };
  };
  const metrics = async () => (await fetch(`http://127.0.0.1:${gateway.adminPort}/metrics`)).text();
  const outputTokens = async () =>
    metricSum(await metrics(), 'ai_gateway_tokens_total', { model: 'stall', type: 'output' });
  const stallsCut = async () =>
    metricSum(await metrics(), 'ai_gateway_backend_stream_idle_timeouts_total', {
      backend: 'staller',
    });

  for (const edge of EDGES) {
    it(`${edge.name}: ends the stalled stream with its error event at the idle timeout, bills the text, cancels the upstream call`, async () => {
      const billedBefore = await outputTokens();
      const cutBefore = await stallsCut();
      const closedBefore = raw.stallsClosed;
      raw.next(HALF_ANSWER_STARTED, { stall: true });
      const answer = await post(edge.path, edge.body);
      const shown = `${answer.status} after ${Math.round(answer.tookMs)} ms: ${answer.text.slice(0, 1500)}`;
      assert.equal(answer.status, 200, shown);
      assert.match(answer.text, /Half an/, shown);
      assert.ok(hasErrorEvent(edge.format, edge.path, answer.text), `no error event: ${shown}`);
      assert.ok(!looksFinished(edge.format, edge.path, answer.text), `looks finished: ${shown}`);
      assert.match(answer.text, /streamIdleTimeout/, shown);
      // Cut by the idle timeout, not the request timeout (bounds loose for a loaded machine).
      assert.ok(answer.tookMs >= IDLE_S * 1000 * 0.9, shown);
      assert.ok(answer.tookMs < (REQUEST_TIMEOUT_S * 1000) / 4, shown);
      await until('the cut answer to be billed', async () => (await outputTokens()) > billedBefore);
      await until('the upstream call to be closed', () => raw.stallsClosed > closedBefore);
      assert.equal(await stallsCut(), cutBefore + 1);

      // The gateway keeps serving, and a stream that does finish ends cleanly.
      const billedCut = await outputTokens();
      raw.next(HALF_ANSWER_FINISHED);
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
