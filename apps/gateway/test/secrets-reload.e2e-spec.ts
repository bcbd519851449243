// A key written into the mounted secrets directory of a running gateway is used without a
// restart or a config edit, and a rotated key replaces it: the same reload path as an
// edited config (its log and metric), the keys themselves never printed.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FakeOpenAiUpstream } from '@aigw/testing/fake-provider';
import { startApp, type AppProcess } from '@aigw/testing/processes';
import { configReloads, eventually } from './reload-probes';

const dir = mkdtempSync(join(tmpdir(), 'aigw-secrets-reload-'));
const secretsDir = join(dir, 'secrets');
const FIRST_KEY = 'sk-e2e-first-3b1f9c';
const SECOND_KEY = 'sk-e2e-second-7d20ae';
const THIRD_KEY = 'sk-e2e-third-c4e81b';

/** Updates a mounted Secret as the kubelet does: a new folder, then `..data` swapped to it. */
function kubeletWrite(name: string, key: string, value: string): void {
  const folder = join(secretsDir, name);
  mkdirSync(folder, { recursive: true });
  const stamp = `..${process.hrtime.bigint()}`;
  mkdirSync(join(folder, stamp));
  writeFileSync(join(folder, stamp, key), value);
  symlinkSync(stamp, join(folder, '..data_tmp'));
  renameSync(join(folder, '..data_tmp'), join(folder, '..data'));
  try {
    symlinkSync(join('..data', key), join(folder, key));
  } catch {
    // the key's link exists from an earlier write: it follows `..data`
  }
}

describe('all-in-one gateway: keys in AI_GATEWAY_SECRETS_DIR change while it runs', () => {
  const upstream = new FakeOpenAiUpstream('openai');
  let gateway: AppProcess;

  const chat = async () => {
    const response = await fetch(`${gateway.baseUrl}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] }),
    });
    assert.equal(response.status, 200, await response.clone().text());
    await response.arrayBuffer();
  };
  const reloads = (result: 'success' | 'failure') => configReloads(gateway, result);
  /** The admin port's series of `metric`, each line as exported. */
  const series = async (metric: string) =>
    (await (await fetch(`http://127.0.0.1:${gateway.adminPort}/metrics`)).text())
      .split('\n')
      .filter((line) => line.startsWith(`${metric}{`));
  /** Sends requests until one reaches the fake upstream with `key`; its call count then. */
  const untilSentWith = (key: string) =>
    eventually(`a call reaches the upstream with the key ending ${key.slice(-6)}`, async () => {
      await chat();
      const last = upstream.calls.at(-1);
      return last?.headers.authorization === `Bearer ${key}` ? upstream.calls.length : undefined;
    });

  before(async () => {
    await upstream.start();
    mkdirSync(secretsDir);
    const config = join(dir, 'gateway.yaml');
    writeFileSync(
      config,
      `apiVersion: gateway.envoyproxy.io/v1alpha1
kind: AIGatewayRoute
metadata: {name: secrets-reload}
spec:
  backends:
  - {name: openai, priority: 0, provider: openai, baseUrl: "${upstream.baseUrl}", model: gpt-4o-mini, auth: {apiKeyRef: {name: openai-key}}}
  - {name: local-standby, priority: 1, provider: local, model: gpt-4o-mini}
`,
    );
    gateway = await startApp('gateway', {
      AI_GATEWAY_CONFIG: config,
      AI_GATEWAY_DATA_DIR: join(dir, 'data'),
      AI_GATEWAY_SECRETS_DIR: secretsDir,
      AI_GATEWAY_MISSING_SECRETS: 'warn',
    });
  });
  after(async () => {
    await gateway.stop();
    await upstream.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('skips the keyless backend and says so at start', async () => {
    await chat();
    assert.equal(upstream.calls.length, 0, 'no call without a key');
    assert.match(
      gateway.output(),
      /secret \\"openai-key\\" key \\"apiKey\\" not found.*the backend is skipped until its key appears \(the secrets directory is watched\)/,
    );
    assert.doesNotMatch(gateway.output(), /unauthenticated/);
    assert.equal(await reloads('success'), 0);
    // Skipped for its key: the route has the standby alone in rotation.
    const missing = await series('ai_gateway_backend_missing_key');
    assert.equal(missing.length, 1, missing.join('\n'));
    assert.match(missing[0], /backend="openai".*\} 1$/);
    const available = await series('ai_gateway_route_backends_available');
    assert.equal(available.length, 1, available.join('\n'));
    assert.match(available[0], /route="secrets-reload".*\} 1$/);
  });

  it('uses the backend once its key file is written, with no config edit', async () => {
    kubeletWrite('openai-key', 'apiKey', `${FIRST_KEY}\n`);
    await untilSentWith(FIRST_KEY);
    assert.equal(await reloads('success'), 1);
    assert.match(gateway.output(), /"trigger":"secrets".*"msg":"config reloaded"/);
    assert.deepEqual(await series('ai_gateway_backend_missing_key'), []);
    const available = await series('ai_gateway_route_backends_available');
    assert.match(available.join('\n'), /route="secrets-reload".*\} 2$/);
  });

  it('sends the rotated key after the Secret changes', async () => {
    const before = upstream.calls.length;
    kubeletWrite('openai-key', 'apiKey', SECOND_KEY);
    const after = await untilSentWith(SECOND_KEY);
    assert.ok(after > before);
    assert.equal(await reloads('success'), 2);
    assert.equal(await reloads('failure'), 0);
    await chat();
    assert.equal(upstream.calls.at(-1)?.headers.authorization, `Bearer ${SECOND_KEY}`);
  });

  it('rotates a key while another folder of the directory is written every 50 ms', async () => {
    mkdirSync(join(secretsDir, 'other'));
    const beat = setInterval(
      () => writeFileSync(join(secretsDir, 'other', 'beat'), String(Date.now())),
      50,
    );
    try {
      // The beat is under way (and its folder seen) before the key changes.
      await new Promise((resolve) => setTimeout(resolve, 300));
      kubeletWrite('openai-key', 'apiKey', THIRD_KEY);
      await untilSentWith(THIRD_KEY);
      assert.equal(await reloads('success'), 3);
    } finally {
      clearInterval(beat);
    }
  });

  it('never prints a key in its logs or metrics', async () => {
    const metrics = await (await fetch(`http://127.0.0.1:${gateway.adminPort}/metrics`)).text();
    for (const key of [FIRST_KEY, SECOND_KEY, THIRD_KEY]) {
      assert.equal(gateway.output().includes(key), false);
      assert.equal(metrics.includes(key), false);
    }
  });
});
