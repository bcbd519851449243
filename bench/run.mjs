// The gateway benchmark: one fake upstream, one load generator (wrk), and every target
// measured in turn at 1 and 32 connections, the target pinned to core 0 and wrk plus
// the upstream to core 1. Run it with `npm run bench` (builds first); see bench/README.md.
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  readdirSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { cpus, homedir, tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { summarizeCpuProfile } from './lib/cpu-profile.mjs';
import {
  BENCH_DIR,
  ROOT,
  NODE,
  GATEWAY_CORE,
  LOAD_CORE,
  UPSTREAM_KEY,
  GATEWAY_NODE_FLAGS,
  sleep,
  Unavailable,
  log,
  freePort,
  which,
  runLogged,
  tail,
  unpin,
  isPinned,
  launch,
  stop,
  stopAll,
  waitUntil,
  httpAnswers,
  healthy,
  descendants,
  THREE_PROCESS_APPS,
  appMain,
  gatewayConfig,
  OUR_HEADERS,
  ourEnv,
  requestBody,
  validateWithRetries,
  runWrk,
  treeTicks,
  readFlags,
} from './lib/harness.mjs';

const CACHE = process.env.AIGW_BENCH_CACHE || join(homedir(), '.cache', 'aigw-bench');
const PORTKEY_VERSION = '1.15.2';
const LITELLM_VERSION = '1.108.7';

// --- options -------------------------------------------------------------------------

const HELP = `Usage: npm run bench -- [options]
  --duration S        seconds measured per cell and round (default 8)
  --rounds N          rounds over all targets; figures are medians (default 3)
  --warmup S          seconds of load before a target's cells (default 5)
  --connections LIST  connection counts (default 1,32)
  --only LIST         targets to run: upstream,bare,bare3,aigw,aigw3,portkey,litellm
  --stream            send stream:true (SSE) instead of plain JSON
  --no-install        do not install missing comparison targets
  --profile           always CPU-profile the all-in-one gateway after the table
  --no-profile        never profile (default: profile when a target is missed)
  --quiet-wait S      seconds in all to wait for other work on the box to calm down (default 120)
  --profile-seconds S seconds of load while profiling (default 10)
  --gateway-config F  our gateways' config template (default bench/config/gateway.yaml;
                      bench/config/gateway-minimal.yaml has no policies, to price them)
  --out FILE          where the Markdown goes (default bench/results/latest.md)`;

function parseOptions(argv) {
  const options = {
    duration: 8,
    rounds: 3,
    warmup: 5,
    connections: [1, 32],
    only: undefined,
    stream: false,
    install: true,
    profile: 'auto',
    profileSeconds: 10,
    quietWait: 120,
    out: join(BENCH_DIR, 'results', 'latest.md'),
    gatewayConfig: join(BENCH_DIR, 'config', 'gateway.yaml'),
  };
  readFlags(argv, (arg, { value, positive }) => {
    if (arg === '--duration') options.duration = positive();
    else if (arg === '--warmup') options.warmup = positive();
    else if (arg === '--rounds') {
      options.rounds = Number(value());
      if (!Number.isInteger(options.rounds) || options.rounds < 1)
        throw new Error('--rounds needs a whole number >= 1');
    } else if (arg === '--profile-seconds') options.profileSeconds = positive();
    else if (arg === '--quiet-wait') options.quietWait = Math.max(0, Number(value()) || 0);
    else if (arg === '--connections')
      options.connections = value()
        .split(',')
        .map((c) => Number(c))
        .filter((c) => Number.isInteger(c) && c > 0);
    else if (arg === '--only') options.only = new Set(value().split(','));
    else if (arg === '--stream') options.stream = true;
    else if (arg === '--no-install') options.install = false;
    else if (arg === '--profile') options.profile = 'always';
    else if (arg === '--no-profile') options.profile = 'never';
    else if (arg === '--out') options.out = resolve(value());
    else if (arg === '--gateway-config') options.gatewayConfig = resolve(value());
    else if (arg === '--help' || arg === '-h') {
      console.log(HELP);
      process.exit(0);
    } else throw new Error(`unknown option ${arg}\n${HELP}`);
  });
  if (options.connections.length === 0) throw new Error('--connections needs whole numbers > 0');
  return options;
}

/** Peak resident memory (VmHWM) per process of the trees under the given roots, summed. */
class PeakRss {
  constructor(rootPids) {
    this.roots = rootPids;
    this.peakKb = new Map();
    this.timer = setInterval(() => this.sample(), 500);
    this.sample();
  }
  sample() {
    for (const pid of descendants(this.roots)) {
      try {
        const status = readFileSync(`/proc/${pid}/status`, 'utf8');
        const kb = Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0);
        this.peakKb.set(pid, Math.max(this.peakKb.get(pid) ?? 0, kb));
      } catch {
        // exited between the listing and the read
      }
    }
  }
  finish() {
    this.sample();
    clearInterval(this.timer);
    let total = 0;
    for (const kb of this.peakKb.values()) total += kb;
    return { mb: total / 1024, processes: this.peakKb.size };
  }
}

// --- installing what the run compares against ---------------------------------------------

