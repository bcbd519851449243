// ConfigModule.forRoot() inside a real Nest application context.
import 'reflect-metadata';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { NestFactory } from '@nestjs/core';
import { type ProcessSettings } from '../env/process-settings';
import { ConfigLoadError } from '../startup/config-load.errors';
import { loadStartupConfig } from '../startup/load-startup-config';
import { ConfigModule } from './config.module';
import { GATEWAY_CONFIG, PROCESS_SETTINGS } from './config.tokens';
import { GatewayConfigStore } from './gateway-config.store';

const dir = mkdtempSync(join(tmpdir(), 'aigw-nest-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const file = join(dir, 'gateway.yaml');
writeFileSync(file, 'backends:\n- {name: openai, model: gpt-4}\n');

describe('ConfigModule', () => {
  it('provides settings and the live config store', async () => {
    const app = await NestFactory.createApplicationContext(
      ConfigModule.forRoot({ env: { AI_GATEWAY_CONFIG: file, PORT: '8181' }, watch: false }),
      { logger: false },
    );
    try {
      const settings = app.get<ProcessSettings>(PROCESS_SETTINGS);
      assert.equal(settings.port, 8181);
      const store = app.get<GatewayConfigStore>(GATEWAY_CONFIG);
      assert.equal(store, app.get(GatewayConfigStore));
      assert.equal(store.current.routes[0]?.backends[0]?.model, 'gpt-4');
    } finally {
      await app.close();
    }
  });

  it('a bad file fails with one-line causes and no stack', async () => {
    const bad = join(dir, 'bad.yaml');
    writeFileSync(bad, 'kind: Nope\n');
    await assert.rejects(
      NestFactory.createApplicationContext(
        ConfigModule.forRoot({ path: bad, env: {}, watch: false }),
        {
          logger: false,
          abortOnError: false,
        },
      ),
      (error: unknown) =>
        error instanceof ConfigLoadError &&
        /unknown kind "Nope"/.test(error.message) &&
        error.stack === `ConfigLoadError: ${error.message}`,
    );
  });

  it('loadStartupConfig reports env and file problems as lines', async () => {
    const badPort = await loadStartupConfig({ env: { PORT: 'x' } });
    assert.deepEqual(badPort, {
      ok: false,
      errors: ['PORT: expected a port number 0-65535 (0 picks a free port)'],
    });
    const good = await loadStartupConfig({ env: { AI_GATEWAY_CONFIG: file } });
    assert.ok(good.ok);
    assert.equal(good.settings.configPath, file);
  });
});
