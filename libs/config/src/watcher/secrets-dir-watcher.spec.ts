// The secrets watch wakes only for the `<name>` folders the config reads keys from.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { SecretsDirWatcher } from './secrets-dir-watcher';

const dir = mkdtempSync(join(tmpdir(), 'aigw-secrets-dir-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('SecretsDirWatcher', () => {
  it('ignores folders the config does not read, and follows the list as it changes', async () => {
    mkdirSync(join(dir, 'openai-key'));
    mkdirSync(join(dir, 'other'));
    let wakes = 0;
    const watcher = new SecretsDirWatcher(dir, () => (wakes += 1), { reattachDelayMs: 20 });
    watcher.watchFolders(['openai-key']);
    watcher.start();
    try {
      for (let i = 0; i < 5; i += 1) {
        writeFileSync(join(dir, 'other', 'beat'), String(i));
        writeFileSync(join(dir, 'beat'), String(i));
        await pause(20);
      }
      await pause(100);
      assert.equal(wakes, 0, 'writes outside the watched folders wake nothing');

      writeFileSync(join(dir, 'openai-key', 'apiKey'), 'sk-watched');
      await pause(100);
      assert.ok(wakes > 0, 'a write in a watched folder wakes it');

      watcher.watchFolders(['other']);
      wakes = 0;
      writeFileSync(join(dir, 'openai-key', 'apiKey'), 'sk-no-longer-read');
      await pause(100);
      assert.equal(wakes, 0, 'a folder no longer read is no longer watched');
      writeFileSync(join(dir, 'other', 'apiKey'), 'sk-now-read');
      await pause(100);
      assert.ok(wakes > 0);
    } finally {
      watcher.close();
    }
  });
});
