// The config file mounted from a ConfigMap: `<dir>/gateway.yaml` -> `..data/gateway.yaml`,
// `..data` -> a timestamped folder that the kubelet swaps (new folder, `..data_tmp` renamed
// over `..data`, old folder removed). The file's own inode never changes in place.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { ConfigWatcher, type ConfigReload } from './config-watcher';

const root = mkdtempSync(join(tmpdir(), 'aigw-configmap-'));
after(() => rmSync(root, { recursive: true, force: true }));

const backends = (model: string) => `backends:\n- {name: openai, model: ${model}}\n`;

/** Publishes `text` as the kubelet's atomic writer does, removing the previous folder. */
function publish(dir: string, text: string, stamp: string, previous?: string): void {
  mkdirSync(join(dir, stamp));
  writeFileSync(join(dir, stamp, 'gateway.yaml'), text);
  symlinkSync(stamp, join(dir, '..data_tmp'));
  renameSync(join(dir, '..data_tmp'), join(dir, '..data'));
  if (previous !== undefined) rmSync(join(dir, previous), { recursive: true });
}

describe('ConfigWatcher on a ConfigMap volume', () => {
  it('reloads on each ..data swap, from file events alone', async () => {
    const dir = join(root, 'mount');
    mkdirSync(dir);
    publish(dir, backends('gpt-4'), '..2026_12_06_20_00_00.1');
    symlinkSync(join('..data', 'gateway.yaml'), join(dir, 'gateway.yaml'));
    const watcher = new ConfigWatcher(join(dir, 'gateway.yaml'), {
      env: {},
      pollMs: 0,
      debounceMs: 20,
    });
    const seen: ConfigReload[] = [];
    const until = async (count: number) => {
      const deadline = Date.now() + 5000;
      while (seen.length < count && Date.now() < deadline) await sleep(20);
    };
    try {
      await watcher.start();
      watcher.onReload((reload) => seen.push(reload));
      publish(dir, backends('gpt-4o'), '..2026_12_06_20_01_00.2', '..2026_12_06_20_00_00.1');
      await until(1);
      assert.equal(watcher.current?.routes[0]?.backends[0]?.model, 'gpt-4o');
      publish(dir, backends('gpt-4.1'), '..2026_12_06_20_02_00.3', '..2026_12_06_20_01_00.2');
      await until(2);
      assert.equal(watcher.current?.routes[0]?.backends[0]?.model, 'gpt-4.1');
      assert.deepEqual(
        seen.map((reload) => [reload.trigger, reload.cause]),
        [
          ['config file', 'file event'],
          ['config file', 'file event'],
        ],
      );
    } finally {
      watcher.close();
    }
  });
});
