// A stop while a service is still starting, as PID 1 of its container (the Dockerfile's and
// the Kubernetes manifests' `node …`). The kernel drops a signal to a namespace's init that
// has no handler for it, and the handlers came only with the listeners: a pod deleted
// while its start waited on a dependency (ClickHouse here, up to 60 s) ignored SIGTERM, and
// once started it served on, out of rotation, until the SIGKILL at the end of its grace
// period (330 s for the request path). The stop now ends the start at once, exit 0.
// Where no PID namespace can be made, the same stop outside one still tells the handler is
// there: without it Node's default ends the process by the signal, not with exit 0.
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { freeLoopbackPort, until } from '@aigw/testing';

const REPO_ROOT = resolve(__dirname, '../../..');

// A PID namespace of the test's own, so the app is its init as in a container.
const skip =
  spawnSync('unshare', ['--fork', '--pid', '--mount-proc', 'true']).status === 0
    ? undefined
    : 'unshare cannot make a PID namespace here (needs root or user namespaces)';

/** The pid (as this namespace sees it) of the one process `parent` forked. */
function onlyChild(parent: number): number | undefined {
  try {
    const children = readFileSync(`/proc/${parent}/task/${parent}/children`, 'utf8').trim();
    return children === '' ? undefined : Number(children.split(' ')[0]);
  } catch {
    return undefined;
  }
}

/**
 * Starts the usage-sink waiting for a ClickHouse that never answers, as PID 1 of a namespace
 * of its own or as a plain child, sends it a SIGTERM once it waits, and returns how it ended.
 */
async function stopWhileWaiting(asInit: boolean) {
  const dataDir = mkdtempSync(join(tmpdir(), 'aigw-stop-starting-'));
  const app = [process.execPath, '--require', '@swc-node/register', 'apps/usage-sink/src/main.ts'];
  const command = asInit ? ['unshare', '--fork', '--pid', '--mount-proc', ...app] : app;
  const wrapper = spawn(command[0], command.slice(1), {
    cwd: REPO_ROOT,
    env: {
      ...process.env,
      CLICKHOUSE_URL: `http://127.0.0.1:${await freeLoopbackPort()}`,
      KAFKA_BROKERS: '',
      REDIS_URL: '',
      AI_GATEWAY_DATA_DIR: dataDir,
      AI_GATEWAY_LOG_LEVEL: 'info',
      HOST: '127.0.0.1',
      PORT: '0',
      ADMIN_PORT: '0',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  wrapper.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  wrapper.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((done) =>
    wrapper.once('exit', (code, signal) => done({ code, signal })),
  );
  try {
    await until('the start to wait for ClickHouse', () =>
      output.includes('"msg":"clickhouse not reachable yet; retrying"'),
    );
    const target = asInit ? onlyChild(wrapper.pid!) : wrapper.pid;
    assert.ok(target !== undefined, 'the app runs under unshare');
    process.kill(target, 'SIGTERM');
    return { ended: await exited, output };
  } finally {
    wrapper.kill('SIGKILL');
    rmSync(dataDir, { recursive: true, force: true });
  }
}

function assertStoppedWhileStarting({
  ended,
  output,
}: Awaited<ReturnType<typeof stopWhileWaiting>>) {
  assert.match(output, /"msg":"stopped while starting"/, output.slice(-3000));
  assert.doesNotMatch(output, /did not answer within/);
  assert.deepEqual(ended, { code: 0, signal: null }, output.slice(-3000));
}

it(
  'a SIGTERM to the usage-sink as PID 1 while it waits for ClickHouse ends the start, exit 0',
  { skip },
  async () => assertStoppedWhileStarting(await stopWhileWaiting(true)),
);

it('a SIGTERM to the usage-sink (not PID 1) while it waits for ClickHouse is handled: exit 0, not killed by the signal', async () =>
  assertStoppedWhileStarting(await stopWhileWaiting(false)));
