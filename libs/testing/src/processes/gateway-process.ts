import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const REPO_ROOT = resolve(__dirname, '../../../..');

export interface AppProcess {
  readonly port: number;
  readonly adminPort: number;
  readonly baseUrl: string;
  readonly output: () => string;
  /**
   * SIGTERM (a graceful stop) by default; SIGKILL to test a crash. Resolves with how the
   * process ended: a graceful stop that overran its 5 s ends with `signal: 'SIGKILL'`.
   */
  stop(signal?: NodeJS.Signals): Promise<ProcessEnd>;
  /** Sends `signal` and nothing after it: for a test that watches the stop itself. */
  kill(signal: NodeJS.Signals): void;
  /** Resolves when the process ends, with how it ended. */
  readonly exited: Promise<ProcessEnd>;
}

/** How a process ended: its exit code, or the signal that ended it. */
export interface ProcessEnd {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
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

interface BoundPorts {
  port: number;
  adminPort: number;
}

/**
 * The ports from an app's start-up line ("… listening …" with port and adminPort fields).
 * Apps given PORT=0 bind whatever the kernel hands out, so there is no window in which
 * another process can take a port we picked for them.
 */
export function boundPortsFrom(output: string): BoundPorts | undefined {
  for (const line of output.split('\n')) {
    if (!line.startsWith('{') || !line.includes('"adminPort"')) continue;
    try {
      const record = JSON.parse(line) as Record<string, unknown>;
      if (typeof record.port === 'number' && typeof record.adminPort === 'number') {
        return { port: record.port, adminPort: record.adminPort };
      }
    } catch {
      // a partial line: the rest arrives with the next chunk
    }
  }
  return undefined;
}

/**
 * How long an app may take to come up. It compiles its sources as it loads them, and the
 * suites start theirs at once on a shared 2-core machine: a bare gateway came up in 3-5 s
 * alone and in 12-14 s beside two split-deployment suites. An app that fails exits, and is
 * reported then; this only bounds one that hangs.
 */
const START_TIMEOUT_MS = 120_000;

/**
 * Starts one of our apps from source as its own process and waits until it listens and
 * its /healthz answers. Ports not given in env are picked by the app itself (PORT=0).
 * Fails with the process's own output if it exits or does not come up in time.
 */
export async function startApp(
  app: string,
  env: Record<string, string> = {},
  timeoutMs = START_TIMEOUT_MS,
): Promise<AppProcess> {
  const child = spawnApp(app, {
    HOST: '127.0.0.1',
    // the start-up line that carries the ports is logged at info
    AI_GATEWAY_LOG_LEVEL: 'info',
    ...env,
    PORT: env.PORT ?? '0',
    ADMIN_PORT: env.ADMIN_PORT ?? '0',
  });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<ProcessEnd>((resolveExit) =>
    child.once('exit', (code, signal) => resolveExit({ code, signal })),
  );

  const ports = await new Promise<BoundPorts>((resolveReady, reject) => {
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
    let checking = false;
    const poll = setInterval(() => {
      const bound = boundPortsFrom(output);
      if (!bound || checking) return;
      checking = true;
      void fetch(`http://127.0.0.1:${bound.adminPort}/healthz`)
        .then((response) => {
          if (!response.ok) return;
          clearInterval(poll);
          clearTimeout(timer);
          child.off('exit', onExit);
          resolveReady(bound);
        })
        .catch(() => undefined)
        .finally(() => (checking = false));
    }, 50);
    child.once('exit', () => clearInterval(poll));
  });

  return {
    port: ports.port,
    adminPort: ports.adminPort,
    baseUrl: `http://127.0.0.1:${ports.port}`,
    output: () => output,
    stop: (signal: NodeJS.Signals = 'SIGTERM') => {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill(signal);
        setTimeout(() => child.kill('SIGKILL'), 5_000).unref();
      }
      return exited;
    },
    kill: (signal) => void child.kill(signal),
    exited,
  };
}

/**
 * Runs an app that is expected to exit by itself (a startup failure, say). It gets as long
 * as a start (START_TIMEOUT_MS): it compiles the same sources before it can fail.
 */
export function runAppToExit(
  app: string,
  env: Record<string, string>,
  timeoutMs = START_TIMEOUT_MS,
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

/**
 * Starts the all-in-one gateway on the routes of `yaml`, its config and data in a fresh
 * temporary directory that is removed once the process ends: the set-up of a suite with
 * routes of its own.
 */
export async function startGatewayWithConfig(
  yaml: string,
  env: Record<string, string> = {},
): Promise<AppProcess> {
  const dir = mkdtempSync(join(tmpdir(), 'aigw-gateway-'));
  const removeDir = () => rmSync(dir, { recursive: true, force: true });
  const config = join(dir, 'config.yaml');
  writeFileSync(config, yaml);
  try {
    const gateway = await startApp('gateway', {
      AI_GATEWAY_CONFIG: config,
      AI_GATEWAY_DATA_DIR: join(dir, 'data'),
      ...env,
    });
    void gateway.exited.then(removeDir);
    return gateway;
  } catch (error) {
    removeDir();
    throw error;
  }
}

/**
 * Starts the all-in-one gateway with one unauthenticated OpenAI-compatible backend serving
 * `gpt-4o-mini` at `baseUrl`: the set-up of suites about the edge rather than about routing.
 */
export function startGatewayOnOneBackend(
  baseUrl: string,
  env: Record<string, string> = {},
): Promise<AppProcess> {
  return startGatewayWithConfig(
    `kind: AIGatewayRoute
metadata: {name: one-backend}
spec:
  backends:
  - {name: fake, provider: openai-compatible, baseUrl: "${baseUrl}", model: gpt-4o-mini}
`,
    { AI_GATEWAY_MISSING_SECRETS: 'warn', ...env },
  );
}