async function ensureWrk(logDir) {
  if (which('wrk')) return;
  if (process.getuid?.() !== 0)
    throw new Error('wrk is missing: install it with `sudo apt-get install wrk`');
  log('installing wrk from Debian packages ...');
  const logFile = join(logDir, 'install-wrk.log');
  await runLogged('apt-get', ['update', '-qq'], logFile);
  const { code } = await runLogged('apt-get', ['install', '-y', '-qq', 'wrk'], logFile, {
    DEBIAN_FRONTEND: 'noninteractive',
  });
  if (code !== 0 || !which('wrk')) throw new Error(`could not install wrk: ${tail(logFile, 3)}`);
}

const PORTKEY_DIR = join(CACHE, `portkey-${PORTKEY_VERSION}`);
const PORTKEY_SERVER = join(
  PORTKEY_DIR,
  'node_modules',
  '@portkey-ai',
  'gateway',
  'build',
  'start-server.js',
);

async function ensurePortkey(install, logDir) {
  if (existsSync(PORTKEY_SERVER)) return;
  if (!install) throw new Unavailable(`not installed under ${PORTKEY_DIR} and --no-install given`);
  log(`installing @portkey-ai/gateway@${PORTKEY_VERSION} into ${PORTKEY_DIR} ...`);
  mkdirSync(PORTKEY_DIR, { recursive: true });
  writeFileSync(join(PORTKEY_DIR, 'package.json'), '{"private": true}\n');
  const logFile = join(logDir, 'install-portkey.log');
  // Its only install script is patch-package with no patches in the published files.
  const npmArgs = ['install', '--no-audit', '--no-fund', '--ignore-scripts', '--no-package-lock'];
  const npmCli = process.env.npm_execpath;
  const [command, args] = npmCli
    ? [NODE, [npmCli, ...npmArgs, `@portkey-ai/gateway@${PORTKEY_VERSION}`]]
    : ['npm', [...npmArgs, `@portkey-ai/gateway@${PORTKEY_VERSION}`]];
  const { code } = await new Promise((done) => {
    const fd = openSync(logFile, 'a');
    const child = spawn(command, args, { cwd: PORTKEY_DIR, stdio: ['ignore', fd, fd] });
    child.on('error', (error) => done({ code: -1, error }));
    child.on('exit', (exitCode) => done({ code: exitCode }));
  });
  if (code !== 0 || !existsSync(PORTKEY_SERVER)) {
    throw new Unavailable(
      `npm install @portkey-ai/gateway@${PORTKEY_VERSION} failed: ${tail(logFile, 3)}`,
    );
  }
}

const LITELLM_VENV = join(CACHE, 'litellm-venv');
const LITELLM_BIN = join(LITELLM_VENV, 'bin', 'litellm');
const LITELLM_MARKER = join(LITELLM_VENV, `.installed-litellm-${LITELLM_VERSION}`);

async function ensureLitellm(install, logDir) {
  if (existsSync(LITELLM_MARKER) && existsSync(LITELLM_BIN)) return;
  if (!install) throw new Unavailable(`not installed under ${LITELLM_VENV} and --no-install given`);
  const python = which('python3');
  if (!python) throw new Unavailable('no python3 on PATH to make a virtualenv for litellm[proxy]');
  log(
    `installing litellm[proxy]==${LITELLM_VERSION} into ${LITELLM_VENV} (a few minutes the first time) ...`,
  );
  const logFile = join(logDir, 'install-litellm.log');
  if (!existsSync(join(LITELLM_VENV, 'bin', 'pip'))) {
    const venv = await runLogged(python, ['-m', 'venv', LITELLM_VENV], logFile);
    if (venv.code !== 0) throw new Unavailable(`python3 -m venv failed: ${tail(logFile, 3)}`);
  }
  const pip = await runLogged(
    join(LITELLM_VENV, 'bin', 'pip'),
    ['install', '-q', '--disable-pip-version-check', `litellm[proxy]==${LITELLM_VERSION}`],
    logFile,
  );
  if (pip.code !== 0 || !existsSync(LITELLM_BIN)) {
    throw new Unavailable(
      `pip install litellm[proxy]==${LITELLM_VERSION} failed: ${tail(logFile, 3)}`,
    );
  }
  writeFileSync(LITELLM_MARKER, `${new Date().toISOString()}\n`);
}

// --- targets -----------------------------------------------------------------------------

async function startAllInOne(ctx, nodeFlags = []) {
  if (!existsSync(appMain('gateway')))
    throw new Unavailable('dist/apps/gateway/src/main.js is missing: run `npm run build`');
  const [port, adminPort] = [await freePort(), await freePort()];
  const proc = launch('aigw', NODE, [...GATEWAY_NODE_FLAGS, ...nodeFlags, appMain('gateway')], {
    core: GATEWAY_CORE,
    logDir: ctx.logDir,
    env: ourEnv(ctx.gatewayConfig, join(ctx.workDir, `data-aigw-${port}`), port, adminPort),
  });
  await waitUntil(proc, healthy(`http://127.0.0.1:${adminPort}/healthz`), 60_000, 'the gateway');
  return {
    url: `http://127.0.0.1:${port}/v1/chat/completions`,
    headers: OUR_HEADERS,
    procs: [proc],
  };
}

