// What the benchmark and the paired comparison share: starting and stopping the processes
// under test pinned to a core, waiting for them, loading them with wrk, and reading their
// CPU time and memory from /proc.
import { spawn, spawnSync } from 'node:child_process';
import { openSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const BENCH_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const ROOT = resolve(BENCH_DIR, '..');
export const NODE = process.execPath;
export const GATEWAY_CORE = '0';
export const LOAD_CORE = '1';
export const UPSTREAM_KEY = 'sk-bench-upstream';
// Our apps run as `npm start` and the image run them (a test keeps the three in step).
export const GATEWAY_NODE_FLAGS = ['--max-semi-space-size=16'];
// glibc's malloc as `npm start` and the image set it (kept in step by a test).
export const GATEWAY_MALLOC_ENV = { MALLOC_ARENA_MAX: '1', MALLOC_TRIM_THRESHOLD_: '65536' };

// --- small helpers -------------------------------------------------------------------

/**
 * Walks command-line flags in order, handing each to `onFlag` with readers for its
 * argument: `value()` the next word, `positive()` that word as a number > 0.
 */
export function readFlags(argv, onFlag) {
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    const value = () => {
      const next = argv[++i];
      if (next === undefined) throw new Error(`${flag} needs a value`);
      return next;
    };
    const positive = () => {
      const n = Number(value());
      if (!Number.isFinite(n) || n <= 0) throw new Error(`${flag} needs a number > 0`);
      return n;
    };
    onFlag(flag, { value, positive });
  }
}

export const sleep = (ms) => new Promise((done) => setTimeout(done, ms));

export class Unavailable extends Error {}

export function log(message) {
  process.stderr.write(`[bench] ${message}\n`);
}

// Ports handed out by this run: the kernel may give a closed port out again before its
// first taker listens on it, which once started two listeners of one build on one port.
const handedOut = new Set();

export async function freePort() {
  for (;;) {
    const port = await new Promise((done, fail) => {
      const server = createServer();
      server.once('error', fail);
      server.listen(0, '127.0.0.1', () => {
        const { port: picked } = server.address();
        server.close(() => done(picked));
      });
    });
    if (!handedOut.has(port)) {
      handedOut.add(port);
      return port;
    }
  }
}

export function which(command) {
  const found = spawnSync('sh', ['-c', `command -v ${command}`], { encoding: 'utf8' });
  return found.status === 0 ? found.stdout.trim() : undefined;
}

/** Runs a command to completion, its output to a log file; resolves with the exit code. */
export function runLogged(command, args, logFile, env = {}) {
  return new Promise((done) => {
    const fd = openSync(logFile, 'a');
    const child = spawn(command, args, {
      stdio: ['ignore', fd, fd],
      env: { ...process.env, ...env },
    });
    child.on('error', (error) => done({ code: -1, error }));
    child.on('exit', (code) => done({ code }));
  });
}

export function tail(file, lines = 8) {
  try {
    return readFileSync(file, 'utf8').trim().split('\n').slice(-lines).join('\n');
  } catch {
    return '';
  }
}

// --- processes under test --------------------------------------------------------------

let pinning = true;

/** Stops pinning processes to cores (fewer than 2 cores, or no taskset). */
export function unpin() {
  pinning = false;
}

export const isPinned = () => pinning;
const running = new Set();

/** Starts a long-running process in its own process group, pinned to a core. */
export function launch(name, command, args, { env = {}, core, logDir }) {
  const logFile = join(logDir, `${name}.log`);
  const fd = openSync(logFile, 'a');
  const [file, argv] =
    pinning && core !== undefined ? ['taskset', ['-c', core, command, ...args]] : [command, args];
  const child = spawn(file, argv, {
    cwd: ROOT,
    detached: true,
    stdio: ['ignore', fd, fd],
    env: { ...process.env, ...env },
  });
  const proc = { name, child, logFile, exited: false, exitCode: null };
  child.on('exit', (code, signal) => {
    proc.exited = true;
    proc.exitCode = code ?? signal;
    running.delete(proc);
  });
  child.on('error', () => {
    proc.exited = true;
  });
  running.add(proc);
  return proc;
}

export async function stop(proc) {
  if (proc.exited) return;
  const exited = new Promise((done) => proc.child.once('exit', done));
  const signal = (sig) => {
    try {
      process.kill(-proc.child.pid, sig);
    } catch {
      // already gone
    }
  };
  signal('SIGTERM');
  const killed = await Promise.race([exited.then(() => true), sleep(8000).then(() => false)]);
  if (!killed) {
    signal('SIGKILL');
    await Promise.race([exited, sleep(2000)]);
  }
}

export async function stopAll() {
  await Promise.all([...running].map((proc) => stop(proc)));
}

/** Polls until `probe` resolves truthy; fails early with the log tail if the process died. */
export async function waitUntil(proc, probe, timeoutMs, what) {
  const deadline = Date.now() + timeoutMs;
  let lastError = 'no answer';
  while (Date.now() < deadline) {
    if (proc?.exited) {
      throw new Unavailable(
        `${what} exited (${proc.exitCode}) during start-up: ${tail(proc.logFile, 4)}`,
      );
    }
    try {
      if (await probe()) return;
    } catch (error) {
      lastError = error?.cause?.code ?? error?.message ?? String(error);
    }
    await sleep(200);
  }
  throw new Unavailable(
    `${what} did not come up within ${timeoutMs / 1000}s (${lastError}): ${tail(proc?.logFile ?? '', 4)}`,
  );
}

