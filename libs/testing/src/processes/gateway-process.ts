import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { resolve } from 'node:path';

const REPO_ROOT = resolve(__dirname, '../../../..');

/** A free TCP port on loopback, for processes that must be told their port up front. */
export function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolvePort(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

export interface AppProcess {
  readonly port: number;
  readonly adminPort: number;
  readonly baseUrl: string;
  readonly output: () => string;
  /** SIGTERM (a graceful stop) by default; SIGKILL to test a crash. */
  stop(signal?: NodeJS.Signals): Promise<void>;
}

export interface ExitedProcess {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

// Addresses the integration harness exports for its own suites; an app under test gets
// external services only when its test asks for them explicitly.
const SERVICE_ADDRESSES = ['REDIS_URL', 'KAFKA_BROKERS', 'CLICKHOUSE_URL'];

function baseEnv(): Record<string, string | undefined> {
  const env: Record<string, string | undefined> = { ...process.env };
  for (const name of SERVICE_ADDRESSES) delete env[name];
  return env;
}

function spawnApp(app: string, env: Record<string, string>): ChildProcess {
  return spawn(process.execPath, ['--require', '@swc-node/register', `apps/${app}/src/main.ts`], {
    cwd: REPO_ROOT,
    env: { ...baseEnv(), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

/**
 * Starts one of our apps from source as its own process and waits until it listens.
 * Fails with the process's own output if it exits or does not come up in time.
 */
export async function startApp(
  app: string,
  env: Record<string, string> = {},
  timeoutMs = 30_000,
): Promise<AppProcess> {
  const port = env.PORT ? Number(env.PORT) : await freePort();
  const adminPort = env.ADMIN_PORT ? Number(env.ADMIN_PORT) : await freePort();
  const child = spawnApp(app, {
    HOST: '127.0.0.1',
    ...env,
    PORT: String(port),
    ADMIN_PORT: String(adminPort),
  });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));

  await new Promise<void>((resolveReady, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(
        new Error(
          `${app} did not start within ${timeoutMs} ms; its output:\n${output.slice(-4000)}`,
        ),
      );
    }, timeoutMs);
    const onExit = (code: number | null) => {
      clearTimeout(timer);
      reject(
        new Error(
          `${app} exited with ${code} before listening; its output:\n${output.slice(-4000)}`,
        ),
      );
    };
    child.once('exit', onExit);
    const poll = setInterval(() => {
      void fetch(`http://127.0.0.1:${adminPort}/healthz`)
        .then((response) => {
          if (!response.ok) return;
          clearInterval(poll);
          clearTimeout(timer);
          child.off('exit', onExit);
          resolveReady();
        })
        .catch(() => undefined);
    }, 100);
    child.once('exit', () => clearInterval(poll));
  });

  return {
    port,
    adminPort,
    baseUrl: `http://127.0.0.1:${port}`,
    output: () => output,
    stop: (signal: NodeJS.Signals = 'SIGTERM') =>
      new Promise<void>((resolveStop) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolveStop();
        child.once('exit', () => resolveStop());
        child.kill(signal);
        setTimeout(() => child.kill('SIGKILL'), 5_000).unref();
      }),
  };
}

/** Runs an app that is expected to exit by itself (a startup failure, say). */
export function runAppToExit(
  app: string,
  env: Record<string, string>,
  timeoutMs = 30_000,
): Promise<ExitedProcess> {
  const child = spawnApp(app, { HOST: '127.0.0.1', ...env });
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolveExit, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${app} did not exit within ${timeoutMs} ms; output:\n${stdout}${stderr}`));
    }, timeoutMs);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolveExit({ code, stdout, stderr });
    });
  });
}