async function startBareProxy(ctx, upstreamOrigin, name) {
  const port = await freePort();
  const proc = launch(
    name,
    NODE,
    [join(BENCH_DIR, 'bare-proxy.mjs'), '--upstream', upstreamOrigin, '--port', String(port)],
    { core: GATEWAY_CORE, logDir: ctx.logDir },
  );
  await waitUntil(proc, httpAnswers(`http://127.0.0.1:${port}/`), 20_000, name);
  return { port, proc };
}

const TARGETS = [
  {
    id: 'upstream',
    label: 'upstream direct',
    start: async (ctx) => ({ url: `${ctx.upstreamBase}/chat/completions`, headers: [], procs: [] }),
  },
  {
    id: 'bare',
    label: 'bare Node proxy',
    start: async (ctx) => {
      const { port, proc } = await startBareProxy(ctx, ctx.upstreamOrigin, 'bare-proxy');
      return {
        url: `http://127.0.0.1:${port}/v1/chat/completions`,
        headers: [`Authorization: Bearer ${UPSTREAM_KEY}`],
        procs: [proc],
      };
    },
  },
  {
    // The floor for the three-process deployment: three hops of the bare proxy, chained
    // and sharing the target core as our three services do.
    id: 'bare3',
    label: 'bare Node proxy ×3, chained',
    start: async (ctx) => {
      const procs = [];
      let origin = ctx.upstreamOrigin;
      try {
        for (const hop of [1, 2, 3]) {
          const { port, proc } = await startBareProxy(ctx, origin, `bare-proxy-hop${hop}`);
          procs.push(proc);
          origin = `http://127.0.0.1:${port}`;
        }
      } catch (error) {
        await Promise.all(procs.map((p) => stop(p)));
        throw error;
      }
      return {
        url: `${origin}/v1/chat/completions`,
        headers: [`Authorization: Bearer ${UPSTREAM_KEY}`],
        procs,
      };
    },
  },
  {
    id: 'aigw',
    label: 'ai-gateway all-in-one',
    start: (ctx) => startAllInOne(ctx),
  },
  {
    id: 'aigw3',
    label: 'ai-gateway three-process',
    start: async (ctx) => {
      const missing = THREE_PROCESS_APPS.filter((app) => !existsSync(appMain(app)));
      if (missing.length > 0) {
        throw new Unavailable(
          `not built yet: ${missing.map((app) => `dist/apps/${app}/src/main.js`).join(', ')}`,
        );
      }
      const ports = {};
      for (const app of THREE_PROCESS_APPS)
        ports[app] = { port: await freePort(), admin: await freePort() };
      const urls = Object.fromEntries(
        THREE_PROCESS_APPS.map((app) => [app, `http://127.0.0.1:${ports[app].port}`]),
      );
      const procs = [];
      // Started from the far end so each hop finds the next one listening.
      for (const app of ['provider-adapter', 'router', 'ingress']) {
        const proc = launch(`aigw3-${app}`, NODE, [...GATEWAY_NODE_FLAGS, appMain(app)], {
          core: GATEWAY_CORE,
          logDir: ctx.logDir,
          env: {
            ...ourEnv(
              ctx.gatewayConfig,
              join(ctx.workDir, `data-aigw3-${app}`),
              ports[app].port,
              ports[app].admin,
            ),
            ROUTER_URL: urls.router,
            PROVIDER_ADAPTER_URL: urls['provider-adapter'],
          },
        });
        procs.push(proc);
        await waitUntil(
          proc,
          async () =>
            (await healthy(`http://127.0.0.1:${ports[app].admin}/healthz`)().catch(() => false)) ||
            httpAnswers(`${urls[app]}/`)(),
          60_000,
          app,
        ).catch(async (error) => {
          await Promise.all(procs.map((p) => stop(p)));
          throw error;
        });
      }
      return { url: `${urls.ingress}/v1/chat/completions`, headers: OUR_HEADERS, procs };
    },
  },
  {
    id: 'portkey',
    label: `Portkey gateway ${PORTKEY_VERSION}`,
    start: async (ctx) => {
      await ensurePortkey(ctx.options.install, ctx.logDir);
      const port = await freePort();
      const proc = launch('portkey', NODE, [PORTKEY_SERVER, `--port=${port}`, '--headless'], {
        core: GATEWAY_CORE,
        logDir: ctx.logDir,
        env: { NODE_ENV: 'production' },
      });
      await waitUntil(proc, httpAnswers(`http://127.0.0.1:${port}/`), 30_000, 'Portkey');
      return {
        url: `http://127.0.0.1:${port}/v1/chat/completions`,
        headers: [
          'x-portkey-provider: openai',
          `x-portkey-custom-host: ${ctx.upstreamBase}`,
          `Authorization: Bearer ${UPSTREAM_KEY}`,
        ],
        procs: [proc],
      };
    },
  },
  {
    id: 'litellm',
    label: `LiteLLM proxy ${LITELLM_VERSION}`,
    start: async (ctx) => {
      await ensureLitellm(ctx.options.install, ctx.logDir);
      const port = await freePort();
      const config = join(ctx.workDir, 'litellm.yaml');
      writeFileSync(
        config,
        readFileSync(join(BENCH_DIR, 'config', 'litellm.yaml'), 'utf8').replaceAll(
          '__UPSTREAM_BASE_URL__',
          ctx.upstreamBase,
        ),
      );
      const proc = launch(
        'litellm',
        LITELLM_BIN,
        ['--config', config, '--host', '127.0.0.1', '--port', String(port), '--num_workers', '1'],
        {
          core: GATEWAY_CORE,
          logDir: ctx.logDir,
          // No network here: use the bundled model price map instead of fetching it. It
          // refuses to start without a strong master key, which clients then present.
          env: {
            LITELLM_MASTER_KEY: ctx.litellmKey,
            LITELLM_LOCAL_MODEL_COST_MAP: 'True',
            LITELLM_LOG: 'ERROR',
            PYTHONUNBUFFERED: '1',
          },
        },
      );
      await waitUntil(
        proc,
        healthy(`http://127.0.0.1:${port}/health/liveliness`),
        180_000,
        'LiteLLM',
      );
      return {
        url: `http://127.0.0.1:${port}/v1/chat/completions`,
        headers: [`Authorization: Bearer ${ctx.litellmKey}`],
        procs: [proc],
      };
    },
  },
];

