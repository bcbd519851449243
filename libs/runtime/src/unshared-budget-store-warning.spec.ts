// A split service without REDIS_URL keeps budget balances nobody else sees: it says so at
// start-up. The all-in-one gateway, whose balances are meant to be its own, does not. And
// a clean stop logs no error.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { openBudgetStore } from './budget-runtime';
import { ServiceRuntime } from './service-runtime';
import { ONE_BACKEND_CONFIG } from './testing/one-backend-config';

const dir = mkdtempSync(join(tmpdir(), 'aigw-unshared-budget-'));
// The WAL checkpoint worker closes its own connection in its own time: retried.
after(() => rmSync(dir, { recursive: true, force: true, maxRetries: 10 }));
const configPath = join(dir, 'gateway.yaml');
writeFileSync(configPath, ONE_BACKEND_CONFIG);

/** What a service of `app` logs while opening its budget store and stopping. */
async function logOpeningAndClosing(app: string): Promise<string[]> {
  const runtime = await ServiceRuntime.open(
    {
      AI_GATEWAY_CONFIG: configPath,
      AI_GATEWAY_DATA_DIR: mkdtempSync(join(dir, 'data-')),
      AI_GATEWAY_LOG_LEVEL: 'warn',
    },
    { app, missingSecrets: 'not-needed' },
  );
  const lines: string[] = [];
  const write = process.stdout.write.bind(process.stdout);
  process.stdout.write = (chunk: string | Uint8Array) => {
    lines.push(String(chunk));
    return true;
  };
  try {
    await openBudgetStore(runtime);
    await runtime.close();
    // Anything the close left running (a WAL sync of a closed database) reports after it returns.
    await new Promise((resolve) => setTimeout(resolve, 300));
  } finally {
    process.stdout.write = write;
  }
  return lines;
}

async function warningsOpening(app: string): Promise<string[]> {
  const lines = await logOpeningAndClosing(app);
  // A close that started a sync of the WAL the closing database then removes logs an error.
  assert.deepEqual(
    lines.filter((line) => line.includes('"level":"error"')),
    [],
    `${app} logged errors`,
  );
  return lines.filter((line) => line.includes('REDIS_URL is not set'));
}

describe('openBudgetStore without REDIS_URL', () => {
  it('warns a split ingress that nothing settles its holds and replicas share no limit', async () => {
    const lines = await warningsOpening('ingress');
    assert.equal(lines.length, 1, lines.join(''));
    assert.match(lines[0], /no budget service settles its holds/);
    assert.match(lines[0], /set REDIS_URL in a split deployment/);
  });

  it('warns the budget service that ingresses do not see its balances', async () => {
    const lines = await warningsOpening('budget');
    assert.equal(lines.length, 1, lines.join(''));
    assert.match(lines[0], /ingresses and other budget replicas do not see them/);
  });

  it('says nothing in the all-in-one gateway, whose balances are its own', async () => {
    assert.deepEqual(await warningsOpening('gateway'), []);
  });
});
