// The watcher reloads good edits (including rename-style saves) and keeps the last good
// config when an edit is bad.
import assert from 'node:assert/strict';
import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { type ConfigIssue } from '../domain/config-issue';
import { ConfigWatcher, type ConfigReload } from './config-watcher';

const dir = mkdtempSync(join(tmpdir(), 'aigw-watch-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const route = (model: string) =>
  `apiVersion: gateway.envoyproxy.io/v1alpha1\nkind: AIGatewayRoute\nmetadata:\n  name: r\nspec:\n  backends:\n  - {name: openai, model: ${model}}\n`;

/** Resolves with the next event of the given kind, or rejects after a timeout. */
function next<T>(subscribe: (fn: (value: T) => void) => () => void, ms = 5000): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('timed out waiting for the watcher')), ms);
    const off = subscribe((value) => {
      clearTimeout(timer);
      off();
      resolve(value);
    });
  });
}

describe('ConfigWatcher', () => {
  it('reloads on change, keeps the last good config on a bad edit, recovers after', async () => {
    const file = join(dir, 'gateway.yaml');
    writeFileSync(file, route('gpt-4'));
    const watcher = new ConfigWatcher(file, { debounceMs: 30, env: {} });
    try {
      const first = await watcher.start();
      assert.ok(first?.ok);
      assert.equal(watcher.current?.routes[0]?.backends[0]?.model, 'gpt-4');

      let reloaded = next<ConfigReload>((fn) => watcher.onReload(fn));
      writeFileSync(file, route('gpt-4o'));
      assert.equal((await reloaded).config.routes[0]?.backends[0]?.model, 'gpt-4o');

      const invalid = next<readonly ConfigIssue[]>((fn) => watcher.onInvalid(fn));
      writeFileSync(file, `${route('gpt-4o')}  caching:\n    ttl: forever\n`);
      const errors = await invalid;
      assert.match(errors[0].format(), /spec\.caching\.ttl: expected a duration/);
      assert.equal(watcher.current?.routes[0]?.backends[0]?.model, 'gpt-4o');

      // Editors that save by writing a temp file and renaming it over the original.
      reloaded = next<ConfigReload>((fn) => watcher.onReload(fn));
      const temp = join(dir, '.gateway.yaml.swp');
      writeFileSync(temp, route('claude-3-opus'));
      renameSync(temp, file);
      assert.equal((await reloaded).config.routes[0]?.backends[0]?.model, 'claude-3-opus');
      assert.equal(watcher.current?.routes[0]?.backends[0]?.provider, 'openai');
    } finally {
      watcher.close();
    }
  });

  it('reports an unreadable file on start', async () => {
    const watcher = new ConfigWatcher(join(dir, 'missing.yaml'), { env: {} });
    try {
      const result = await watcher.start();
      assert.ok(result && !result.ok);
      assert.match(result.errors[0].format(), /cannot read config file: ENOENT/);
      assert.equal(watcher.current, undefined);
    } finally {
      watcher.close();
    }
  });
});
