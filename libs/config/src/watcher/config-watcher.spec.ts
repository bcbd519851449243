// The watcher reloads good edits (including rename-style saves) and keeps the last good
// config when an edit is bad.
import assert from 'node:assert/strict';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  renameSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
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

const nextReload = (watcher: ConfigWatcher, ms?: number) =>
  next<ConfigReload>((fn) => watcher.onReload(fn), ms);
const nextInvalid = (watcher: ConfigWatcher) =>
  next<readonly ConfigIssue[]>((fn) => watcher.onInvalid(fn));

describe('ConfigWatcher', () => {
  it('reloads on change, keeps the last good config on a bad edit, recovers after', async () => {
    const file = join(dir, 'gateway.yaml');
    writeFileSync(file, route('gpt-4'));
    const watcher = new ConfigWatcher(file, { debounceMs: 30, env: {} });
    try {
      const first = await watcher.start();
      assert.ok(first?.ok);
      assert.equal(watcher.current?.routes[0]?.backends[0]?.model, 'gpt-4');

      let reloaded = nextReload(watcher);
      writeFileSync(file, route('gpt-4o'));
      assert.equal((await reloaded).config.routes[0]?.backends[0]?.model, 'gpt-4o');

      const invalid = nextInvalid(watcher);
      writeFileSync(file, `${route('gpt-4o')}  caching:\n    ttl: forever\n`);
      const errors = await invalid;
      assert.match(errors[0].format(), /spec\.caching\.ttl: expected a duration/);
      assert.equal(watcher.current?.routes[0]?.backends[0]?.model, 'gpt-4o');

      // Editors that save by writing a temp file and renaming it over the original.
      reloaded = nextReload(watcher);
      const temp = join(dir, '.gateway.yaml.swp');
      writeFileSync(temp, route('claude-3-opus'));
      renameSync(temp, file);
      assert.equal((await reloaded).config.routes[0]?.backends[0]?.model, 'claude-3-opus');
      assert.equal(watcher.current?.routes[0]?.backends[0]?.provider, 'openai');
    } finally {
      watcher.close();
    }
  });

  it('a listener that throws stops neither the other listeners nor later reloads', async () => {
    const file = join(dir, 'listener-throws.yaml');
    writeFileSync(file, route('gpt-4'));
    const failures: unknown[] = [];
    const watcher = new ConfigWatcher(file, {
      debounceMs: 30,
      env: {},
      onListenerError: (error) => failures.push(error),
    });
    try {
      await watcher.start();
      let thrown = 0;
      watcher.onReload(() => {
        thrown += 1;
        throw new Error('a listener bug');
      });
      const models: string[] = [];
      watcher.onReload((reload) => models.push(reload.config.routes[0]?.backends[0]?.model ?? ''));
      writeFileSync(file, route('gpt-4o'));
      await watcher.reload();
      writeFileSync(file, route('claude-3-opus'));
      await watcher.reload();
      assert.deepEqual(models, ['gpt-4o', 'claude-3-opus']);
      assert.equal(thrown, 2);
      assert.equal(failures.length, 2);
      assert.equal(watcher.current?.routes[0]?.backends[0]?.model, 'claude-3-opus');
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

describe('ConfigWatcher: keys in the secrets directory', () => {
  const keyed = `apiVersion: gateway.envoyproxy.io/v1alpha1\nkind: AIGatewayRoute\nmetadata:\n  name: r\nspec:\n  backends:\n  - {name: openai, model: gpt-4o, auth: {apiKeyRef: {name: openai-key}}}\n`;
  let case_ = 0;

  /** A config file and an empty secrets directory of their own. */
  function setUp(text = keyed) {
    case_ += 1;
    const root = join(dir, `secrets-case-${case_}`);
    const secretsDir = join(root, 'secrets');
    mkdirSync(secretsDir, { recursive: true });
    const file = join(root, 'gateway.yaml');
    writeFileSync(file, text);
    return { root, file, secretsDir };
  }

  /** Writes the route's key, openai-key/apiKey, as a plain file. */
  function writeKey(secretsDir: string, value: string) {
    mkdirSync(join(secretsDir, 'openai-key'), { recursive: true });
    writeFileSync(join(secretsDir, 'openai-key', 'apiKey'), value);
  }

  const keyOf = (watcher: ConfigWatcher) => {
    const auth = watcher.current?.routes[0]?.backends[0]?.auth;
    return auth?.kind === 'apiKey' ? auth.apiKey?.reveal() : 'not an api key backend';
  };

  /** Writes a Secret the way the kubelet does: a new timestamped folder, `..data` swapped. */
  function kubeletWrite(secretsDir: string, name: string, files: Record<string, string>) {
    const folder = join(secretsDir, name);
    mkdirSync(folder, { recursive: true });
    const stamp = `..${process.hrtime.bigint()}`;
    mkdirSync(join(folder, stamp));
    for (const [key, value] of Object.entries(files)) {
      writeFileSync(join(folder, stamp, key), value);
      const link = join(folder, key);
      if (!existsSync(link)) symlinkSync(join('..data', key), link);
    }
    symlinkSync(stamp, join(folder, '..data_tmp'));
    renameSync(join(folder, '..data_tmp'), join(folder, '..data'));
  }

  it('a key that appears is used, and a rotated one replaces it (kubelet-style swap)', async () => {
    const { file, secretsDir } = setUp();
    const watcher = new ConfigWatcher(file, {
      debounceMs: 30,
      env: {},
      secretsDir,
      missingSecrets: 'warn',
    });
    try {
      const first = await watcher.start();
      assert.ok(first?.ok);
      assert.equal(keyOf(watcher), undefined, 'no key yet: the backend is skipped');

      let reloaded = nextReload(watcher);
      kubeletWrite(secretsDir, 'openai-key', { apiKey: 'sk-first-key\n' });
      let reload = await reloaded;
      assert.equal(reload.trigger, 'secrets');
      assert.deepEqual(reload.warnings, []);
      assert.equal(keyOf(watcher), 'sk-first-key');

      reloaded = nextReload(watcher);
      kubeletWrite(secretsDir, 'openai-key', { apiKey: 'sk-second-key' });
      reload = await reloaded;
      assert.equal(reload.trigger, 'secrets');
      assert.equal(keyOf(watcher), 'sk-second-key');
    } finally {
      watcher.close();
    }
  });

  it('a projected volume (one ..data swap for all Secrets, as deploy/ mounts them)', async () => {
    const { file, secretsDir } = setUp();
    /** The kubelet's projected layout: `<dir>/..data/<name>/<key>`, `<dir>/<name>` -> `..data/<name>`. */
    const project = (value: string) => {
      const stamp = `..${process.hrtime.bigint()}`;
      mkdirSync(join(secretsDir, stamp, 'openai-key'), { recursive: true });
      writeFileSync(join(secretsDir, stamp, 'openai-key', 'apiKey'), value);
      symlinkSync(stamp, join(secretsDir, '..data_tmp'));
      renameSync(join(secretsDir, '..data_tmp'), join(secretsDir, '..data'));
      if (!existsSync(join(secretsDir, 'openai-key'))) {
        symlinkSync(join('..data', 'openai-key'), join(secretsDir, 'openai-key'));
      }
    };
    const watcher = new ConfigWatcher(file, {
      debounceMs: 30,
      env: {},
      secretsDir,
      missingSecrets: 'warn',
    });
    try {
      await watcher.start();
      let reloaded = nextReload(watcher);
      project('sk-projected-1');
      await reloaded;
      assert.equal(keyOf(watcher), 'sk-projected-1');
      reloaded = nextReload(watcher);
      project('sk-projected-2');
      await reloaded;
      assert.equal(keyOf(watcher), 'sk-projected-2');
    } finally {
      watcher.close();
    }
  });

  it('a secrets directory created after the start is picked up by the poll', async () => {
    const { file, root } = setUp();
    const secretsDir = join(root, 'mounted-later');
    const watcher = new ConfigWatcher(file, {
      debounceMs: 20,
      secretsPollMs: 100,
      env: {},
      secretsDir,
      missingSecrets: 'warn',
    });
    try {
      await watcher.start();
      const reloaded = nextReload(watcher);
      writeKey(secretsDir, 'sk-late-key');
      assert.equal((await reloaded).trigger, 'secrets');
      assert.equal(keyOf(watcher), 'sk-late-key');
    } finally {
      watcher.close();
    }
  });

  it('polls alone when file events are off, and does not reload while nothing changes', async () => {
    const { file, secretsDir } = setUp();
    writeKey(secretsDir, 'sk-old');
    const watcher = new ConfigWatcher(file, {
      debounceMs: 10,
      secretsPollMs: 50,
      secretsFsEvents: false,
      env: {},
      secretsDir,
    });
    const triggers: string[] = [];
    watcher.onReload((reload) => triggers.push(reload.trigger));
    try {
      await watcher.start();
      assert.equal(keyOf(watcher), 'sk-old');
      triggers.length = 0;
      await new Promise((resolve) => setTimeout(resolve, 400));
      assert.deepEqual(triggers, [], 'several polls, the same key: no reload');

      const reloaded = nextReload(watcher);
      writeKey(secretsDir, 'sk-new');
      assert.equal((await reloaded).trigger, 'secrets');
      assert.equal(keyOf(watcher), 'sk-new');
      assert.deepEqual(triggers, ['secrets']);
    } finally {
      watcher.close();
    }
  });

  it('a key removed under missingSecrets: error is refused once and the last key stays', async () => {
    const { file, secretsDir } = setUp();
    writeKey(secretsDir, 'sk-kept-key');
    const watcher = new ConfigWatcher(file, {
      debounceMs: 20,
      secretsPollMs: 50,
      env: {},
      secretsDir,
    });
    const failures: string[] = [];
    watcher.onInvalid((issues, trigger) => failures.push(`${trigger}: ${issues[0]?.format()}`));
    try {
      await watcher.start();
      const invalid = nextInvalid(watcher);
      rmSync(join(secretsDir, 'openai-key', 'apiKey'));
      const errors = await invalid;
      assert.match(errors[0].format(), /secret "openai-key" key "apiKey" not found/);
      assert.equal(keyOf(watcher), 'sk-kept-key');
      await new Promise((resolve) => setTimeout(resolve, 300));
      assert.equal(failures.length, 1, 'not refused again on every poll');
      assert.ok(failures[0]?.startsWith('secrets: '));
      assert.ok(!failures.some((line) => line.includes('sk-kept-key')));

      const reloaded = nextReload(watcher);
      writeKey(secretsDir, 'sk-back-key');
      await reloaded;
      assert.equal(keyOf(watcher), 'sk-back-key');
    } finally {
      watcher.close();
    }
  });

  it('a rotated key applies to the last good config while a bad edit is pending', async () => {
    const { file, secretsDir } = setUp();
    writeKey(secretsDir, 'sk-before');
    const watcher = new ConfigWatcher(file, { debounceMs: 20, env: {}, secretsDir });
    try {
      await watcher.start();
      const invalid = nextInvalid(watcher);
      writeFileSync(file, `${keyed}  caching:\n    ttl: forever\n`);
      await invalid;
      const reloaded = nextReload(watcher);
      writeKey(secretsDir, 'sk-after');
      const reload = await reloaded;
      assert.equal(reload.trigger, 'secrets');
      assert.equal(keyOf(watcher), 'sk-after');
      assert.equal(watcher.current?.routes[0]?.caching.enabled, false, 'the bad edit stays out');
    } finally {
      watcher.close();
    }
  });

  it('a busy secrets directory holds off neither a config edit nor a rotated key', async () => {
    const { file, secretsDir } = setUp();
    mkdirSync(join(secretsDir, 'other'));
    writeKey(secretsDir, 'sk-busy-one');
    // The defaults (150 ms quiet time), with writes every 50 ms: a plain debounce never fires.
    const watcher = new ConfigWatcher(file, { env: {}, secretsDir });
    const beat = setInterval(() => {
      writeFileSync(join(secretsDir, 'other', 'beat'), String(Date.now()));
      writeFileSync(join(secretsDir, 'beat'), String(Date.now()));
      // A file the config does not read, in a folder it does: events, but no new key.
      writeFileSync(join(secretsDir, 'openai-key', 'beat'), String(Date.now()));
    }, 50);
    try {
      await watcher.start();
      let reloaded = nextReload(watcher, 2000);
      writeFileSync(file, keyed.replace('gpt-4o', 'gpt-4o-mini'));
      let reload = await reloaded;
      assert.equal(reload.trigger, 'config file');
      assert.equal(watcher.current?.routes[0]?.backends[0]?.model, 'gpt-4o-mini');

      reloaded = nextReload(watcher, 2500);
      const temp = join(secretsDir, 'openai-key', '.apiKey.tmp');
      writeFileSync(temp, 'sk-busy-two');
      renameSync(temp, join(secretsDir, 'openai-key', 'apiKey'));
      reload = await reloaded;
      assert.equal(reload.trigger, 'secrets');
      assert.equal(keyOf(watcher), 'sk-busy-two');
    } finally {
      clearInterval(beat);
      watcher.close();
    }
  });

  it('a reload still reading when the watcher is closed notifies no one', async () => {
    const { file } = setUp(route('gpt-4o'));
    const watcher = new ConfigWatcher(file, { debounceMs: 10, env: {} });
    const seen: string[] = [];
    watcher.onReload((reload) => seen.push(`reload ${reload.trigger}`));
    watcher.onInvalid((_issues, trigger) => seen.push(`invalid ${trigger}`));
    assert.ok((await watcher.start())?.ok);
    seen.length = 0; // the first load's own notice
    writeFileSync(file, route('gpt-4.1'));
    const inFlight = watcher.reload();
    watcher.close();
    await inFlight;
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.deepEqual(seen, []);
    assert.equal(watcher.current?.routes[0]?.backends[0]?.model, 'gpt-4o');
  });

  it('a config loaded with missingSecrets: not-needed watches no keys', async () => {
    const { file, secretsDir } = setUp();
    const watcher = new ConfigWatcher(file, {
      debounceMs: 10,
      secretsPollMs: 30,
      env: {},
      secretsDir,
      missingSecrets: 'not-needed',
    });
    const triggers: string[] = [];
    watcher.onReload((reload) => triggers.push(reload.trigger));
    try {
      await watcher.start();
      triggers.length = 0;
      writeKey(secretsDir, 'sk-unread');
      await new Promise((resolve) => setTimeout(resolve, 200));
      assert.deepEqual(triggers, []);
    } finally {
      watcher.close();
    }
  });
});