export const httpAnswers = (url) => async () => {
  await fetch(url, { signal: AbortSignal.timeout(2000) });
  return true;
};

export const healthy = (url) => async () =>
  (await fetch(url, { signal: AbortSignal.timeout(2000) })).ok;

// --- peak memory -----------------------------------------------------------------------

export function descendants(roots) {
  const children = new Map();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (!children.has(ppid)) children.set(ppid, []);
      children.get(ppid).push(Number(entry));
    } catch {
      // exited while we looked
    }
  }
  const all = [];
  const queue = [...roots];
  while (queue.length > 0) {
    const pid = queue.shift();
    all.push(pid);
    queue.push(...(children.get(pid) ?? []));
  }
  return all;
}

export const THREE_PROCESS_APPS = ['ingress', 'router', 'provider-adapter'];
export const appMain = (app) => join(ROOT, 'dist', 'apps', app, 'src', 'main.js');

export function gatewayConfig(upstreamBase, workDir, template) {
  const file = join(workDir, 'gateway.yaml');
  const yaml = readFileSync(template, 'utf8');
  writeFileSync(file, yaml.replaceAll('__UPSTREAM_BASE_URL__', upstreamBase));
  return file;
}

export const OUR_HEADERS = [
  'Authorization: Bearer client-key-not-forwarded',
  'x-user-id: bench-user',
  'x-internal-auth: stripped-by-gateway',
];

export function ourEnv(configFile, dataDir, port, adminPort) {
  return {
    ...GATEWAY_MALLOC_ENV,
    HOST: '127.0.0.1',
    PORT: String(port),
    ADMIN_PORT: String(adminPort),
    AI_GATEWAY_CONFIG: configFile,
    AI_GATEWAY_DATA_DIR: dataDir,
    AI_GATEWAY_SECRET_BENCH_UPSTREAM_KEY_APIKEY: UPSTREAM_KEY,
  };
}

// --- load ----------------------------------------------------------------------------------

export function requestBody(stream) {
  const body = {
    model: 'gpt-4o-mini',
    messages: [
      { role: 'system', content: 'You are a helpful assistant.' },
      { role: 'user', content: 'Say hello to the benchmark in one short sentence.' },
    ],
    max_tokens: 16,
  };
  if (stream) body.stream = true;
  return JSON.stringify(body);
}

/** One request through the target, checked for an OpenAI-shaped answer. */
export async function validate(target, body) {
  const headers = { 'content-type': 'application/json' };
  for (const line of target.headers) {
    const at = line.indexOf(':');
    headers[line.slice(0, at).trim()] = line.slice(at + 1).trim();
  }
  const response = await fetch(target.url, {
    method: 'POST',
    headers,
    body,
    signal: AbortSignal.timeout(10_000),
  });
  const text = await response.text();
  if (response.status !== 200) throw new Error(`HTTP ${response.status}: ${text.slice(0, 300)}`);
  if (!/"choices"/.test(text)) throw new Error(`no choices in the answer: ${text.slice(0, 300)}`);
}

export async function validateWithRetries(target, body) {
  let lastError;
  for (let attempt = 0; attempt < 10; attempt++) {
    try {
      await validate(target, body);
      return;
    } catch (error) {
      lastError = error;
      await sleep(500);
    }
  }
  throw new Unavailable(`a test request failed: ${lastError?.message ?? lastError}`);
}

export function runWrk({ url, headers }, connections, seconds, body) {
  const args = [
    '-t1',
    `-c${connections}`,
    `-d${seconds}s`,
    '--timeout',
    '10s',
    '-s',
    join(BENCH_DIR, 'lib', 'post-json.lua'),
  ];
  for (const header of headers) args.push('-H', header);
  args.push(url);
  const [command, argv] = pinning ? ['taskset', ['-c', LOAD_CORE, 'wrk', ...args]] : ['wrk', args];
  return new Promise((done, fail) => {
    const child = spawn(command, argv, {
      env: { ...process.env, BENCH_BODY: body },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (chunk) => (out += chunk));
    child.stderr.on('data', (chunk) => (out += chunk));
    child.on('error', fail);
    child.on('exit', (code) => {
      const line = out.split('\n').find((l) => l.startsWith('BENCH_RESULT '));
      if (code !== 0 || !line) return fail(new Error(`wrk failed (${code}): ${out.slice(-500)}`));
      const result = JSON.parse(line.slice('BENCH_RESULT '.length));
      const errors = Object.values(result.errors).reduce((a, b) => a + b, 0);
      done({
        rps: result.requests / (result.duration_us / 1e6),
        requests: result.requests,
        p50: result.p50_us / 1000,
        p90: result.p90_us / 1000,
        p99: result.p99_us / 1000,
        max: result.max_us / 1000,
        errors,
        errorDetail: result.errors,
      });
    });
  });
}

export function treeTicks(rootPids) {
  let ticks = 0;
  for (const pid of descendants(rootPids)) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      ticks += Number(fields[11]) + Number(fields[12]);
    } catch {
      // exited
    }
  }
  return ticks;
}
