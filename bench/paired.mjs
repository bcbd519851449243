// Paired comparison of two builds of the all-in-one gateway: both run at the same time,
// pinned to the same core, each loaded by its own wrk, so whatever else the machine does
// hits both alike. The figure that counts is B's CPU µs per request over A's, per round.
// See bench/README.md ("Comparing two builds").
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import {
  BENCH_DIR,
  GATEWAY_CORE,
  GATEWAY_NODE_FLAGS,
  LOAD_CORE,
  NODE,
  OUR_HEADERS,
  ROOT,
  freePort,
  gatewayConfig,
  healthy,
  httpAnswers,
  launch,
  log,
  ourEnv,
  requestBody,
  runWrk,
  stop,
  stopAll,
  treeTicks,
  unpin,
  validateWithRetries,
  waitUntil,
  readFlags,
} from './lib/harness.mjs';

const HELP = `Usage: npm run bench:paired -- --a DIST [--b DIST] [options]
  --a DIST            build A: a dist directory (a copy of dist/ made before a change)
  --b DIST            build B (default: dist/ of this checkout)
  --a-env K=V,...     extra environment for A (repeatable); --b-env likewise for B
  --rounds N          rounds; each starts both builds afresh (default 3)
  --duration S        seconds of paired load per round (default 6)
  --warmup S          seconds of paired load before measuring (default 3)
  --connections N     wrk connections per build (default 32)
  --gateway-config F  config template (default bench/config/gateway.yaml)

Keep A's build with: rm -rf .bench-a && mkdir .bench-a && cp -r dist .bench-a/`;

function parseOptions(argv) {
  const options = {
    a: undefined,
    b: join(ROOT, 'dist'),
    env: { a: {}, b: {} },
    rounds: 3,
    duration: 6,
    warmup: 3,
    connections: 32,
    gatewayConfig: join(BENCH_DIR, 'config', 'gateway.yaml'),
  };
  readFlags(argv, (arg, { value, positive }) => {
    if (arg === '--a') options.a = resolve(value());
    else if (arg === '--b') options.b = resolve(value());
    else if (arg === '--a-env' || arg === '--b-env') {
      const side = arg === '--a-env' ? 'a' : 'b';
      for (const pair of value().split(',')) {
        const at = pair.indexOf('=');
        if (at <= 0) throw new Error(`${arg} takes KEY=VALUE pairs, got "${pair}"`);
        options.env[side][pair.slice(0, at)] = pair.slice(at + 1);
      }
    } else if (arg === '--rounds') options.rounds = Math.round(positive());
    else if (arg === '--duration') options.duration = positive();
    else if (arg === '--warmup') options.warmup = positive();
    else if (arg === '--connections') options.connections = Math.round(positive());
    else if (arg === '--gateway-config') options.gatewayConfig = resolve(value());
    else if (arg === '--help' || arg === '-h') {
      console.log(HELP);
      process.exit(0);
    } else throw new Error(`unknown option ${arg}\n${HELP}`);
  });
  if (!options.a) throw new Error(`--a is required\n${HELP}`);
  for (const dist of [options.a, options.b]) {
    if (!existsSync(join(dist, 'apps', 'gateway', 'src', 'main.js')))
      throw new Error(`${dist} holds no apps/gateway/src/main.js`);
  }
  return options;
}

/**
 * A build's dist/ must sit in the checkout to resolve its packages from node_modules:
 * one outside it is copied in under a hidden directory for the run.
 */
function placed(dist, name, cleanup) {
  if (dist.startsWith(`${ROOT}/`)) return dist;
  const copy = join(ROOT, `.bench-paired-${name}`);
  rmSync(copy, { recursive: true, force: true });
  cpSync(dist, copy, { recursive: true });
  cleanup.push(copy);
  return copy;
}

async function startBuild(side, dist, ctx) {
  const [port, adminPort] = [await freePort(), await freePort()];
  const proc = launch(
    `paired-${side}-${ctx.round}`,
    NODE,
    [...GATEWAY_NODE_FLAGS, join(dist, 'apps', 'gateway', 'src', 'main.js')],
    {
      core: GATEWAY_CORE,
      logDir: ctx.logDir,
      env: {
        ...ourEnv(ctx.config, join(ctx.workDir, `data-${side}-${ctx.round}`), port, adminPort),
        ...ctx.options.env[side],
      },
    },
  );
  await waitUntil(proc, healthy(`http://127.0.0.1:${adminPort}/healthz`), 60_000, `build ${side}`);
  const target = { url: `http://127.0.0.1:${port}/v1/chat/completions`, headers: OUR_HEADERS };
  await validateWithRetries(target, ctx.body);
  return { proc, target, pid: proc.child.pid };
}

