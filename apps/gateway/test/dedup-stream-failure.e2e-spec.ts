import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { FakeOpenAiUpstream } from '@aigw/testing/fake-provider';
import { startGatewayWithConfig, type AppProcess } from '@aigw/testing/processes';
import { answerText, chat, FULL_ANSWER } from './reuse-helpers';

// A shared (deduplicated) stream that fails mid-way: every caller on it, the leader and
// the followers, gets the explicit SSE error event, never a stream that just stops; the
// next identical request makes its own call instead of being handed the error.

describe('a deduplicated stream failing mid-way (all-in-one gateway)', () => {
  const upstream = new FakeOpenAiUpstream('dedup-stream-failure');
  let gateway: AppProcess;

  before(async () => {
    await upstream.start();
    // The stalled stream fails at its idle timeout: until then the follower can join it,
    // which takes a loaded machine longer than the second it was given.
    gateway = await startGatewayWithConfig(
      `apiVersion: gateway.envoyproxy.io/v1alpha1
kind: AIGatewayRoute
metadata: {name: deduped}
spec:
  backends:
  - {name: dedup-upstream, provider: vllm, baseUrl: "${upstream.baseUrl}", model: up-model, modelNameOverride: dedup-model, streamIdleTimeout: 5s}
  deduplication:
    enabled: true
    window: 60s
    keyComponents: [prompt, model]
`,
    );
  });
  after(async () => {
    await gateway?.stop();
    await upstream.stop();
  });

  /** The SSE data lines of a stream, once it ended. */
  const dataLines = async (response: Response) =>
    (await response.text()).split('\n').filter((line) => line.startsWith('data: '));

  it('gives the leader and a follower the error event; the next request calls again', async () => {
    const prompt = `Stalls mid-way ${randomUUID()}`;
    const calls = upstream.calls.length;
    upstream.next({ kind: 'stall-stream', afterChunks: 2 });
    const leader = await chat(gateway.baseUrl, { model: 'dedup-model', prompt, stream: true });
    assert.equal(leader.headers.get('x-ai-gateway-dedup'), 'leader');
    const follower = await chat(gateway.baseUrl, { model: 'dedup-model', prompt, stream: true });
    assert.equal(follower.headers.get('x-ai-gateway-dedup'), 'follower');
    for (const [who, response] of [
      ['leader', leader],
      ['follower', follower],
    ] as const) {
      const lines = await dataLines(response);
      const last = JSON.parse(lines.at(-1)!.slice(6)) as { error?: { message?: string } };
      assert.ok(last.error, `${who}: the stream ends with an error event: ${lines.join(' | ')}`);
      assert.ok(!lines.includes('data: [DONE]'), `${who}: no [DONE] after a failure`);
      const text = lines
        .slice(0, -1)
        .map((line) => JSON.parse(line.slice(6)) as { choices: { delta: { content?: string } }[] })
        .map((chunk) => chunk.choices[0]?.delta.content ?? '')
        .join('');
      assert.equal(text, 'Hello from', `${who}: the part that came before the failure`);
    }
    assert.equal(upstream.calls.length, calls + 1, 'one upstream call for both');

    const again = await chat(gateway.baseUrl, { model: 'dedup-model', prompt, stream: true });
    assert.equal(again.headers.get('x-ai-gateway-dedup'), 'leader');
    assert.equal(await answerText(again), FULL_ANSWER);
    assert.equal(upstream.calls.length, calls + 2);
  });
});
