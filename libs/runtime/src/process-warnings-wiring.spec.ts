// Every service (gateway, ingress, router, provider-adapter, budget, usage-sink opens its
// ServiceRuntime first) logs process warnings as JSON lines of its own logger, not as
// Node's plain text on stderr.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, it } from 'node:test';
import { ServiceRuntime } from './service-runtime';
import { ONE_BACKEND_CONFIG } from './testing/one-backend-config';

const dir = mkdtempSync(join(tmpdir(), 'aigw-process-warnings-'));
// The WAL checkpoint worker closes its own connection in its own time: retried.
after(() => rmSync(dir, { recursive: true, force: true, maxRetries: 10 }));
const configPath = join(dir, 'gateway.yaml');
writeFileSync(configPath, ONE_BACKEND_CONFIG);

it("logs a process warning as one JSON line of the service's logger, in place of Node's text", async () => {
  assert.ok(
    process.listeners('warning').some((listener) => listener.name === 'onWarning'),
    "Node's own printer is there to begin with",
  );
  const runtime = await ServiceRuntime.open(
    {
      AI_GATEWAY_CONFIG: configPath,
      AI_GATEWAY_DATA_DIR: mkdtempSync(join(dir, 'data-')),
      AI_GATEWAY_LOG_LEVEL: 'warn',
    },
    { app: 'budget', missingSecrets: 'not-needed' },
  );
  const lines: string[] = [];
  const write = process.stdout.write.bind(process.stdout);
  process.stdout.write = (chunk: string | Uint8Array) => {
    lines.push(String(chunk));
    return true;
  };
  try {
    const warned = once(process, 'warning');
    process.emitWarning('a test warning', { type: 'ExampleWarning', code: 'EX1' });
    await warned;
  } finally {
    process.stdout.write = write;
    await runtime.close();
  }
  assert.equal(
    process.listeners('warning').some((listener) => listener.name === 'onWarning'),
    false,
    "Node's printer is replaced",
  );
  const logged = lines
    .map((line) => JSON.parse(line) as Record<string, unknown>)
    .filter((line) => line.type === 'ExampleWarning');
  assert.deepEqual(
    logged.map(({ app, level, msg, type, code, message }) => ({
      app,
      level,
      msg,
      type,
      code,
      message,
    })),
    [
      {
        app: 'budget',
        level: 'warn',
        msg: 'process warning',
        type: 'ExampleWarning',
        code: 'EX1',
        message: 'a test warning',
      },
    ],
  );
});