// --- the run ------------------------------------------------------------------------------

/**
 * CPU ticks so far: the machine's busy and total time, and ours (the bench's own processes,
 * including reaped wrk runs, which land in this process's cutime/cstime).
 */
function cpuTicks(pids) {
  const f = readFileSync('/proc/stat', 'utf8')
    .split('\n')[0]
    .trim()
    .split(/\s+/)
    .slice(1, 9)
    .map(Number);
  // user nice system idle iowait irq softirq steal
  const busy = f[0] + f[1] + f[2] + f[5] + f[6] + f[7];
  const all = f.reduce((a, b) => a + b, 0);
  const self = readFileSync('/proc/self/stat', 'utf8');
  const own = self
    .slice(self.lastIndexOf(')') + 2)
    .split(' ')
    .slice(11, 15)
    .reduce((a, b) => a + Number(b), 0);
  return { busy, all, ours: own + treeTicks(pids) };
}

/** Cores' worth of CPU that something other than this bench used between two readings. */
function foreignCores(before, after) {
  const elapsedPerCore = (after.all - before.all) / cpus().length;
  if (elapsedPerCore <= 0) return 0;
  return Math.max(0, after.busy - before.busy - (after.ours - before.ours)) / elapsedPerCore;
}

const CLK_TCK =
  Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100;
const QUIET = 0.15;
const NOISY_CELL = 0.25;

/** Waits (within the run's budget) until other work on the box uses under QUIET cores. */
async function waitForQuiet(ctx, pids) {
  const started = Date.now();
  for (;;) {
    const before = cpuTicks(pids);
    await sleep(1000);
    const other = foreignCores(before, cpuTicks(pids));
    if (other < QUIET) break;
    if (ctx.quietBudgetMs <= Date.now() - started) {
      log(
        `other work still uses ${other.toFixed(2)} cores; quiet-wait budget spent, measuring anyway`,
      );
      break;
    }
    log(`other work uses ${other.toFixed(2)} cores; waiting for a quieter moment`);
  }
  ctx.quietBudgetMs = Math.max(0, ctx.quietBudgetMs - (Date.now() - started));
}

async function startTarget(ctx, def) {
  log(`${def.label}: starting`);
  try {
    const target = await def.start(ctx);
    try {
      await validateWithRetries(target, ctx.body);
    } catch (error) {
      await Promise.all(target.procs.map((p) => stop(p)));
      throw error;
    }
    const pids = target.procs.map((p) => p.child.pid);
    return {
      def,
      target,
      pids,
      rss: pids.length > 0 ? new PeakRss(pids) : undefined,
      cells: new Map(),
    };
  } catch (error) {
    const reason =
      error instanceof Unavailable ? error.message : `error: ${error?.message ?? error}`;
    log(`${def.label}: not available — ${reason}`);
    return { def, unavailable: reason.replace(/\s+/g, ' ').slice(0, 400) };
  }
}

async function measureCell(ctx, live, connections, seconds) {
  // Idle targets waiting their turn are ours too, not other work.
  const pids = [...ctx.livePids(), ctx.upstreamPid];
  let best;
  for (let attempt = 0; attempt < 2; attempt++) {
    await waitForQuiet(ctx, pids);
    const measured = live.pids.length > 0 ? live.pids : [ctx.upstreamPid];
    const before = cpuTicks(pids);
    const targetBefore = treeTicks(measured);
    const result = await runWrk(live.target, connections, seconds, ctx.body);
    result.foreign = foreignCores(before, cpuTicks(pids));
    // CPU per request hardly depends on what else runs on the box, unlike req/s.
    result.cpuUs =
      ((treeTicks(measured) - targetBefore) * (1e6 / CLK_TCK)) / Math.max(1, result.requests);
    if (!best || result.foreign < best.foreign) best = result;
    // A repeat spends the same budget as waiting, so a busy box cannot stretch the run.
    if (result.foreign < NOISY_CELL || ctx.quietBudgetMs < seconds * 1000) break;
    ctx.quietBudgetMs -= seconds * 1000;
    log(`other work used ${result.foreign.toFixed(2)} cores during that cell; measuring it again`);
  }
  return best;
}

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};

