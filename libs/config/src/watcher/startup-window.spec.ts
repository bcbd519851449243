// The file can change between the start-up load and the moment the watcher starts (a
// ConfigMap update landing while the process boots): that edit must still be applied.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { configTextDigest } from '../domain/config-digest';
import { type ConfigIssue } from '../domain/config-issue';
import { loadGatewayConfigFile } from '../loader/load-config';
import { ConfigWatcher, type ConfigReload } from './config-watcher';

const dir = mkdtempSync(join(tmpdir(), 'aigw-startup-window-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const backends = (model: string) => `backends:\n- {name: openai, model: ${model}}\n`;

describe('ConfigWatcher started with a config loaded beforehand', () => {
  it('applies an edit made before the watch began instead of taking it as loaded', async () => {
    const file = join(dir, 'edited-before-watch.yaml');
    writeFileSync(file, backends('gpt-4'));
    const startup = await loadGatewayConfigFile(file, { env: {} });
    assert.ok(startup.ok);
    writeFileSync(file, backends('gpt-4o'));
    // No events and no poll: only the start itself can notice the edit.
    const watcher = new ConfigWatcher(
      file,
      { env: {}, fileFsEvents: false, pollMs: 0 },
      startup.config,
      startup.sourceText,
    );
    const reloads: ConfigReload[] = [];
    watcher.onReload((reload) => reloads.push(reload));
    try {
      await watcher.start();
      await watcher.reload('signal');
      assert.equal(reloads.length, 1);
      assert.equal(reloads[0]?.trigger, 'config file');
      assert.equal(watcher.current?.routes[0]?.backends[0]?.model, 'gpt-4o');
    } finally {
      watcher.close();
    }
  });

  it('reloads nothing when the file is the one loaded', async () => {
    const file = join(dir, 'unchanged.yaml');
    writeFileSync(file, backends('gpt-4'));
    const startup = await loadGatewayConfigFile(file, { env: {} });
    assert.ok(startup.ok);
    const watcher = new ConfigWatcher(
      file,
      { env: {}, fileFsEvents: false, pollMs: 0 },
      startup.config,
      startup.sourceText,
    );
    let reloads = 0;
    watcher.onReload(() => (reloads += 1));
    try {
      await watcher.start();
      await watcher.reload('signal');
      assert.equal(reloads, 0);
      assert.equal(watcher.current, startup.config);
      assert.equal(watcher.currentDigest, configTextDigest(startup.sourceText));
    } finally {
      watcher.close();
    }
  });
});

describe('ConfigWatcher started with a config loaded beforehand, the file since broken', () => {
  it('applies a key rotated meanwhile to the config loaded, not to the broken file', async () => {
    const root = join(dir, 'broken-before-watch');
    const secretsDir = join(root, 'secrets');
    mkdirSync(join(secretsDir, 'openai-key'), { recursive: true });
    writeFileSync(join(secretsDir, 'openai-key', 'apiKey'), 'sk-first-key');
    const file = join(root, 'gateway.yaml');
    writeFileSync(
      file,
      'kind: AIGatewayRoute\nmetadata: {name: r}\nspec:\n  backends:\n' +
        '  - {name: openai, model: gpt-4o, auth: {apiKeyRef: {name: openai-key}}}\n',
    );
    const options = { env: {}, secretsDir, fileFsEvents: false, pollMs: 0 } as const;
    const startup = await loadGatewayConfigFile(file, options);
    assert.ok(startup.ok);
    writeFileSync(file, 'kind: Nope\n');
    const watcher = new ConfigWatcher(
      file,
      { ...options, secretsFsEvents: false, secretsPollMs: 60_000 },
      startup.config,
      startup.sourceText,
    );
    const reloads: ConfigReload[] = [];
    const refusals: (readonly ConfigIssue[])[] = [];
    watcher.onReload((reload) => reloads.push(reload));
    watcher.onInvalid((issues) => refusals.push(issues));
    try {
      await watcher.start();
      await watcher.reload('signal');
      assert.equal(refusals.length, 1, 'the broken file is refused');

      writeFileSync(join(secretsDir, 'openai-key', 'apiKey'), 'sk-second-key');
      await watcher.reload('signal');
      assert.deepEqual(
        reloads.map((reload) => [reload.trigger, reload.fileInForce]),
        [['secrets', false]],
      );
      const auth = watcher.current?.routes[0]?.backends[0]?.auth;
      assert.equal(auth?.kind === 'apiKey' ? auth.apiKey?.reveal() : undefined, 'sk-second-key');
      assert.equal(refusals.length, 1, 'the broken file is not tried again for a key');
    } finally {
      watcher.close();
    }
  });
});
