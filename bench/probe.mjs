// Where a build's CPU and peak memory go under load: a quick look at one or more builds
// (or V8 flags, or settings) without the full bench. See bench/README.md, "Probing memory".
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import {
  BENCH_DIR,
  GATEWAY_CORE,
  GATEWAY_NODE_FLAGS,
  LOAD_CORE,
  NODE,
  OUR_HEADERS,
  descendants,
  freePort,
  gatewayConfig,
  launch,
  ourEnv,
  readFlags,
  requestBody,
  runWrk,
  sleep,
  stop,
  stopAll,
  treeTicks,
  validateWithRetries,
} from './lib/harness.mjs';

const HELP = `Usage: node bench/probe.mjs [options] TARGET...
  TARGET              bare (bench/bare-proxy.mjs) or a build of the gateway:
                      DIST[|ENV=V,...[|FLAG,FLAG,...[|CONFIG]]]
                      DIST a directory holding apps/gateway/src/main.js (inside this checkout);
                      FLAG the node flags, GATEWAY_NODE_FLAGS when the field is left out
                      (an empty field: none); CONFIG a config template (bench/config/gateway.yaml)
  --rounds N          rounds, each starts every target afresh (default 3)
  --duration S        seconds measured per round (default 6), after --warmup S (default 3)
  --connections N     wrk connections per target (default 32)
  --paired            load all targets at the same time (both on the gateway core), so
                      other work on the machine hits them alike; compare CPU by the ratio
  --heap              log V8's heap by space, its malloc'ed memory and GCs (probe-heap-log.cjs)
  --series            print the memory every 250 ms of each load
Example: node bench/probe.mjs --heap .bench-a/dist '.bench-a/dist||--max-semi-space-size=8'`;

const options = { rounds: 3, duration: 6, warmup: 3, connections: 32, targets: [] };
readFlags(process.argv.slice(2), (arg, { positive }) => {
  if (arg === '--rounds') options.rounds = Math.round(positive());
  else if (arg === '--duration') options.duration = positive();
  else if (arg === '--warmup') options.warmup = positive();
  else if (arg === '--connections') options.connections = Math.round(positive());
  else if (arg === '--paired') options.paired = true;
  else if (arg === '--heap') options.heap = true;
  else if (arg === '--series') options.series = true;
  else if (arg === '--help' || arg === '-h') {
    console.log(HELP);
    process.exit(0);
  } else if (arg.startsWith('--')) throw new Error(`unknown option ${arg}\n${HELP}`);
  else options.targets.push(arg);
});
if (options.targets.length === 0) throw new Error(`no target\n${HELP}`);

function parseTarget(spec) {
  if (spec === 'bare') return { spec, bare: true };
  const [dist, envs = '', flags, config] = spec.split('|');
  const main = join(resolve(dist), 'apps', 'gateway', 'src', 'main.js');
  if (!existsSync(main)) throw new Error(`${dist} holds no apps/gateway/src/main.js`);
  const env = {};
  for (const pair of envs.split(',').filter(Boolean)) {
    const at = pair.indexOf('=');
    if (at <= 0) throw new Error(`${spec}: environment takes KEY=VALUE pairs, got "${pair}"`);
    env[pair.slice(0, at)] = pair.slice(at + 1);
  }
  return {
    spec,
    main,
    env,
    flags: flags === undefined ? GATEWAY_NODE_FLAGS : flags.split(',').filter(Boolean),
    config: config ? resolve(config) : join(BENCH_DIR, 'config', 'gateway.yaml'),
  };
}

const kb = (status, key) => Number(new RegExp(`^${key}:\\s+(\\d+)`, 'm').exec(status)?.[1] ?? 0);

/** RSS now and VmHWM of a process tree, in MB, the RSS split into anonymous and file pages. */
function memoryOf(pid) {
  const sum = { rss: 0, anon: 0, file: 0, hwm: 0 };
  for (const p of descendants([pid])) {
    try {
      const status = readFileSync(`/proc/${p}/status`, 'utf8');
      sum.rss += kb(status, 'VmRSS') / 1024;
      sum.anon += kb(status, 'RssAnon') / 1024;
      sum.file += kb(status, 'RssFile') / 1024;
      sum.hwm += kb(status, 'VmHWM') / 1024;
    } catch {
      // exited while we looked
    }
  }
  return sum;
}

async function start(target, upstream, logDir, round, index) {
  const port = await freePort();
  if (target.bare) {
    const proc = launch(
      `bare-${round}-${index}`,
      NODE,
      [join(BENCH_DIR, 'bare-proxy.mjs'), '--upstream', upstream, '--port', String(port)],
      { core: GATEWAY_CORE, logDir },
    );
    const url = `http://127.0.0.1:${port}/v1/chat/completions`;
    return { proc, target: { url, headers: ['Authorization: Bearer x'] } };
  }
  const work = mkdtempSync(join(tmpdir(), 'aigw-probe-data-'));
  const env = {
    ...ourEnv(gatewayConfig(upstream, work, target.config), work, port, await freePort()),
    ...target.env,
  };
  const args = [...target.flags];
  let heapLog;
  if (options.heap) {
    heapLog = join(logDir, `heap-${round}-${index}.jsonl`);
    env.AIGW_PROBE_HEAP_LOG = heapLog;
    args.push('--require', join(BENCH_DIR, 'probe-heap-log.cjs'));
  }
  const proc = launch(`gateway-${round}-${index}`, NODE, [...args, target.main], {
    core: GATEWAY_CORE,
    logDir,
    env,
  });
  const url = `http://127.0.0.1:${port}/v1/chat/completions`;
  return { proc, heapLog, target: { url, headers: OUR_HEADERS } };
}

