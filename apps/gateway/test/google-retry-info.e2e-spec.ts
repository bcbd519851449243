// Gemini answers a spent quota with 429 RESOURCE_EXHAUSTED and its wait in the body
// (google.rpc.RetryInfo `retryDelay`), with no Retry-After header. The gateway honours that
// wait as a Retry-After: the backend cools for it (retry_after) while the request fails
// over, and a client with no backend left gets the 429 with its Retry-After.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { FakeGeminiUpstream } from '@aigw/testing/fake-provider';
import { startGatewayWithConfig, type AppProcess } from '@aigw/testing/processes';

const QUOTA_SPENT = JSON.stringify({
  error: {
    code: 429,
    message: 'You exceeded your current quota. Please retry in 37.6s.',
    status: 'RESOURCE_EXHAUSTED',
    details: [
      {
        '@type': 'type.googleapis.com/google.rpc.Help',
        links: [{ url: 'https://ai.google.dev/gemini-api/docs/rate-limits' }],
      },
      { '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: '37s' },
    ],
  },
});

describe('a Gemini backend whose 429 gives its wait as RetryInfo', () => {
  let spentCalls = 0;
  const spent = createServer((request, response) => {
    spentCalls++;
    request.resume();
    response.writeHead(429, { 'content-type': 'application/json' });
    response.end(QUOTA_SPENT);
  });
  const spare = new FakeGeminiUpstream();
  let gateway: AppProcess;

  before(async () => {
    await new Promise<void>((resolve) => spent.listen(0, '127.0.0.1', resolve));
    await spare.start();
    const spentUrl = `http://127.0.0.1:${(spent.address() as AddressInfo).port}/v1beta`;
    const auth = 'auth: {apiKeyRef: {name: gemini-key}}';
    gateway = await startGatewayWithConfig(
      `kind: AIGatewayRoute
metadata: {name: retry-info}
spec:
  backends:
  - {name: spent, priority: 0, provider: google-gemini, baseUrl: "${spentUrl}", model: gemini-2.5-flash, modelNameOverride: flash, ${auth}}
  - {name: spare, priority: 1, provider: google-gemini, baseUrl: "${spare.baseUrl}", model: gemini-2.5-flash, modelNameOverride: flash, ${auth}}
  - {name: spent-alone, provider: google-gemini, baseUrl: "${spentUrl}", model: gemini-2.5-pro, modelNameOverride: pro, ${auth}}
  failover: {on: [rateLimit], retryDelay: 0s}
`,
      { AI_GATEWAY_SECRET_GEMINI_KEY_APIKEY: 'AIzaRetryInfoKey1234' },
    );
  });
  after(async () => {
    await gateway?.stop();
    await spare.stop();
    spent.closeAllConnections();
    await new Promise((resolve) => spent.close(resolve));
  });

  const chat = (model: string) =>
    fetch(`${gateway.baseUrl}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model, messages: [{ role: 'user', content: 'hi' }] }),
    });
  const backendView = async (name: string) => {
    const listed = (await (
      await fetch(`http://127.0.0.1:${gateway.adminPort}/admin/backends`)
    ).json()) as { backends: { backend: string; state: string; cooling?: unknown }[] };
    return listed.backends.find((backend) => backend.backend === name);
  };

  it('cools the backend for that wait at once, the request answered by the next', async () => {
    const answer = await chat('flash');
    assert.equal(answer.status, 200, await answer.text());
    const view = await backendView('spent');
    assert.equal(view?.state, 'cooling', JSON.stringify(view));
    assert.deepEqual(
      { ...(view?.cooling as object), since: undefined, until: undefined, remainingMs: undefined },
      {
        since: undefined,
        until: undefined,
        remainingMs: undefined,
        reason: 'retry_after',
        trigger: 'rateLimit',
        retryAfterMs: 37_000,
      },
    );
    // Cooling, it is tried last: the next request goes to the spare alone.
    const before = spentCalls;
    assert.equal((await chat('flash')).status, 200);
    assert.equal(spentCalls, before);
  });

  it('gives a client with no backend left the 429 with that Retry-After', async () => {
    const answer = await chat('pro');
    assert.equal(answer.status, 429, await answer.text());
    assert.equal(answer.headers.get('retry-after'), '37');
  });
});