/** Every live target in turn, round after round, so drift on a shared box hits all alike. */
async function measureAll(ctx, lives) {
  const { options } = ctx;
  for (const live of lives) {
    log(`${live.def.label}: warm-up ${options.warmup}s`);
    await runWrk(live.target, Math.max(...options.connections), options.warmup, ctx.body).catch(
      (error) => {
        live.failed = `warm-up failed: ${error.message}`;
      },
    );
  }
  for (let round = 0; round < options.rounds; round++) {
    for (let i = 0; i < lives.length; i++) {
      const live = lives[(i + round) % lives.length];
      if (live.failed) continue;
      const died = live.target.procs.find((p) => p.exited);
      if (died) {
        live.failed = `${died.name} exited during the run: ${tail(died.logFile, 3)}`;
        continue;
      }
      for (const connections of options.connections) {
        log(
          `round ${round + 1}/${options.rounds}: ${live.def.label}, ${connections} connection(s), ${options.duration}s`,
        );
        try {
          const cell = await measureCell(ctx, live, connections, options.duration);
          if (!live.cells.has(connections)) live.cells.set(connections, []);
          live.cells.get(connections).push(cell);
        } catch (error) {
          live.failed = error.message;
        }
      }
    }
  }
  const results = [];
  for (const live of lives) {
    if (live.unavailable) {
      results.push({
        id: live.def.id,
        label: live.def.label,
        rows: [],
        unavailable: live.unavailable,
      });
      continue;
    }
    const peak = live.rss?.finish();
    const rows = [];
    for (const connections of options.connections) {
      const cells = live.cells.get(connections) ?? [];
      if (cells.length === 0) continue;
      const pick = (key) => median(cells.map((c) => c[key]));
      rows.push({
        id: live.def.id,
        label: live.def.label,
        connections,
        rounds: cells.length,
        rps: pick('rps'),
        rpsMin: Math.min(...cells.map((c) => c.rps)),
        rpsMax: Math.max(...cells.map((c) => c.rps)),
        p50: pick('p50'),
        p90: pick('p90'),
        p99: pick('p99'),
        cpuUs: pick('cpuUs'),
        errors: cells.reduce((sum, c) => sum + c.errors, 0),
        errorDetail: cells.map((c) => c.errorDetail),
        foreign: Math.max(...cells.map((c) => c.foreign)),
        rssMb: peak?.mb,
        rssProcesses: peak?.processes,
        cells,
      });
    }
    const failed = live.failed?.replace(/\s+/g, ' ').slice(0, 300);
    results.push({
      id: live.def.id,
      label: live.def.label,
      rows,
      ...(failed ? { unavailable: failed } : {}),
    });
  }
  return results;
}

function environmentLines(options) {
  const git = spawnSync('git', ['-C', ROOT, 'rev-parse', '--short', 'HEAD'], {
    encoding: 'utf8',
  }).stdout.trim();
  const dirty = spawnSync('git', ['-C', ROOT, 'status', '--porcelain', '--', 'apps', 'libs'], {
    encoding: 'utf8',
  }).stdout.trim();
  const wrkVersion = spawnSync('wrk', ['--version'], { encoding: 'utf8' })
    .stdout.split('\n')[0]
    .replace(/ Copyright.*/, '');
  return [
    `- When: ${new Date().toISOString()}; commit ${git || 'unknown'}${dirty ? ' (apps/libs with local changes)' : ''}`,
    `- Machine: ${cpus().length} × ${cpus()[0]?.model ?? 'unknown CPU'}; Node ${process.version}; ${wrkVersion}`,
    `- Pinning: ${isPinned() ? `target on core ${GATEWAY_CORE}; wrk (1 thread) and the fake upstream on core ${LOAD_CORE}` : 'none (fewer than 2 cores)'}`,
    `- Our gateways' config: ${options.gatewayConfig.startsWith(ROOT) ? options.gatewayConfig.slice(ROOT.length + 1) : options.gatewayConfig}`,
    `- Load: ${options.stream ? 'streaming (SSE)' : 'non-streaming'} chat completions, ${options.warmup}s warm-up at ${Math.max(...options.connections)} connections, then ${options.rounds} round(s) over all targets of ${options.duration}s per cell; each figure is the median over rounds`,
    "- Added latency: the target's p50/p99 minus the upstream's own at the same connection count. CPU µs/req: CPU time of the target's processes (for the upstream row, the upstream's) per request, which other work on the box hardly changes, so 1e6 ÷ it is the one-core ceiling in req/s. Peak RSS: VmHWM of the target's processes, summed.",
  ];
}

