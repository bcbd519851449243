// A split deployment's pools to the next service are bounded (ROUTER_CONNECTIONS,
// PROVIDER_ADAPTER_CONNECTIONS) and every stream in flight holds a connection for its whole
// length: once they are all busy, the next call waits unanswered. The wait shows in
// ai_gateway_peer_requests_waiting{peer}, and the pools in ai_gateway_peer_connections.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { mkdtempSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { metricSum, until } from '@aigw/testing';
import { startSplitDataPlane, type AppProcess } from '@aigw/testing/processes';

const dir = mkdtempSync(join(tmpdir(), 'aigw-split-peer-pools-'));

/** A backend whose streams send one chunk and then hold their connection, silent. */
const stallingBackend = createServer((request, response) => {
  request.resume();
  request.on('end', () => {
    response.writeHead(200, { 'content-type': 'text/event-stream' });
    const chunk = {
      id: 'chatcmpl-1',
      object: 'chat.completion.chunk',
      created: 1,
      model: 'gpt-4o-mini',
      choices: [{ index: 0, delta: { content: 'thinking' }, finish_reason: null }],
    };
    response.write(`data: ${JSON.stringify(chunk)}\n\n`);
  });
});

describe('split deployment: pools to the next service, saturated', () => {
  const started: AppProcess[] = [];
  let router: AppProcess;
  let ingress: AppProcess;
  const callers = new AbortController();

  before(async () => {
    await new Promise<void>((resolve) => stallingBackend.listen(0, '127.0.0.1', resolve));
    const { port } = stallingBackend.address() as AddressInfo;
    const config = join(dir, 'split.yaml');
    // Timeouts far off: nothing may end a stream or a waiting call while the test looks.
    writeFileSync(
      config,
      `kind: AIGatewayRoute
metadata: {name: peer-pools}
spec:
  backends:
  - {name: staller, provider: openai-compatible, baseUrl: "http://127.0.0.1:${port}/v1", model: gpt-4o-mini, requestTimeout: 120s, firstByteTimeout: 120s, streamIdleTimeout: 120s}
`,
    );
    ({ router, ingress } = await startSplitDataPlane(
      {
        AI_GATEWAY_CONFIG: config,
        AI_GATEWAY_MISSING_SECRETS: 'warn',
        ROUTER_CONNECTIONS: '3',
        PROVIDER_ADAPTER_CONNECTIONS: '2',
      },
      dir,
      started,
    ));
  });

  after(async () => {
    callers.abort();
    stallingBackend.closeAllConnections();
    await Promise.all(started.map((app) => app.stop()));
    stallingBackend.close();
  });

  const stream = () =>
    fetch(`${ingress.baseUrl}/v1/chat/completions`, {
      method: 'POST',
      signal: callers.signal,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        model: 'gpt-4o-mini',
        stream: true,
        messages: [{ role: 'user', content: 'hi' }],
      }),
    });

  const metrics = async (app: AppProcess) =>
    (await fetch(`http://127.0.0.1:${app.adminPort}/metrics`)).text();

  it('counts the calls waiting for a connection, at the ingress and at the router', async () => {
    // Two streams hold both of the router's connections to the provider-adapter.
    for (const response of [await stream(), await stream()]) {
      assert.equal(response.status, 200);
      await response.body!.getReader().read();
    }
    // A third passes the ingress (its third connection) and waits at the router.
    void stream().catch(() => undefined);
    await until('the router holds a call for want of a connection', async () => {
      const text = await metrics(router);
      return (
        metricSum(text, 'ai_gateway_peer_requests_waiting', { peer: 'provider-adapter' }) === 1
      );
    });
    const routerText = await metrics(router);
    assert.equal(
      metricSum(routerText, 'ai_gateway_peer_connections', {
        peer: 'provider-adapter',
        state: 'busy',
      }),
      2,
    );
    // A fourth finds the ingress's three connections busy and waits there.
    void stream().catch(() => undefined);
    await until('the ingress holds a call for want of a connection', async () => {
      const text = await metrics(ingress);
      return metricSum(text, 'ai_gateway_peer_requests_waiting', { peer: 'router' }) === 1;
    });
    const ingressText = await metrics(ingress);
    assert.equal(
      metricSum(ingressText, 'ai_gateway_peer_connections', { peer: 'router', state: 'busy' }),
      3,
    );
    assert.equal(
      metricSum(ingressText, 'ai_gateway_peer_connections', { peer: 'router', state: 'open' }),
      3,
    );
  });
});
