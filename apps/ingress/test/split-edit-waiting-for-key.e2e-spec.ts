// A config edit whose only fault is a missing API key, in the split deployment: the
// provider-adapter (which holds the keys) refuses it and waits for the key, while the
// ingress and the router (which read none) apply it. Until the Secret appears, a call of
// the edit's new backend is refused by the adapter as the missing key it is (the router
// leaves the backend for a minute rather than 2 s, and a client is told the key is
// missing, not that the services' configs differ), and the adapter reports the backend in
// ai_gateway_backend_missing_key (AiGatewayBackendMissingKey names it). Once the key is
// written, the edit loads by itself and the call is served.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FakeOpenAiUpstream } from '@aigw/testing/fake-provider';
import { metricSum, until } from '@aigw/testing';
import { startSplitDataPlane, type AppProcess } from '@aigw/testing/processes';

describe('split deployment: an edit refused by the provider-adapter for a missing key', () => {
  const upstream = new FakeOpenAiUpstream('keyed');
  const started: AppProcess[] = [];
  const dir = mkdtempSync(join(tmpdir(), 'aigw-split-edit-key-'));
  const secretsDir = join(dir, 'secrets');
  const configPath = join(dir, 'gateway.yaml');
  let adapter: AppProcess;
  let router: AppProcess;
  let ingress: AppProcess;

  const backend = (name: string, model: string, key: string) =>
    `  - {name: ${name}, provider: vllm, baseUrl: "${upstream.baseUrl}", model: ${model}, auth: {apiKeyRef: {name: llm, key: ${key}}}}\n`;
  const config = (...backends: string[]) =>
    `kind: AIGatewayRoute\nmetadata: {name: chat}\nspec:\n  backends:\n${backends.join('')}`;
  const writeAtomically = (path: string, text: string) => {
    writeFileSync(`${path}.tmp`, text);
    renameSync(`${path}.tmp`, path);
  };

  before(async () => {
    await upstream.start();
    mkdirSync(join(secretsDir, 'llm'), { recursive: true });
    writeFileSync(join(secretsDir, 'llm', 'old'), 'sk-old-key');
    writeFileSync(configPath, config(backend('old-backend', 'old-model', 'old')));
    ({ adapter, router, ingress } = await startSplitDataPlane(
      {
        AI_GATEWAY_CONFIG: configPath,
        AI_GATEWAY_SECRETS_DIR: secretsDir,
        AI_GATEWAY_CONFIG_POLL_MS: '200',
      },
      dir,
      started,
    ));
  });

  after(async () => {
    await Promise.all(started.map((app) => app.stop()));
    await upstream.stop();
  });

  const metrics = async (service: AppProcess) =>
    (await fetch(`http://127.0.0.1:${service.adminPort}/metrics`)).text();
  const chat = (model: string) =>
    fetch(`${ingress.baseUrl}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model, messages: [{ role: 'user', content: 'hi' }] }),
    });

  it('refuses the new backend as missing its key, and reports it, until the key appears', async () => {
    writeAtomically(
      configPath,
      config(
        backend('old-backend', 'old-model', 'old'),
        backend('new-backend', 'new-model', 'new'),
      ),
    );
    await until('the adapter refuses the edit', async () => {
      const text = await metrics(adapter);
      return metricSum(text, 'ai_gateway_config_last_reload_successful', {}) === 0;
    });
    // 404 while the ingress has not reloaded, 503 while the router has not.
    await until('the ingress and the router serve the new model', async () => {
      const response = await chat('new-model');
      await response.arrayBuffer();
      return response.status !== 404 && response.status !== 503;
    });

    const response = await chat('new-model');
    const text = await response.text();
    assert.equal(response.status, 502, text);
    const body = JSON.parse(text) as { error: { type: string; message: string } };
    assert.match(body.error.message, /no API key/, text);
    assert.match(body.error.message, /secret "llm" key "new" is missing/, text);
    assert.doesNotMatch(body.error.message, /configuration has no vllm backend/, text);
    assert.equal(response.headers.get('retry-after'), '60', text);
    assert.equal(
      metricSum(await metrics(adapter), 'ai_gateway_backend_missing_key', {
        backend: 'new-backend',
      }),
      1,
    );
    // The backends the edit kept are served throughout.
    assert.equal((await chat('old-model')).status, 200);
    assert.doesNotMatch(adapter.output() + router.output() + ingress.output(), /sk-old-key/);

    writeAtomically(join(secretsDir, 'llm', 'new'), 'sk-new-key');
    await until('the edit loads once its key appears', async () => {
      const text = await metrics(adapter);
      return metricSum(text, 'ai_gateway_config_last_reload_successful', {}) === 1;
    });
    assert.equal(
      metricSum(await metrics(adapter), 'ai_gateway_backend_missing_key', {
        backend: 'new-backend',
      }),
      0,
    );
    const served = await chat('new-model');
    assert.equal(served.status, 200, await served.text());
  });
});