const fmt = {
  int: (n) => (n === undefined ? '—' : Math.round(n).toLocaleString('en-US')),
  ms: (n) => (n === undefined ? '—' : n.toFixed(3)),
  mb: (n) => (n === undefined ? '—' : n.toFixed(0)),
};

function buildReport(ctx, results, profile) {
  const baseline = new Map();
  const upstream = results.find((r) => r.id === 'upstream');
  for (const row of upstream?.rows ?? []) baseline.set(row.connections, row);
  const lines = ['# Gateway benchmark', '', ...environmentLines(ctx.options), ''];
  lines.push(
    '| Target | Conns | req/s | p50 ms | p99 ms | added p50 ms | added p99 ms | CPU µs/req | peak RSS MB | notes |',
  );
  lines.push('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |');
  for (const result of results) {
    if (result.unavailable && result.rows.length === 0) {
      lines.push(
        `| ${result.label} | — | — | — | — | — | — | — | — | not available: ${result.unavailable.replaceAll('|', '\\|')} |`,
      );
      continue;
    }
    for (const row of result.rows) {
      const base = baseline.get(row.connections);
      const isBase = result.id === 'upstream';
      row.addedP50 = base && !isBase ? row.p50 - base.p50 : undefined;
      row.addedP99 = base && !isBase ? row.p99 - base.p99 : undefined;
      const notes = [];
      if (row.errors > 0) notes.push(`${row.errors} failed requests (non-2xx or socket errors)`);
      if (row.rssProcesses > 1) notes.push(`RSS summed over ${row.rssProcesses} processes`);
      if (row.rounds > 1 && row.rpsMax > row.rpsMin * 1.2)
        notes.push(`req/s ${fmt.int(row.rpsMin)}–${fmt.int(row.rpsMax)} over rounds`);
      if (row.foreign > QUIET)
        notes.push(`other work on the box used up to ${row.foreign.toFixed(2)} cores`);
      if (result.unavailable) notes.push(result.unavailable);
      lines.push(
        `| ${result.label} | ${row.connections} | ${fmt.int(row.rps)} | ${fmt.ms(row.p50)} | ${fmt.ms(row.p99)} | ${fmt.ms(row.addedP50)} | ${fmt.ms(row.addedP99)} | ${fmt.int(row.cpuUs)} | ${isBase ? '—' : fmt.mb(row.rssMb)} | ${notes.join('; ').replaceAll('|', '\\|')} |`,
      );
    }
  }

  const row = (id, connections) =>
    results
      .find((r) => r.id === id)
      ?.rows.find((x) => x.connections === connections && x.errors === 0);
  const hi = Math.max(...ctx.options.connections);
  const lo = Math.min(...ctx.options.connections);
  const aigwHi = row('aigw', hi);
  const aigwLo = row('aigw', lo);
  const bareHi = row('bare', hi);
  const portkeyHi = row('portkey', hi);
  const aigw3Lo = row('aigw3', lo);
  const bare3Lo = row('bare3', lo);
  const why = (id) => {
    const result = results.find((r) => r.id === id);
    if (!result) return 'not run (--only)';
    return result.unavailable ?? 'requests failed in every round';
  };
  const checks = [
    {
      what: `all-in-one req/s ÷ bare proxy req/s at ${hi} connections`,
      goal: '≥ 0.60',
      value: aigwHi && bareHi ? aigwHi.rps / bareHi.rps : undefined,
      show: (v) => v.toFixed(2),
      pass: (v) => v >= 0.6,
      missing: !aigwHi ? why('aigw') : why('bare'),
    },
    {
      what: `all-in-one added p50 at ${lo} connection`,
      goal: '≤ 0.30 ms',
      value: aigwLo?.addedP50,
      show: (v) => `${v.toFixed(3)} ms`,
      pass: (v) => v <= 0.3,
      missing: why('aigw'),
    },
    {
      what: `all-in-one added p99 at ${lo} connection`,
      goal: '≤ 1.00 ms',
      value: aigwLo?.addedP99,
      show: (v) => `${v.toFixed(3)} ms`,
      pass: (v) => v <= 1,
      missing: why('aigw'),
    },
    {
      what: `all-in-one req/s ÷ Portkey req/s at ${hi} connections`,
      goal: '≥ 5×',
      value: aigwHi && portkeyHi ? aigwHi.rps / portkeyHi.rps : undefined,
      show: (v) => `${v.toFixed(2)}×`,
      pass: (v) => v >= 5,
      missing: !aigwHi ? why('aigw') : why('portkey'),
    },
    {
      what: `the same two from CPU per request (bare ÷ all-in-one; Portkey ÷ all-in-one)`,
      goal: '≥ 0.60; ≥ 5×',
      value:
        aigwHi && bareHi && portkeyHi
          ? [bareHi.cpuUs / aigwHi.cpuUs, portkeyHi.cpuUs / aigwHi.cpuUs]
          : aigwHi && bareHi
            ? [bareHi.cpuUs / aigwHi.cpuUs, undefined]
            : undefined,
      show: ([a, b]) => `${a.toFixed(2)}; ${b === undefined ? 'n/a' : `${b.toFixed(2)}×`}`,
      pass: ([a, b]) => a >= 0.6 && (b === undefined || b >= 5),
      missing: !aigwHi ? why('aigw') : why('bare'),
    },
    {
      what: 'all-in-one peak RSS',
      goal: '< 200 MB',
      value: aigwHi?.rssMb ?? aigwLo?.rssMb,
      show: (v) => `${v.toFixed(0)} MB`,
      pass: (v) => v < 200,
      missing: why('aigw'),
    },
    {
      what: `three-process added p50 at ${lo} connection`,
      goal: '≤ 1.00 ms',
      value: aigw3Lo?.addedP50,
      // Beside it, what three bare hops add on the same core: the floor for any three Node hops.
      show: (v) =>
        bare3Lo?.addedP50 === undefined
          ? `${v.toFixed(3)} ms`
          : `${v.toFixed(3)} ms (bare ×3: ${bare3Lo.addedP50.toFixed(3)} ms)`,
      pass: (v) => v <= 1,
      missing: why('aigw3'),
    },
  ];
  lines.push(
    '',
    '## Targets',
    '',
    '| Check | Measured | Goal | Result |',
    '| --- | ---: | ---: | --- |',
  );
  let missed = false;
  for (const check of checks) {
    if (check.value === undefined) {
      lines.push(
        `| ${check.what} | n/a | ${check.goal} | N/A (${check.missing.replaceAll('|', '\\|').slice(0, 160)}) |`,
      );
      continue;
    }
    const ok = check.pass(check.value);
    if (!ok && check.what.startsWith('all-in-one')) missed = true;
    lines.push(
      `| ${check.what} | ${check.show(check.value)} | ${check.goal} | ${ok ? 'PASS' : 'MISS'} |`,
    );
  }

  const ratios = results
    .filter((r) => r.id !== 'bare' && row(r.id, hi) && bareHi)
    .map((r) => `${r.label} ${(row(r.id, hi).rps / bareHi.rps).toFixed(2)}`);
  if (ratios.length > 0)
    lines.push('', `req/s relative to the bare proxy at ${hi} connections: ${ratios.join(', ')}.`);
  const cpuRatios = results
    .filter((r) => r.id !== 'bare' && r.id !== 'upstream' && row(r.id, hi) && bareHi)
    .map((r) => `${r.label} ${(bareHi.cpuUs / row(r.id, hi).cpuUs).toFixed(2)}`);
  if (cpuRatios.length > 0)
    lines.push(
      '',
      `The same from CPU per request (bare proxy's CPU µs/req ÷ the target's, at ${hi} connections; robust to other work on the box): ${cpuRatios.join(', ')}.`,
    );

  if (profile) lines.push('', ...profileLines(profile));
  return { markdown: `${lines.join('\n')}\n`, missed };
}

