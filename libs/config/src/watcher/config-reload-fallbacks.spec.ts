// Where file-system events never arrive (some network filesystems, ConfigMap mounts whose
// swap is missed), the file is still picked up: by a poll that compares its content, and on
// SIGHUP. Neither reloads a file that did not change.
import assert from 'node:assert/strict';
import { mkdtempSync, renameSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { ConfigWatcher, type ConfigReload } from './config-watcher';
import { until } from './until-fixture';

const dir = mkdtempSync(join(tmpdir(), 'aigw-reload-fallback-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const route = (model: string) =>
  `apiVersion: gateway.envoyproxy.io/v1alpha1\nkind: AIGatewayRoute\nmetadata:\n  name: r\nspec:\n  backends:\n  - {name: openai, model: ${model}}\n`;

function collect(watcher: ConfigWatcher): ConfigReload[] {
  const seen: ConfigReload[] = [];
  watcher.onReload((reload) => seen.push(reload));
  return seen;
}

describe('config reload fallbacks', () => {
  it('a poll picks up an edit no file event reported; an unchanged file is not reloaded', async () => {
    const file = join(dir, 'polled.yaml');
    writeFileSync(file, route('gpt-4'));
    const watcher = new ConfigWatcher(file, { env: {}, fileFsEvents: false, pollMs: 40 });
    try {
      await watcher.start();
      const seen = collect(watcher);
      // Touched, same content: several polls pass and nothing reloads.
      utimesSync(file, new Date(), new Date(Date.now() + 5000));
      await sleep(200);
      assert.equal(seen.length, 0);

      // Written whole (a rename), as a ConfigMap swap does: written in place, a poll reading
      // while the write is under way read a part of it, then the rest as another edit.
      writeFileSync(`${file}.new`, route('gpt-4o'));
      renameSync(`${file}.new`, file);
      await until('the poll reloads the edit', () => seen.length > 0);
      assert.equal(seen[0]?.config.routes[0]?.backends[0]?.model, 'gpt-4o');
      assert.equal(seen[0]?.cause, 'poll');
      await sleep(200);
      assert.equal(seen.length, 1, 'the same edit is reloaded once');
    } finally {
      watcher.close();
    }
  });

  it('SIGHUP reloads an edit at once; a SIGHUP with nothing changed reloads nothing', async () => {
    const file = join(dir, 'signalled.yaml');
    writeFileSync(file, route('gpt-4'));
    const watcher = new ConfigWatcher(file, {
      env: {},
      fileFsEvents: false,
      pollMs: 0,
      reloadSignal: 'SIGHUP',
    });
    const before = process.listenerCount('SIGHUP');
    try {
      await watcher.start();
      const seen = collect(watcher);
      assert.equal(process.listenerCount('SIGHUP'), before + 1);
      process.emit('SIGHUP', 'SIGHUP');
      // Reloads run one after another: this one ends after the signal's, so the edit below
      // is never read by it (a loaded machine could take longer than any fixed sleep).
      await watcher.reload('signal');
      assert.equal(seen.length, 0);

      writeFileSync(file, route('gpt-4o'));
      await sleep(150);
      assert.equal(seen.length, 0, 'neither events nor a poll reload it');
      process.emit('SIGHUP', 'SIGHUP');
      await until('SIGHUP reloads the edit', () => seen.length > 0);
      assert.equal(seen[0]?.config.routes[0]?.backends[0]?.model, 'gpt-4o');
      assert.equal(seen[0]?.cause, 'signal');
    } finally {
      watcher.close();
    }
    assert.equal(process.listenerCount('SIGHUP'), before, 'close removes the handler');
  });
});
