// A backend silent past its firstByteTimeout on a stream, in the split deployment: the
// router gives the attempt up and fails over, and the provider-adapter counts the call as
// the backend's timeout (as the all-in-one gateway does), not as a client that left. The
// router tells the adapter the attempt's first-event deadline, so the adapter times the
// backend itself and reports the timeout over the wire.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FakeOpenAiUpstream, RawSseUpstream } from '@aigw/testing/fake-provider';
import { metricSum, until } from '@aigw/testing';
import { startSplitDataPlane, type AppProcess } from '@aigw/testing/processes';

describe('split deployment: a stream backend silent past its firstByteTimeout', () => {
  const open = new Set<ServerResponse>();
  // Reads the request and never answers: no status, no headers.
  const mute = createServer((request, response) => {
    open.add(response);
    response.once('close', () => open.delete(response));
    request.resume();
  });
  // Answers a stream's headers, then sends no event.
  const headersOnly = new RawSseUpstream();
  const spare = new FakeOpenAiUpstream('spare');
  const started: AppProcess[] = [];
  let adapter: AppProcess;
  let ingress: AppProcess;

  before(async () => {
    await new Promise<void>((resolve) => mute.listen(0, '127.0.0.1', resolve));
    await headersOnly.start();
    await spare.start();
    const dir = mkdtempSync(join(tmpdir(), 'aigw-split-first-byte-'));
    const muteUrl = `http://127.0.0.1:${(mute.address() as AddressInfo).port}/v1`;
    writeFileSync(
      join(dir, 'config.yaml'),
      `kind: AIGatewayRoute
metadata: {name: silent}
spec:
  backends:
  - {name: mute, provider: vllm, baseUrl: "${muteUrl}", model: gpt-4o, priority: 0, firstByteTimeout: 300ms}
  - {name: spare, provider: vllm, baseUrl: "${spare.baseUrl}", model: gpt-4o, priority: 1}
  - {name: lone-mute, provider: vllm, baseUrl: "${muteUrl}", model: lone, firstByteTimeout: 300ms}
  - {name: headers-only, provider: vllm, baseUrl: "${headersOnly.baseUrl}/v1", model: quiet, firstByteTimeout: 300ms}
  - {name: json-mute, provider: vllm, baseUrl: "${muteUrl}", model: whole, requestTimeout: 300ms, firstByteTimeout: 300ms}
  failover: {on: [timeout], retryDelay: 0s}
`,
    );
    ({ adapter, ingress } = await startSplitDataPlane(
      { AI_GATEWAY_CONFIG: join(dir, 'config.yaml') },
      dir,
      started,
    ));
  });

  after(async () => {
    await Promise.all(started.map((app) => app.stop()));
    mute.closeAllConnections();
    await new Promise<void>((resolve) => mute.close(() => resolve()));
    await headersOnly.stop();
    await spare.stop();
  });

  const chat = (model: string, stream: boolean) =>
    fetch(`${ingress.baseUrl}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model, stream, messages: [{ role: 'user', content: 'hi' }] }),
    });
  const stream = (model: string) => chat(model, true);
  const adapterCalls = async (backend: string) => {
    const text = await (await fetch(`http://127.0.0.1:${adapter.adminPort}/metrics`)).text();
    const calls = (result: string) =>
      metricSum(text, 'ai_gateway_backend_requests_total', { backend, result });
    return { timeout: calls('timeout'), cancelled: calls('cancelled'), ok: calls('ok') };
  };

  it('fails over to the spare, and the adapter counts the silent call as a timeout', async () => {
    const response = await stream('gpt-4o');
    assert.equal(response.status, 200);
    assert.match(await response.text(), /\[DONE\]/);
    assert.equal(spare.calls.length, 1, 'the stream failed over to the spare');
    assert.deepEqual(await adapterCalls('mute'), { timeout: 1, cancelled: 0, ok: 0 });
  });

  it('answers a model with no other backend as the timeout it was, named for the backend', async () => {
    const response = await stream('lone');
    const text = await response.text();
    assert.equal(response.status, 504, text);
    const body = JSON.parse(text) as { error: { type: string; message: string } };
    assert.equal(body.error.type, 'timeout_error', text);
    assert.match(body.error.message, /sent no stream data within 300 ms/, text);
    assert.deepEqual(await adapterCalls('lone-mute'), { timeout: 1, cancelled: 0, ok: 0 });
  });

  it('ends a stream whose headers came but no event as the same timeout', async () => {
    headersOnly.next([], { stall: true });
    const response = await stream('quiet');
    const text = await response.text();
    assert.equal(response.status, 504, text);
    assert.match(text, /sent no stream data within 300 ms/, text);
    await until('the upstream call is let go', () => headersOnly.stallsClosed === 1);
  });

  it('counts a JSON call past its requestTimeout as a timeout too (the adapter times it)', async () => {
    const response = await chat('whole', false);
    const text = await response.text();
    assert.equal(response.status, 504, text);
    assert.deepEqual(await adapterCalls('json-mute'), { timeout: 1, cancelled: 0, ok: 0 });
  });
});
