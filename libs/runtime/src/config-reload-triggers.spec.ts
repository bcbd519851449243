// The services reload the config on SIGHUP and count each reload by what caused it;
// AI_GATEWAY_CONFIG_POLL_MS is checked at start.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Logger } from '@aigw/observability';
import { configTextDigest, type ReloadCause } from '@aigw/config';
import { loadServiceConfig, reloadTriggerLabel } from './service-settings';

const dir = mkdtempSync(join(tmpdir(), 'aigw-reload-triggers-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const configPath = join(dir, 'gateway.yaml');
const route = (model: string) =>
  `kind: AIGatewayRoute\nmetadata: {name: r}\nspec:\n  backends:\n  - {name: openai-main, provider: openai, model: ${model}, auth: {apiKeyRef: {name: k, optional: true}}}\n`;
const quiet = new Logger({ level: 'error', write: () => undefined });

describe('config reload triggers', () => {
  it('SIGHUP reloads an edited file and reports signal as the cause', async () => {
    writeFileSync(configPath, route('gpt-4o'));
    const reloads: [boolean, ReloadCause][] = [];
    const holder = await loadServiceConfig(
      { AI_GATEWAY_CONFIG: configPath, AI_GATEWAY_CONFIG_POLL_MS: '0' },
      quiet,
      (ok, cause) => reloads.push([ok, cause]),
    );
    try {
      writeFileSync(configPath, route('gpt-4.1'));
      // Before the file event's debounce ends: the signal's look is the one that finds it.
      process.emit('SIGHUP', 'SIGHUP');
      const deadline = Date.now() + 5000;
      while (reloads.length === 0 && Date.now() < deadline) await sleep(20);
      assert.deepEqual(reloads[0], [true, 'signal']);
      assert.equal(holder.current().routes[0].backends[0].model, 'gpt-4.1');
      assert.equal(reloadTriggerLabel('signal'), 'signal');
      assert.equal(reloadTriggerLabel('file event'), 'file_event');
      await sleep(400);
      assert.equal(reloads.length, 1, 'the later file event finds nothing new');
    } finally {
      holder.close();
    }
  });

  it('tells the digest of the file in force after each reload, kept on a rejected one', async () => {
    writeFileSync(configPath, route('gpt-4o'));
    const digests: [boolean, string][] = [];
    const holder = await loadServiceConfig(
      { AI_GATEWAY_CONFIG: configPath, AI_GATEWAY_CONFIG_POLL_MS: '0' },
      quiet,
      (ok, _cause, digest) => digests.push([ok, digest]),
    );
    const wait = async (count: number) => {
      const deadline = Date.now() + 5000;
      while (digests.length < count && Date.now() < deadline) await sleep(20);
    };
    try {
      assert.equal(holder.currentDigest(), configTextDigest(route('gpt-4o')));
      writeFileSync(configPath, route('gpt-4.1'));
      process.emit('SIGHUP', 'SIGHUP');
      await wait(1);
      writeFileSync(configPath, 'kind: Nope\n');
      process.emit('SIGHUP', 'SIGHUP');
      await wait(2);
      const good = configTextDigest(route('gpt-4.1'));
      assert.deepEqual(digests, [
        [true, good],
        [false, good],
      ]);
      assert.equal(holder.currentDigest(), good);
    } finally {
      holder.close();
    }
  });

  it('a bad AI_GATEWAY_CONFIG_POLL_MS stops the start, naming it', async () => {
    writeFileSync(configPath, route('gpt-4o'));
    await assert.rejects(
      loadServiceConfig(
        { AI_GATEWAY_CONFIG: configPath, AI_GATEWAY_CONFIG_POLL_MS: 'often' },
        quiet,
        () => undefined,
      ),
      /AI_GATEWAY_CONFIG_POLL_MS must be a whole number, 0 or more, got "often"/,
    );
  });
});
