import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { FakeOpenAiUpstream } from '@aigw/testing/fake-provider';
import { startGatewayWithConfig, type AppProcess } from '@aigw/testing/processes';

// A cached stream replayed on each API the gateway speaks is a whole stream of that API,
// with the usage the client asked for, as the call that filled the cache was.

const settle = () => new Promise((resolve) => setTimeout(resolve, 600));

/** The JSON data events of an SSE body (without a closing [DONE]). */
function dataEvents(sse: string): Record<string, unknown>[] {
  return sse
    .split('\n')
    .filter((line) => line.startsWith('data: ') && line !== 'data: [DONE]')
    .map((line) => JSON.parse(line.slice(6)) as Record<string, unknown>);
}

describe('cached streams replayed on every API (all-in-one gateway)', () => {
  const upstream = new FakeOpenAiUpstream('reuse-edges');
  let gateway: AppProcess;

  before(async () => {
    await upstream.start();
    gateway = await startGatewayWithConfig(
      `apiVersion: gateway.envoyproxy.io/v1alpha1
kind: AIGatewayRoute
metadata: {name: cached}
spec:
  backends:
  - {name: cached-upstream, provider: vllm, baseUrl: "${upstream.baseUrl}", model: up-model, modelNameOverride: cached-model}
  caching: {enabled: true, ttl: 3600s, keyComponents: [prompt, model]}
`,
    );
  });
  after(async () => {
    await gateway?.stop();
    await upstream.stop();
  });

  /** `body` posted to `path` twice: a miss that fills the cache, then the hit; both bodies. */
  async function missThenHit(path: string, body: string): Promise<[string, string]> {
    const send = () =>
      fetch(`${gateway.baseUrl}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-user-id': 'edges' },
        body,
      });
    const calls = upstream.calls.length;
    const miss = await send();
    assert.equal(miss.headers.get('x-ai-gateway-cache'), 'miss');
    const first = await miss.text();
    assert.equal(miss.status, 200, first);
    await settle();
    const hit = await send();
    assert.equal(hit.headers.get('x-ai-gateway-cache'), 'hit');
    assert.match(hit.headers.get('content-type') ?? '', /text\/event-stream/);
    const second = await hit.text();
    assert.equal(upstream.calls.length, calls + 1, 'the hit made no upstream call');
    return [first, second];
  }

  it('chat with include_usage: the usage chunk, then [DONE]', async () => {
    const body = JSON.stringify({
      model: 'cached-model',
      messages: [{ role: 'user', content: `Usage please ${randomUUID()}` }],
      stream: true,
      stream_options: { include_usage: true },
    });
    const [first, second] = await missThenHit('/v1/chat/completions', body);
    for (const sse of [first, second]) {
      assert.ok(sse.trimEnd().endsWith('data: [DONE]'), sse);
      const usage = dataEvents(sse).filter((event) => event.usage);
      assert.equal(usage.length, 1, sse);
    }
    const usageOf = (sse: string) => dataEvents(sse).find((event) => event.usage)?.usage;
    assert.deepEqual(usageOf(second), usageOf(first));
  });

  it('Gemini streamGenerateContent: the text, a finish reason and usageMetadata', async () => {
    const body = JSON.stringify({
      contents: [{ role: 'user', parts: [{ text: `Gemini ${randomUUID()}` }] }],
    });
    const [first, second] = await missThenHit(
      '/v1beta/models/cached-model:streamGenerateContent?alt=sse',
      body,
    );
    const summary = (sse: string) => {
      const events = dataEvents(sse) as {
        candidates?: { content?: { parts?: { text?: string }[] }; finishReason?: string }[];
        usageMetadata?: unknown;
      }[];
      return {
        text: events
          .flatMap((e) => e.candidates ?? [])
          .flatMap((c) => c.content?.parts ?? [])
          .map((p) => p.text ?? '')
          .join(''),
        finish: events.flatMap((e) => e.candidates ?? []).find((c) => c.finishReason)?.finishReason,
        usage: events.at(-1)?.usageMetadata,
      };
    };
    assert.equal(summary(first).text, 'Hello from the fake upstream.');
    assert.equal(summary(first).finish, 'STOP');
    assert.ok(summary(first).usage, first);
    assert.deepEqual(summary(second), summary(first));
  });

  it('Responses: response.completed with its usage', async () => {
    const body = JSON.stringify({
      model: 'cached-model',
      input: `Responses ${randomUUID()}`,
      stream: true,
      store: false,
    });
    const [first, second] = await missThenHit('/v1/responses', body);
    const completed = (sse: string) => {
      const events = dataEvents(sse) as {
        type?: string;
        response?: { status?: string; usage?: unknown; output_text?: string };
      }[];
      assert.equal(events.at(-1)?.type, 'response.completed', sse);
      return events.at(-1)!.response!;
    };
    assert.equal(completed(first).status, 'completed');
    assert.ok(completed(first).usage, first);
    assert.deepEqual(completed(second).usage, completed(first).usage);
    assert.equal(completed(second).status, 'completed');
  });
});
