// The file can change between the start-up load and the moment the watcher starts (a
// ConfigMap update landing while the process boots): that edit must still be applied.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
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
      startup.sourceDigest,
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
      startup.sourceDigest,
    );
    let reloads = 0;
    watcher.onReload(() => (reloads += 1));
    try {
      await watcher.start();
      await watcher.reload('signal');
      assert.equal(reloads, 0);
      assert.equal(watcher.current, startup.config);
      assert.equal(watcher.currentDigest, startup.sourceDigest);
    } finally {
      watcher.close();
    }
  });
});