function profileLines(profile) {
  if (profile.error)
    return ['## CPU profile of the all-in-one gateway', '', `Not taken: ${profile.error}`];
  const { summary } = profile;
  const pct = (share) => `${(share * 100).toFixed(1)}%`;
  const lines = [
    '## CPU profile of the all-in-one gateway',
    '',
    `${profile.seconds}s at ${profile.connections} connections (start-up and warm-up left out), ${fmt.int(profile.rps)} req/s while profiled; busy ${summary.busyMs.toFixed(0)} ms of ${summary.totalMs.toFixed(0)} ms sampled, of which GC ${pct(summary.gcShare)} and VM/native (program) ${pct(summary.programShare)}.`,
    '',
    '**Top functions by self time** (share of busy time):',
    '',
  ];
  for (const f of summary.selfTop) lines.push(`- ${pct(f.shareOfBusy)} \`${f.name}\``);
  lines.push('', '**By package or our library** (self time):', '');
  for (const p of summary.packages) lines.push(`- ${pct(p.shareOfBusy)} ${p.name}`);
  lines.push('', '**Our functions including what they call**:', '');
  for (const f of summary.oursInclusive) lines.push(`- ${pct(f.shareOfBusy)} \`${f.name}\``);
  lines.push(
    '',
    `Profile file: \`${profile.file}\` (open in Chrome DevTools → Performance, or speedscope).`,
  );
  return lines;
}

async function profileAllInOne(ctx) {
  const dir = join(ctx.workDir, 'cpu-profile');
  mkdirSync(dir, { recursive: true });
  let target;
  try {
    log(`profiling the all-in-one gateway for ${ctx.options.profileSeconds}s ...`);
    const launched = process.hrtime.bigint();
    target = await startAllInOne(ctx, ['--cpu-prof', `--cpu-prof-dir=${dir}`]);
    await validateWithRetries(target, ctx.body);
    const connections = Math.max(...ctx.options.connections);
    await runWrk(target, connections, Math.min(ctx.options.warmup, 3), ctx.body);
    // Only the measured load counts: start-up, warm-up and shutdown are left out.
    const sinceLaunchUs = () => Number((process.hrtime.bigint() - launched) / 1000n);
    const fromUs = sinceLaunchUs();
    const result = await runWrk(target, connections, ctx.options.profileSeconds, ctx.body);
    const toUs = sinceLaunchUs();
    await Promise.all(target.procs.map((p) => stop(p)));
    target = undefined;
    const file = readdirSync(dir).find((f) => f.endsWith('.cpuprofile'));
    if (!file)
      return {
        error: 'the gateway exited without writing a .cpuprofile (did it exit cleanly on SIGTERM?)',
      };
    // Beside the report (--out), so runs written to different places keep their own.
    const kept = ctx.options.out.replace(/\.md$/, '') + '-aigw.cpuprofile';
    writeFileSync(kept, readFileSync(join(dir, file)));
    return {
      seconds: ctx.options.profileSeconds,
      connections,
      rps: result.rps,
      file: relative(ROOT, kept),
      summary: summarizeCpuProfile(kept, ROOT, 15, { fromUs, toUs }),
    };
  } catch (error) {
    return { error: error?.message ?? String(error) };
  } finally {
    if (target) await Promise.all(target.procs.map((p) => stop(p)));
  }
}

