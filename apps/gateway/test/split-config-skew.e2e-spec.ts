// A split deployment whose ingress has reloaded a config adding a model that its router
// has not loaded yet (a ConfigMap edit reaches the pods up to a minute apart): the client
// gets a 503 (Anthropic's 529) with Retry-After in its API's own shape, which SDKs retry,
// not the 404 of a model that does not exist; a model neither serves is still that 404. A
// backend the router names and the provider-adapter does not know yet is an upstream error
// with Retry-After.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startApp, type AppProcess } from '@aigw/testing/processes';

/** One route whose backends each serve the model of the same name (never called here). */
function routeServing(models: readonly string[]): string {
  const backends = models.map(
    (model) =>
      `  - {name: ${model}, provider: openai, baseUrl: "http://127.0.0.1:9/v1", model: ${model}, auth: {apiKeyRef: {name: k}}}`,
  );
  return `kind: AIGatewayRoute\nmetadata: {name: chat}\nspec:\n  backends:\n${backends.join('\n')}\n`;
}

describe('split deployment: the ingress serves a model its router has not loaded yet', () => {
  const apps: AppProcess[] = [];
  const dir = mkdtempSync(join(tmpdir(), 'aigw-config-skew-'));
  let ingress: AppProcess;

  before(async () => {
    const configFile = (name: string, models: readonly string[]) => {
      writeFileSync(join(dir, name), routeServing(models));
      return join(dir, name);
    };
    const env = { AI_GATEWAY_SECRET_K_APIKEY: 'sk-skew-test' };
    const adapter = await startApp('provider-adapter', {
      ...env,
      AI_GATEWAY_CONFIG: configFile('adapter.yaml', ['old-model']),
      AI_GATEWAY_DATA_DIR: join(dir, 'adapter'),
    });
    apps.push(adapter);
    const router = await startApp('router', {
      ...env,
      AI_GATEWAY_CONFIG: configFile('router.yaml', ['old-model', 'routed-model']),
      AI_GATEWAY_DATA_DIR: join(dir, 'router'),
      PROVIDER_ADAPTER_URL: adapter.baseUrl,
    });
    apps.push(router);
    ingress = await startApp('ingress', {
      ...env,
      AI_GATEWAY_CONFIG: configFile('ingress.yaml', ['old-model', 'routed-model', 'new-model']),
      AI_GATEWAY_DATA_DIR: join(dir, 'ingress'),
      ROUTER_URL: router.baseUrl,
    });
    apps.push(ingress);
  });
  after(async () => {
    await Promise.all(apps.map((app) => app.stop()));
    rmSync(dir, { recursive: true, force: true });
  });

  const chat = (model: string, stream: boolean) =>
    fetch(`${ingress.baseUrl}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model, stream, messages: [{ role: 'user', content: 'hi' }] }),
    });

  for (const stream of [false, true]) {
    it(`chat completions (stream: ${stream}): 503 service_unavailable with Retry-After`, async () => {
      const response = await chat('new-model', stream);
      const body = (await response.json()) as { error: { type: string; message: string } };
      assert.equal(response.status, 503, JSON.stringify(body));
      assert.ok(Number(response.headers.get('retry-after')) > 0);
      assert.equal(body.error.type, 'service_unavailable');
      assert.match(body.error.message, /"new-model" is not served yet/);
    });
  }

  it('Anthropic messages: 529 overloaded_error, its own shape, with Retry-After', async () => {
    const response = await fetch(`${ingress.baseUrl}/v1/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'anthropic-version': '2023-06-01' },
      body: JSON.stringify({
        model: 'new-model',
        max_tokens: 10,
        messages: [{ role: 'user', content: 'hi' }],
      }),
    });
    const body = (await response.json()) as { type: string; error: { type: string } };
    assert.equal(response.status, 529, JSON.stringify(body));
    assert.ok(Number(response.headers.get('retry-after')) > 0);
    assert.equal(body.type, 'error');
    assert.equal(body.error.type, 'overloaded_error');
  });

  it('a backend the router names and the provider-adapter has not loaded: an error with Retry-After', async () => {
    const response = await chat('routed-model', false);
    const body = (await response.json()) as { error: { message: string } };
    assert.equal(response.status, 502, JSON.stringify(body));
    assert.equal(response.headers.get('retry-after'), '2');
    assert.match(body.error.message, /has no openai backend "routed-model"/);
  });

  it('a model neither serves is still a 404 model_not_found', async () => {
    const response = await chat('no-such-model', false);
    const body = (await response.json()) as { error: { code: string } };
    assert.equal(response.status, 404);
    assert.equal(body.error.code, 'model_not_found');
  });

  it('logs the disagreement once, naming the model, never the key', () => {
    const lines = ingress
      .output()
      .split('\n')
      .filter((line) => line.includes('does not serve a model this ingress serves'));
    assert.equal(lines.length, 1, lines.join('\n'));
    assert.match(lines[0], /new-model/);
    assert.doesNotMatch(ingress.output(), /sk-skew-test/);
  });
});
