// The config file going away while the process runs (deleted, a ConfigMap key renamed so
// the mounted file vanishes) is said once, as a refused reload: the last good config stays,
// and the next start would fail. A file gone for one look only (mid-save) is not reported.
import assert from 'node:assert/strict';
import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { type ConfigIssue } from '../domain/config-issue';
import { ConfigWatcher, type ConfigReload } from './config-watcher';
import { until } from './until-fixture';

const dir = mkdtempSync(join(tmpdir(), 'aigw-config-gone-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const backends = (model: string) => `backends:\n- {name: openai, model: ${model}}\n`;

describe('ConfigWatcher: the config file gone', () => {
  it('is reported once, keeps the last good config, and its return reloads', async () => {
    const file = join(dir, 'gone.yaml');
    writeFileSync(file, backends('gpt-4'));
    const watcher = new ConfigWatcher(file, { env: {}, fileFsEvents: false, pollMs: 30 });
    const refusals: (readonly ConfigIssue[])[] = [];
    const reloads: ConfigReload[] = [];
    try {
      await watcher.start();
      watcher.onInvalid((issues) => refusals.push(issues));
      watcher.onReload((reload) => reloads.push(reload));
      rmSync(file);
      await until('the missing file is reported', () => refusals.length > 0);
      assert.match(refusals[0]?.[0]?.format() ?? '', /cannot read config file: ENOENT/);
      await sleep(200);
      assert.equal(refusals.length, 1, 'once, not at every poll');
      assert.equal(watcher.current?.routes[0]?.backends[0]?.model, 'gpt-4');

      // Back whole (a rename): written in place, a 30 ms poll can read it empty mid-write,
      // a refusal of its own.
      writeFileSync(`${file}.new`, backends('gpt-4'));
      renameSync(`${file}.new`, file);
      await until('the file back is loaded', () => reloads.length > 0);
      assert.equal(reloads[0]?.trigger, 'config file');
      assert.equal(refusals.length, 1);
    } finally {
      watcher.close();
    }
  });

  it('a file absent at one look only is not reported', async () => {
    const file = join(dir, 'briefly.yaml');
    writeFileSync(file, backends('gpt-4'));
    const watcher = new ConfigWatcher(file, {
      env: {},
      fileFsEvents: false,
      pollMs: 0,
      debounceMs: 20,
    });
    const refusals: (readonly ConfigIssue[])[] = [];
    try {
      await watcher.start();
      watcher.onInvalid((issues) => refusals.push(issues));
      renameSync(file, `${file}.bak`);
      await watcher.reload('signal');
      renameSync(`${file}.bak`, file);
      await sleep(100);
      await watcher.reload('signal');
      assert.deepEqual(refusals, []);
    } finally {
      watcher.close();
    }
  });
});
