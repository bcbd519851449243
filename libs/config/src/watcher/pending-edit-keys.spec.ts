// An edit refused only because a key it names is missing (missingSecrets: error, the
// default) is loaded once that key appears: the operator creates the Secret, as the refusal
// and the alert's runbook say, and the file itself does not change again.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { type ConfigIssue } from '../domain/config-issue';
import { ConfigWatcher, type ConfigReload } from './config-watcher';
import { until } from './until-fixture';

const root = mkdtempSync(join(tmpdir(), 'aigw-pending-keys-'));
after(() => rmSync(root, { recursive: true, force: true }));

const backend = (name: string, ref: string) =>
  `  - {name: ${name}, model: m-${name}, auth: {apiKeyRef: ${ref}}}\n`;
const routeOf = (...backends: string[]) =>
  `kind: AIGatewayRoute\nmetadata: {name: r}\nspec:\n  backends:\n${backends.join('')}`;
const openai = backend('openai', '{name: llm-keys, key: openai}');

let case_ = 0;
function setUp() {
  case_ += 1;
  const dir = join(root, `case-${case_}`);
  const secretsDir = join(dir, 'secrets');
  mkdirSync(join(secretsDir, 'llm-keys'), { recursive: true });
  writeFileSync(join(secretsDir, 'llm-keys', 'openai'), 'sk-openai-key');
  const file = join(dir, 'gateway.yaml');
  writeFileSync(file, routeOf(openai));
  return { file, secretsDir };
}

const backendNames = (watcher: ConfigWatcher) =>
  watcher.current?.routes[0]?.backends.map((b) => b.name);

describe('ConfigWatcher: an edit refused for a missing key', () => {
  for (const [what, ref, write] of [
    [
      'a key added to a Secret the config already reads',
      '{name: llm-keys, key: anthropic}',
      (secretsDir: string) => writeFileSync(join(secretsDir, 'llm-keys', 'anthropic'), 'sk-ant'),
    ],
    [
      'a Secret folder the config did not read before',
      '{name: anthropic-key}',
      (secretsDir: string) => {
        mkdirSync(join(secretsDir, 'anthropic-key'));
        writeFileSync(join(secretsDir, 'anthropic-key', 'apiKey'), 'sk-ant');
      },
    ],
  ] as const) {
    it(`is loaded when its key appears: ${what}`, async () => {
      const { file, secretsDir } = setUp();
      const watcher = new ConfigWatcher(file, {
        env: {},
        secretsDir,
        debounceMs: 20,
        secretsPollMs: 100,
      });
      const reloads: ConfigReload[] = [];
      const refusals: (readonly ConfigIssue[])[] = [];
      try {
        await watcher.start();
        watcher.onReload((reload) => reloads.push(reload));
        watcher.onInvalid((issues) => refusals.push(issues));
        writeFileSync(file, routeOf(openai, backend('anthropic', ref)));
        await until('the edit is refused', () => refusals.length > 0);
        assert.match(refusals[0]?.[0]?.format() ?? '', /not found/);
        await sleep(300);
        assert.equal(refusals.length, 1, 'not refused again while nothing changes');

        write(secretsDir);
        await until('the edit loads', () => reloads.length > 0);
        assert.equal(reloads[0]?.trigger, 'secrets');
        assert.deepEqual(backendNames(watcher), ['openai', 'anthropic']);
        assert.equal(refusals.length, 1);
      } finally {
        watcher.close();
      }
    });
  }

  it('a key of the config in force rotated while an edit waits is applied, and the edit still waits', async () => {
    const { file, secretsDir } = setUp();
    const watcher = new ConfigWatcher(file, {
      env: {},
      secretsDir,
      fileFsEvents: false,
      secretsFsEvents: false,
      pollMs: 0,
      secretsPollMs: 60_000,
    });
    const refusals: (readonly ConfigIssue[])[] = [];
    const reloads: ConfigReload[] = [];
    const openaiKey = () => {
      const auth = watcher.current?.routes[0]?.backends.find((b) => b.name === 'openai')?.auth;
      return auth?.kind === 'apiKey' ? auth.apiKey?.reveal() : undefined;
    };
    try {
      await watcher.start();
      watcher.onInvalid((issues) => refusals.push(issues));
      watcher.onReload((reload) => reloads.push(reload));
      writeFileSync(
        file,
        routeOf(openai, backend('anthropic', '{name: llm-keys, key: anthropic}')),
      );
      await watcher.reload('signal');
      assert.equal(refusals.length, 1);

      writeFileSync(join(secretsDir, 'llm-keys', 'openai'), 'sk-openai-rotated');
      await watcher.reload('signal');
      assert.equal(openaiKey(), 'sk-openai-rotated', 'the rotation applies in the same look');
      assert.deepEqual(backendNames(watcher), ['openai']);

      writeFileSync(join(secretsDir, 'llm-keys', 'anthropic'), 'sk-ant');
      await watcher.reload('signal');
      assert.deepEqual(backendNames(watcher), ['openai', 'anthropic'], 'the edit still waited');
      assert.equal(openaiKey(), 'sk-openai-rotated');
      assert.deepEqual(
        reloads.map((reload) => [reload.trigger, reload.fileInForce]),
        [
          ['secrets', false], // the last good text, the refused edit still on disk
          ['secrets', true],
        ],
      );
    } finally {
      watcher.close();
    }
  });

  it('SIGHUP-style look also loads it, and an edit refused for other reasons waits for the file', async () => {
    const { file, secretsDir } = setUp();
    const watcher = new ConfigWatcher(file, {
      env: {},
      secretsDir,
      fileFsEvents: false,
      secretsFsEvents: false,
      pollMs: 0,
      secretsPollMs: 60_000,
    });
    const refusals: (readonly ConfigIssue[])[] = [];
    try {
      await watcher.start();
      watcher.onInvalid((issues) => refusals.push(issues));
      const needsKey = routeOf(openai, backend('anthropic', '{name: llm-keys, key: anthropic}'));
      writeFileSync(file, `${needsKey}  caching: {ttl: forever}\n`);
      await watcher.reload('signal');
      assert.equal(refusals.length, 1);
      writeFileSync(join(secretsDir, 'llm-keys', 'anthropic'), 'sk-ant');
      await watcher.reload('signal');
      assert.equal(refusals.length, 1, 'still refused for its ttl: not loaded again');
      assert.deepEqual(backendNames(watcher), ['openai']);

      writeFileSync(file, needsKey);
      rmSync(join(secretsDir, 'llm-keys', 'anthropic'));
      await watcher.reload('signal');
      assert.equal(refusals.length, 2);
      writeFileSync(join(secretsDir, 'llm-keys', 'anthropic'), 'sk-ant');
      await watcher.reload('signal');
      assert.deepEqual(backendNames(watcher), ['openai', 'anthropic']);
    } finally {
      watcher.close();
    }
  });
});
