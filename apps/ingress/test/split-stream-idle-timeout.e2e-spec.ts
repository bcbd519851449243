// The stream idle timeout in the split deployment: the router cuts a stream that stalls
// after its first chunk, the cut crosses the wire to the ingress as the API's error event,
// and the provider-adapter cancels its upstream call and bills the text that went by.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { metricSum, until } from '@aigw/testing';
import {
  HALF_ANSWER_FINISHED,
  HALF_ANSWER_STARTED,
  RawSseUpstream,
} from '@aigw/testing/fake-provider';
import { startSplitDataPlane, type AppProcess } from '@aigw/testing/processes';

const dir = mkdtempSync(join(tmpdir(), 'aigw-split-idle-'));
const IDLE_S = 1;
/** Far past the idle timeout: a cut before it can only be the idle timeout's. */
const REQUEST_TIMEOUT_S = 120;

describe('split deployment: a stream that stalls after its first chunk', () => {
  const raw = new RawSseUpstream();
  let adapter: AppProcess;
  let router: AppProcess;
  let ingress: AppProcess;
  /** Every process up so far, so teardown stops them even when a later start fails. */
  const started: AppProcess[] = [];

  before(async () => {
    await raw.start();
    const path = join(dir, 'split.yaml');
    writeFileSync(
      path,
      `kind: AIGatewayRoute
metadata: {name: split-idle}
spec:
  backends:
  - {name: staller, provider: vllm, baseUrl: "${raw.baseUrl}/v1", model: upstream-model, modelNameOverride: stall, requestTimeout: ${REQUEST_TIMEOUT_S}s, streamIdleTimeout: ${IDLE_S}s}
`,
    );
    const shared = { AI_GATEWAY_CONFIG: path };
    ({ adapter, router, ingress } = await startSplitDataPlane(shared, dir, started));
  });

  after(async () => {
    await Promise.all(started.map((app) => app.stop()));
    await raw.stop();
  });

  const chat = async () => {
    const started = performance.now();
    const response = await fetch(`${ingress.baseUrl}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: 'Bearer c' },
      body: JSON.stringify({
        model: 'stall',
        stream: true,
        messages: [{ role: 'user', content: 'hi' }],
      }),
    });
    const text = await response.text();
    return { status: response.status, text, tookMs: performance.now() - started };
  };
  const metricOf = async (service: AppProcess, name: string, labels: Record<string, string>) =>
    metricSum(
      await (await fetch(`http://127.0.0.1:${service.adminPort}/metrics`)).text(),
      name,
      labels,
    );

  it('ends the stream with an error event at the idle timeout, cancels the upstream call and bills the text', async () => {
    raw.next(HALF_ANSWER_STARTED, { stall: true });
    const answer = await chat();
    const shown = `${answer.status} after ${Math.round(answer.tookMs)} ms: ${answer.text.slice(0, 1500)}`;
    assert.equal(answer.status, 200, shown);
    assert.match(answer.text, /Half an/, shown);
    // OpenAI's mid-stream error: a data event carrying an error object, and no [DONE].
    assert.match(answer.text, /^data: \{"error":\{.*"type":"timeout_error"/m, shown);
    assert.match(answer.text, /streamIdleTimeout/, shown);
    assert.doesNotMatch(answer.text, /\[DONE\]/, shown);
    assert.ok(answer.tookMs >= IDLE_S * 1000 * 0.9, shown);
    assert.ok(answer.tookMs < (REQUEST_TIMEOUT_S * 1000) / 4, shown);

    await until("the provider-adapter's upstream call to be closed", () => raw.stallsClosed > 0);
    await until(
      'the cut answer to be billed by the provider-adapter',
      async () =>
        (await metricOf(adapter, 'ai_gateway_tokens_total', { model: 'stall', type: 'output' })) >
        0,
    );
    const cut = await metricOf(router, 'ai_gateway_backend_stream_idle_timeouts_total', {
      backend: 'staller',
    });
    assert.equal(cut, 1);

    // Every process keeps serving.
    raw.next(HALF_ANSWER_FINISHED);
    const whole = await chat();
    assert.equal(whole.status, 200, whole.text);
    assert.match(whole.text, /data: \[DONE\]/, whole.text.slice(0, 1500));
  });
});
