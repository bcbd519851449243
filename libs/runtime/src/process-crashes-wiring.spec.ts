// Every service (each opens its ServiceRuntime first) logs a crash as one JSON line of its own
// logger, not as Node's plain-text report on stderr (libs/observability's process-crashes).
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, it } from 'node:test';
import { ServiceRuntime } from './service-runtime';
import { ONE_BACKEND_CONFIG } from './testing/one-backend-config';

const dir = mkdtempSync(join(tmpdir(), 'aigw-process-crashes-'));
// The WAL checkpoint worker closes its own connection in its own time: retried.
after(() => rmSync(dir, { recursive: true, force: true, maxRetries: 10 }));
const configPath = join(dir, 'gateway.yaml');
writeFileSync(configPath, ONE_BACKEND_CONFIG);

const crashLoggers = () =>
  process.listeners('uncaughtException').filter((listener) => listener.name === 'logCrash');

it('routes an uncaught exception to the JSON logger once the runtime is open', async () => {
  assert.equal(crashLoggers().length, 0);
  const runtime = await ServiceRuntime.open(
    {
      AI_GATEWAY_CONFIG: configPath,
      AI_GATEWAY_DATA_DIR: mkdtempSync(join(dir, 'data-')),
      AI_GATEWAY_LOG_LEVEL: 'warn',
    },
    { app: 'budget', missingSecrets: 'not-needed' },
  );
  try {
    assert.equal(crashLoggers().length, 1);
  } finally {
    await runtime.close();
  }
});
