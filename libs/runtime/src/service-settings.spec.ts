// How each service process loads its config's secrets: the split router reads none.
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, describe, it } from 'node:test';
import { Logger } from '@aigw/observability';
import { loadServiceConfig, type Env, type ServiceConfigOptions } from './service-settings';
import { ONE_BACKEND_CONFIG } from './testing/one-backend-config';

const dir = mkdtempSync(join(tmpdir(), 'aigw-service-settings-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const configPath = join(dir, 'gateway.yaml');
const ROOT = resolve(__dirname, '../../..');
const QUICKSTART = join(ROOT, 'config/quickstart.yaml');
writeFileSync(configPath, ONE_BACKEND_CONFIG);

async function load(env: Env, options: ServiceConfigOptions) {
  const lines: string[] = [];
  const logger = new Logger({ level: 'debug', write: (line) => lines.push(line) });
  const holder = await loadServiceConfig(
    { AI_GATEWAY_CONFIG: configPath, ...env },
    logger,
    () => undefined,
    options,
  );
  holder.close();
  return { holder, lines };
}

describe('loadServiceConfig: provider secrets', () => {
  it('refuses to start without a key by default (the gateway and the provider-adapter)', async () => {
    await assert.rejects(load({}, {}), /secret "openai-key" key "apiKey" not found/);
  });

  it('not-needed (the split router) starts without the key, silently, whatever the env says', async () => {
    const { holder, lines } = await load(
      { AI_GATEWAY_MISSING_SECRETS: 'error' },
      {
        missingSecrets: 'not-needed',
      },
    );
    assert.equal(holder.settings.missingSecrets, 'not-needed');
    const auth = holder.current().routes[0].backends[0].auth;
    assert.ok(auth.kind === 'apiKey' && auth.apiKey === undefined && auth.keyHeldElsewhere);
    assert.ok(!lines.some((line) => /secret|unauthenticated/i.test(line)), lines.join('\n'));
  });

  it('not-needed leaves a key in the environment unread', async () => {
    const { holder } = await load(
      { AI_GATEWAY_SECRET_OPENAI_KEY_APIKEY: 'sk-router-must-not-hold' },
      { missingSecrets: 'not-needed' },
    );
    const auth = holder.current().routes[0].backends[0].auth;
    assert.ok(auth.kind === 'apiKey' && auth.apiKey === undefined);
  });

  it('refuses a missing key with no AI_GATEWAY_CONFIG too: the file name decides nothing', async () => {
    const lines: string[] = [];
    const logger = new Logger({ level: 'debug', write: (line) => lines.push(line) });
    const cwd = process.cwd();
    // AI_GATEWAY_CONFIG unset: the default path, config/quickstart.yaml, relative to here.
    process.chdir(dir);
    try {
      mkdirSync(join(dir, 'config'), { recursive: true });
      copyFileSync(configPath, join(dir, 'config', 'quickstart.yaml'));
      await assert.rejects(
        loadServiceConfig({}, logger, () => undefined, {}),
        /secret "openai-key" key "apiKey" not found/,
      );
    } finally {
      process.chdir(cwd);
    }
  });

  it('the quickstart (its OpenAI key optional) starts without a key however it is named', async () => {
    for (const env of [{}, { AI_GATEWAY_CONFIG: QUICKSTART }]) {
      const lines: string[] = [];
      const logger = new Logger({ level: 'debug', write: (line) => lines.push(line) });
      const cwd = process.cwd();
      process.chdir(ROOT);
      try {
        const holder = await loadServiceConfig(env, logger, () => undefined, {});
        holder.close();
        assert.equal(holder.settings.missingSecrets, 'error');
        const openai = holder.current().routes[0].backends.find((b) => b.name === 'openai');
        assert.ok(openai?.auth.kind === 'apiKey' && openai.auth.apiKey === undefined);
        assert.ok(
          lines.some((line) => /the backend is skipped until its key appears/.test(line)),
          lines.join('\n'),
        );
      } finally {
        process.chdir(cwd);
      }
    }
  });

  it('still checks AI_GATEWAY_MISSING_SECRETS under not-needed', async () => {
    await assert.rejects(
      load({ AI_GATEWAY_MISSING_SECRETS: 'never' }, { missingSecrets: 'not-needed' }),
      /AI_GATEWAY_MISSING_SECRETS must be "error" or "warn", got "never"/,
    );
  });
});

describe('loadServiceConfig: body and file limits', () => {
  const opts: ServiceConfigOptions = { missingSecrets: 'not-needed' };

  it('a file upload has its own limit, 200 MiB by default, apart from the 32 MiB body limit', async () => {
    const { holder } = await load({}, opts);
    assert.equal(holder.settings.maxFileBytes, 200 * 1024 * 1024);
    assert.equal(holder.settings.maxBodyBytes, 32 * 1024 * 1024);
  });

  it('reads AI_GATEWAY_MAX_FILE_BYTES, leaving the body limit as it is', async () => {
    const { holder } = await load({ AI_GATEWAY_MAX_FILE_BYTES: '1048576' }, opts);
    assert.equal(holder.settings.maxFileBytes, 1024 * 1024);
    assert.equal(holder.settings.maxBodyBytes, 32 * 1024 * 1024);
  });

  for (const bad of ['0', '-1', '1.5', '200MB', 'abc']) {
    it(`refuses to start with AI_GATEWAY_MAX_FILE_BYTES="${bad}", naming it`, async () => {
      await assert.rejects(
        load({ AI_GATEWAY_MAX_FILE_BYTES: bad }, opts),
        new RegExp(
          `^InvalidSettingError: AI_GATEWAY_MAX_FILE_BYTES must be a positive whole number, got "${bad.replace('.', '\\.')}"$`,
        ),
      );
    });
  }
});

describe('loadServiceConfig: SQLite commits', () => {
  const opts: ServiceConfigOptions = { missingSecrets: 'not-needed' };

  it('fsyncs each commit (full) unless AI_GATEWAY_SQLITE_SYNC says normal', async () => {
    assert.equal((await load({}, opts)).holder.settings.sqliteSync, 'full');
    const normal = await load({ AI_GATEWAY_SQLITE_SYNC: 'normal' }, opts);
    assert.equal(normal.holder.settings.sqliteSync, 'normal');
  });

  it('refuses to start with another AI_GATEWAY_SQLITE_SYNC, naming it', async () => {
    await assert.rejects(
      load({ AI_GATEWAY_SQLITE_SYNC: 'off' }, opts),
      /^StartupError: AI_GATEWAY_SQLITE_SYNC must be "full" or "normal", got "off"$/,
    );
  });
});
