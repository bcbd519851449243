// A route renamed by a config reload, in the split deployment, in the moment the router has
// reloaded and the provider-adapter not yet (or the reverse): the router names the backend
// with its route, and the adapter, which has that backend under the other name only, never
// guesses (two routes may each have a backend of one name, with their own URL and key). The
// client gets a retryable answer in its API's own shape, with Retry-After, that says the
// services are loading a new configuration (it said the adapter had no such backend, which it
// has, under the old name); and the call is served as soon as both run the same config.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FakeOpenAiUpstream } from '@aigw/testing/fake-provider';
import { until } from '@aigw/testing';
import { startApp, type AppProcess } from '@aigw/testing/processes';

describe('split deployment: a route renamed while the router and adapter disagree', () => {
  const upstream = new FakeOpenAiUpstream('renamed');
  const apps: AppProcess[] = [];
  const dir = mkdtempSync(join(tmpdir(), 'aigw-route-rename-'));
  const adapterConfig = join(dir, 'adapter.yaml');
  let ingress: AppProcess;

  const routeNamed = (name: string) =>
    `kind: AIGatewayRoute\nmetadata: {name: ${name}}\nspec:\n  backends:\n` +
    `  - {name: main, provider: vllm, baseUrl: "${upstream.baseUrl}", model: chat-model}\n`;

  before(async () => {
    await upstream.start();
    writeFileSync(adapterConfig, routeNamed('chat'));
    writeFileSync(join(dir, 'renamed.yaml'), routeNamed('chat-v2'));
    const adapter = await startApp('provider-adapter', {
      AI_GATEWAY_CONFIG: adapterConfig,
      AI_GATEWAY_CONFIG_POLL_MS: '200',
      AI_GATEWAY_DATA_DIR: join(dir, 'adapter'),
    });
    apps.push(adapter);
    const router = await startApp('router', {
      AI_GATEWAY_CONFIG: join(dir, 'renamed.yaml'),
      AI_GATEWAY_DATA_DIR: join(dir, 'router'),
      PROVIDER_ADAPTER_URL: adapter.baseUrl,
    });
    apps.push(router);
    ingress = await startApp('ingress', {
      AI_GATEWAY_CONFIG: join(dir, 'renamed.yaml'),
      AI_GATEWAY_DATA_DIR: join(dir, 'ingress'),
      ROUTER_URL: router.baseUrl,
    });
    apps.push(ingress);
  });
  after(async () => {
    await Promise.all(apps.map((app) => app.stop()));
    await upstream.stop();
  });

  const chat = (stream: boolean) =>
    fetch(`${ingress.baseUrl}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        model: 'chat-model',
        stream,
        messages: [{ role: 'user', content: 'hi' }],
      }),
    });

  for (const stream of [false, true]) {
    it(`chat completions (stream: ${stream}): a retryable 5xx with Retry-After`, async () => {
      const response = await chat(stream);
      const text = await response.text();
      assert.equal(response.status, 502, text);
      assert.equal(response.headers.get('retry-after'), '2', text);
      const body = JSON.parse(text) as { error: { message: string } };
      assert.match(body.error.message, /loading a new configuration; retry shortly/, text);
    });
  }

  it('Anthropic messages: its own error shape, retryable, with Retry-After', async () => {
    const response = await fetch(`${ingress.baseUrl}/v1/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'anthropic-version': '2023-06-01' },
      body: JSON.stringify({
        model: 'chat-model',
        max_tokens: 10,
        messages: [{ role: 'user', content: 'hi' }],
      }),
    });
    const text = await response.text();
    assert.equal(response.status, 502, text);
    assert.equal(response.headers.get('retry-after'), '2', text);
    const body = JSON.parse(text) as { type: string; error: { type: string; message: string } };
    assert.equal(body.type, 'error', text);
    assert.equal(body.error.type, 'api_error', text);
    assert.match(body.error.message, /loading a new configuration; retry shortly/, text);
  });

  it('is served once the adapter reloads the renamed route', async () => {
    writeFileSync(`${adapterConfig}.tmp`, routeNamed('chat-v2'));
    renameSync(`${adapterConfig}.tmp`, adapterConfig);
    await until('the call is served', async () => {
      const response = await chat(false);
      await response.arrayBuffer();
      return response.status === 200;
    });
    assert.ok(upstream.calls.length >= 1);
  });
});
