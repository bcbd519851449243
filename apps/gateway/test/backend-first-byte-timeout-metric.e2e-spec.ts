// A backend that never sends a stream's headers within its firstByteTimeout: the router
// gives the attempt up and fails over, and the backend's call is counted as the timeout it
// was in ai_gateway_backend_requests_total, which the BackendFailing alert reads (it leaves
// `cancelled`, a client's hang-up, out), and is no longer in flight.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FakeOpenAiUpstream } from '@aigw/testing/fake-provider';
import { metricSum } from '@aigw/testing';
import { startApp, type AppProcess } from '@aigw/testing/processes';

describe('a backend silent past its firstByteTimeout on a stream', () => {
  const open = new Set<ServerResponse>();
  // Reads the request and never answers: no status, no headers.
  const mute = createServer((request, response) => {
    open.add(response);
    response.once('close', () => open.delete(response));
    request.resume();
  });
  const spare = new FakeOpenAiUpstream('spare');
  let gateway: AppProcess;

  before(async () => {
    await new Promise<void>((resolve) => mute.listen(0, '127.0.0.1', resolve));
    await spare.start();
    const dir = mkdtempSync(join(tmpdir(), 'aigw-first-byte-metric-'));
    const muteUrl = `http://127.0.0.1:${(mute.address() as AddressInfo).port}/v1`;
    writeFileSync(
      join(dir, 'config.yaml'),
      `kind: AIGatewayRoute
metadata: {name: silent}
spec:
  backends:
  - {name: mute, provider: vllm, baseUrl: "${muteUrl}", model: gpt-4o, priority: 0, firstByteTimeout: 300ms}
  - {name: spare, provider: vllm, baseUrl: "${spare.baseUrl}", model: gpt-4o, priority: 1}
  failover: {on: [timeout], retryDelay: 0s}
`,
    );
    gateway = await startApp('gateway', {
      AI_GATEWAY_CONFIG: join(dir, 'config.yaml'),
      AI_GATEWAY_DATA_DIR: join(dir, 'data'),
    });
  });

  after(async () => {
    await gateway?.stop();
    mute.closeAllConnections();
    await new Promise<void>((resolve) => mute.close(() => resolve()));
    await spare.stop();
  });

  it('counts the call as a timeout, not as a client that left, and not in flight', async () => {
    const response = await fetch(`${gateway.baseUrl}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        model: 'gpt-4o',
        stream: true,
        messages: [{ role: 'user', content: 'hi' }],
      }),
    });
    assert.equal(response.status, 200);
    assert.match(await response.text(), /\[DONE\]/);
    assert.equal(spare.calls.length, 1, 'the stream failed over to the spare');

    const text = await (await fetch(`http://127.0.0.1:${gateway.adminPort}/metrics`)).text();
    const calls = (result: string) =>
      metricSum(text, 'ai_gateway_backend_requests_total', { backend: 'mute', result });
    assert.deepEqual(
      { timeout: calls('timeout'), cancelled: calls('cancelled') },
      { timeout: 1, cancelled: 0 },
    );
    assert.equal(metricSum(text, 'ai_gateway_backend_in_flight', { backend: 'mute' }), 0);
    assert.equal(calls('ok') + calls('error'), 0);
  });
});