async function main() {
  const options = parseOptions(process.argv.slice(2));
  const workDir = mkdtempSync(join(tmpdir(), 'aigw-bench-'));
  const logDir = join(workDir, 'logs');
  mkdirSync(logDir, { recursive: true });
  mkdirSync(CACHE, { recursive: true });
  mkdirSync(dirname(options.out), { recursive: true });
  log(`work dir ${workDir} (process logs in ${logDir})`);

  if (cpus().length < 2 || !which('taskset')) {
    unpin();
    log(
      'fewer than 2 cores or no taskset: running unpinned; the figures are not comparable with pinned runs',
    );
  } else {
    // This orchestrator stays off the gateway's core too.
    spawnSync('taskset', ['-cp', LOAD_CORE, String(process.pid)], { stdio: 'ignore' });
  }
  await ensureWrk(logDir);

  const upstreamPort = await freePort();
  const upstreamProc = launch(
    'upstream',
    NODE,
    [join(BENCH_DIR, 'upstream.mjs'), '--port', String(upstreamPort)],
    {
      core: LOAD_CORE,
      logDir,
    },
  );
  const upstreamOrigin = `http://127.0.0.1:${upstreamPort}`;
  const ctx = {
    options,
    workDir,
    logDir,
    upstreamOrigin,
    upstreamBase: `${upstreamOrigin}/v1`,
    body: requestBody(options.stream),
    upstreamPid: upstreamProc.child.pid,
    litellmKey: `sk-bench-${randomBytes(24).toString('hex')}`,
    livePids: () => [],
    quietBudgetMs: options.quietWait * 1000,
  };
  await waitUntil(upstreamProc, httpAnswers(`${upstreamOrigin}/`), 10_000, 'the fake upstream');
  ctx.gatewayConfig = gatewayConfig(ctx.upstreamBase, workDir, options.gatewayConfig);

  const lives = [];
  for (const def of TARGETS) {
    if (options.only && !options.only.has(def.id) && def.id !== 'upstream') continue;
    lives.push(await startTarget(ctx, def));
  }
  ctx.livePids = () => lives.flatMap((l) => l.pids ?? []);
  const results = await measureAll(
    ctx,
    lives.filter((l) => !l.unavailable),
  );
  for (const live of lives) {
    if (live.unavailable)
      results.push({
        id: live.def.id,
        label: live.def.label,
        rows: [],
        unavailable: live.unavailable,
      });
  }
  results.sort(
    (a, b) => TARGETS.findIndex((t) => t.id === a.id) - TARGETS.findIndex((t) => t.id === b.id),
  );
  await Promise.all(
    lives
      .flatMap((l) => l.target?.procs ?? [])
      .filter((p) => p.name !== 'upstream')
      .map((p) => stop(p)),
  );

  let report = buildReport(ctx, results);
  const wantProfile =
    options.profile === 'always' ||
    (options.profile === 'auto' &&
      report.missed &&
      results.some((r) => r.id === 'aigw' && r.rows.length > 0));
  if (wantProfile) report = buildReport(ctx, results, await profileAllInOne(ctx));
  await stopAll();

  writeFileSync(options.out, report.markdown);
  writeFileSync(
    options.out.replace(/\.md$/, '.json'),
    `${JSON.stringify({ options: { ...options, only: options.only && [...options.only], out: relative(ROOT, options.out), gatewayConfig: relative(ROOT, options.gatewayConfig) }, results }, null, 2)}\n`,
  );
  // The repo's format check covers these files too.
  const prettier = join(ROOT, 'node_modules', '.bin', 'prettier');
  if (existsSync(prettier)) {
    spawnSync(prettier, ['--write', options.out, options.out.replace(/\.md$/, '.json')], {
      stdio: 'ignore',
    });
  }
  process.stdout.write(`\n${readFileSync(options.out, 'utf8')}\nWritten to ${options.out}\n`);
  rmSync(join(workDir, 'cpu-profile'), { recursive: true, force: true });
}

for (const signal of ['SIGINT', 'SIGTERM']) {
  process.once(signal, () => {
    void stopAll().then(() => process.exit(130));
  });
}

main().catch(async (error) => {
  await stopAll();
  process.stderr.write(`bench failed: ${error?.stack ?? error}\n`);
  process.exit(1);
});