function peakRssMb(pid) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024;
}

async function round(ctx, a, b) {
  const builds = [await startBuild('a', a, ctx), await startBuild('b', b, ctx)];
  try {
    const load = (seconds) =>
      Promise.all(
        builds.map((build) => runWrk(build.target, ctx.options.connections, seconds, ctx.body)),
      );
    await load(ctx.options.warmup);
    const before = builds.map((build) => treeTicks([build.pid]));
    const results = await load(ctx.options.duration);
    const after = builds.map((build) => treeTicks([build.pid]));
    return builds.map((build, index) => ({
      requests: results[index].requests,
      errors: results[index].errors,
      p50: results[index].p50,
      p99: results[index].p99,
      cpuUsPerRequest: ((after[index] - before[index]) * ctx.usPerTick) / results[index].requests,
      peakRssMb: peakRssMb(build.pid),
    }));
  } finally {
    await Promise.all(builds.map((build) => stop(build.proc)));
  }
}

const median = (values) => {
  const sorted = [...values].sort((x, y) => x - y);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
};

async function main() {
  const options = parseOptions(process.argv.slice(2));
  const workDir = mkdtempSync(join(tmpdir(), 'aigw-paired-'));
  const logDir = join(workDir, 'logs');
  mkdirSync(logDir, { recursive: true });
  if (cpus().length < 2 || spawnSync('sh', ['-c', 'command -v taskset']).status !== 0) {
    unpin();
    log('fewer than 2 cores or no taskset: running unpinned');
  } else {
    // This orchestrator stays off the gateways' core too.
    spawnSync('taskset', ['-cp', LOAD_CORE, String(process.pid)], { stdio: 'ignore' });
  }
  const cleanup = [];
  const a = placed(options.a, 'a', cleanup);
  const b = placed(options.b, 'b', cleanup);
  const upstreamPort = await freePort();
  const upstream = launch(
    'upstream',
    NODE,
    [join(BENCH_DIR, 'upstream.mjs'), '--port', String(upstreamPort)],
    { core: LOAD_CORE, logDir },
  );
  const origin = `http://127.0.0.1:${upstreamPort}`;
  await waitUntil(upstream, httpAnswers(`${origin}/`), 10_000, 'the fake upstream');
  const clockTicks = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout) || 100;
  const ctx = {
    options,
    workDir,
    logDir,
    round: 0,
    body: requestBody(false),
    config: gatewayConfig(`${origin}/v1`, workDir, options.gatewayConfig),
    usPerTick: 1e6 / clockTicks,
  };
  log(`A = ${options.a}\n[bench] B = ${options.b}\n[bench] logs in ${logDir}`);
  const ratios = [];
  try {
    for (ctx.round = 1; ctx.round <= options.rounds; ctx.round++) {
      const [ra, rb] = await round(ctx, a, b);
      const ratio = rb.cpuUsPerRequest / ra.cpuUsPerRequest;
      ratios.push(ratio);
      const line = (name, r) =>
        `${name}: ${r.requests} req, ${r.cpuUsPerRequest.toFixed(0)} CPU µs/req, ` +
        `p50 ${r.p50.toFixed(2)} ms, p99 ${r.p99.toFixed(2)} ms, peak RSS ${r.peakRssMb.toFixed(0)} MB` +
        (r.errors > 0 ? `, ${r.errors} errors` : '');
      console.log(
        `round ${ctx.round}  ${line('A', ra)} | ${line('B', rb)} | B/A CPU ${ratio.toFixed(3)}`,
      );
    }
  } finally {
    await stopAll();
    for (const dir of cleanup) rmSync(dir, { recursive: true, force: true });
  }
  console.log(
    `\nB/A CPU µs per request: median ${median(ratios).toFixed(3)} over ${ratios.length} rounds ` +
      `(${ratios.map((r) => r.toFixed(3)).join(', ')}); two identical builds read 0.97-1.03.`,
  );
}

for (const signal of ['SIGINT', 'SIGTERM']) {
  process.once(signal, () => void stopAll().then(() => process.exit(130)));
}

main().catch(async (error) => {
  await stopAll();
  process.stderr.write(`paired comparison failed: ${error?.stack ?? error}\n`);
  process.exit(1);
});
