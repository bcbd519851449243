// Editing the config file of a running gateway: a good edit is served without a restart,
// a bad one is reported (log and metric) and the last good config keeps serving.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startApp, type AppProcess } from '@aigw/testing/processes';
import { configReloads, eventually } from './reload-probes';

const dir = mkdtempSync(join(tmpdir(), 'aigw-reload-'));
const configPath = join(dir, 'gateway.yaml');

const routeWith = (models: string[]) => `apiVersion: gateway.envoyproxy.io/v1alpha1
kind: AIGatewayRoute
metadata: {name: reload}
spec:
  backends:
${models.map((model) => `  - {name: local-${model}, provider: local, model: ${model}}`).join('\n')}
`;

/** Saves the way editors and ConfigMap updates do: a whole new file renamed over the old. */
function save(text: string): void {
  const temp = join(dir, `.gateway.yaml.${process.hrtime.bigint()}`);
  writeFileSync(temp, text);
  renameSync(temp, configPath);
}

describe('all-in-one gateway: config reload while running', () => {
  let gateway: AppProcess;

  const models = async () => {
    const response = await fetch(`${gateway.baseUrl}/v1/models`);
    assert.equal(response.status, 200);
    return ((await response.json()) as { data: { id: string }[] }).data.map((m) => m.id);
  };
  const reloads = (result: 'success' | 'failure') => configReloads(gateway, result);
  const chat = (model: string) =>
    fetch(`${gateway.baseUrl}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model, messages: [{ role: 'user', content: 'hi' }] }),
    });

  before(async () => {
    save(routeWith(['model-a']));
    gateway = await startApp('gateway', {
      AI_GATEWAY_CONFIG: configPath,
      AI_GATEWAY_DATA_DIR: join(dir, 'data'),
    });
  });
  after(async () => {
    await gateway.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('serves a model added to the file without a restart', async () => {
    assert.deepEqual(await models(), ['model-a']);
    assert.equal((await chat('model-b')).status, 404, 'not served before the edit');
    assert.equal(await reloads('success'), 0);

    save(routeWith(['model-a', 'model-b']));
    const listed = await eventually('model-b is listed', async () => {
      const ids = await models();
      return ids.includes('model-b') ? ids : undefined;
    });
    assert.deepEqual(listed.sort(), ['model-a', 'model-b']);
    const answer = await chat('model-b');
    assert.equal(answer.status, 200, await answer.clone().text());
    assert.equal(((await answer.json()) as { model: string }).model, 'model-b');
    assert.equal(await reloads('success'), 1);
    assert.equal(await reloads('failure'), 0);
  });

  it('reports a bad edit and keeps serving the last good config', async () => {
    save('apiVersion: gateway.envoyproxy.io/v1alpha1\nkind: AIGatewayRoute\nspec: [unclosed\n');
    await eventually('the failed reload is counted', async () =>
      (await reloads('failure')) >= 1 ? true : undefined,
    );
    assert.equal(await reloads('failure'), 1);
    assert.equal(await reloads('success'), 1, 'the bad edit replaced nothing');
    assert.match(gateway.output(), /config edit rejected; the last good config stays in force/);
    assert.match(gateway.output(), /YAML syntax error/);

    assert.deepEqual((await models()).sort(), ['model-a', 'model-b']);
    for (const model of ['model-a', 'model-b']) {
      const answer = await chat(model);
      assert.equal(answer.status, 200, await answer.clone().text());
    }
    const health = await fetch(`http://127.0.0.1:${gateway.adminPort}/readyz`);
    assert.equal(health.status, 200);
  });
});