function heapSummary(file) {
  if (!file || !existsSync(file)) return undefined;
  const lines = readFileSync(file, 'utf8')
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line));
  const top = lines.reduce((a, b) => (b.heap > a.heap ? b : a));
  const spaces = Object.entries(top.spaces)
    .map(([name, size]) => `${name} ${size}`)
    .join(', ');
  const last = lines.at(-1);
  return (
    `V8 heap at its largest ${top.heap} MB (${spaces}), used ${Math.max(...lines.map((l) => l.used))} max; ` +
    `V8 malloc peak ${last.peakMalloced} MB; external ${Math.max(...lines.map((l) => l.external))} MB; ` +
    `GCs ${last.gcs.minor} minor (${last.gcs.minorMs} ms), ${last.gcs.major} major (${last.gcs.majorMs} ms)`
  );
}

const clockTicks = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout) || 100;
const f0 = (x) => x.toFixed(0);
const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const logDir = mkdtempSync(join(tmpdir(), 'aigw-probe-'));
const targets = options.targets.map(parseTarget);
const upstreamPort = await freePort();
const upstreamProc = launch(
  'upstream',
  NODE,
  [join(BENCH_DIR, 'upstream.mjs'), '--port', String(upstreamPort)],
  { core: LOAD_CORE, logDir },
);
const upstream = `http://127.0.0.1:${upstreamPort}/v1`;
await sleep(800);
const body = requestBody(false);
const results = targets.map(() => []);
console.log(`logs in ${logDir}`);

/** Loads the given started targets (all at once when paired) and records each one's figures. */
async function measure(running, round) {
  const peaks = running.map(() => ({ rss: 0 }));
  const series = running.map(() => []);
  const sampler = setInterval(() => {
    running.forEach((run, i) => {
      const now = memoryOf(run.proc.child.pid);
      if (now.rss > peaks[i].rss) peaks[i] = now;
      if (options.series) series[i].push(now);
    });
  }, 50);
  // wrk now and then exits without its result line on this box: one more try, not a lost run.
  const wrk = (run, seconds) =>
    runWrk(run.target, options.connections, seconds, body).catch(() =>
      runWrk(run.target, options.connections, seconds, body),
    );
  const load = (seconds) => Promise.all(running.map((run) => wrk(run, seconds)));
  await load(options.warmup);
  const before = running.map((run) => treeTicks([run.proc.child.pid]));
  const loads = await load(options.duration);
  const after = running.map((run) => treeTicks([run.proc.child.pid]));
  clearInterval(sampler);
  running.forEach((run, i) => {
    const end = memoryOf(run.proc.child.pid);
    const cpu = ((after[i] - before[i]) * 1e6) / clockTicks / loads[i].requests;
    results[run.index].push({ hwm: end.hwm, cpu, anon: peaks[i].anon, rps: loads[i].rps });
    console.log(
      `${run.spec} round ${round}: ${f0(loads[i].rps)} req/s, ${cpu.toFixed(1)} µs/req, ` +
        `p50 ${loads[i].p50} ms, p99 ${loads[i].p99} ms, errors ${loads[i].errors} | idle RSS ${f0(run.idle.rss)} MB ` +
        `(anon ${f0(run.idle.anon)}), peak ${f0(peaks[i].rss)} (anon ${f0(peaks[i].anon)}, ` +
        `file ${f0(peaks[i].file)}), VmHWM ${f0(end.hwm)}`,
    );
    const heap = heapSummary(run.heapLog);
    if (heap) console.log(`  ${heap}`);
    for (let s = 0; s < series[i].length; s += 5) {
      const m = series[i][s];
      console.log(
        `  +${(s / 20).toFixed(2)}s RSS ${f0(m.rss)} anon ${f0(m.anon)} file ${f0(m.file)}`,
      );
    }
  });
}

// Whatever fails, nothing this probe started outlives it (they run in their own groups).
try {
  for (let round = 0; round < options.rounds; round++) {
    const groups = options.paired ? [targets.map((t, i) => i)] : targets.map((t, i) => [i]);
    for (const group of groups) {
      const running = [];
      try {
        // The target started first peaked up to 10 MB higher in a paired run whatever it
        // was: each round starts them in another order.
        const order = group.map((_, k) => group[(k + round) % group.length]);
        for (const index of order) {
          const run = await start(targets[index], upstream, logDir, round, index);
          running.push({ ...run, index, spec: targets[index].spec });
          await validateWithRetries(run.target, body);
          await sleep(500);
          run.idle = memoryOf(run.proc.child.pid);
          running.at(-1).idle = run.idle;
        }
        await measure(running, round);
      } finally {
        await Promise.all(running.map((run) => stop(run.proc)));
      }
    }
  }
} finally {
  await stop(upstreamProc);
  await stopAll();
}

console.log('\nmedians over rounds:');
targets.forEach((target, i) => {
  const rows = results[i];
  const ratio =
    options.paired && i > 0 ? median(rows.map((r, k) => r.cpu / results[0][k].cpu)) : undefined;
  console.log(
    `${target.spec}: VmHWM ${f0(median(rows.map((r) => r.hwm)))} MB [${rows.map((r) => f0(r.hwm)).join(' ')}], ` +
      `peak anon [${rows.map((r) => f0(r.anon)).join(' ')}], CPU ${median(rows.map((r) => r.cpu)).toFixed(1)} µs/req ` +
      `[${rows.map((r) => r.cpu.toFixed(0)).join(' ')}]` +
      (ratio === undefined ? '' : `, CPU ÷ first target ${ratio.toFixed(3)} (median of rounds)`),
  );
});
process.exit(0);
