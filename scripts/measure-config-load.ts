// How long loading a large config takes, and how long a hot reload of it holds the event
// loop (every request in flight waits that long). The config is generated: routes of 50
// backends each with every policy block, one SecurityPolicy per route, and a list of
// tiers (libs/config/src/loader/large-config-fixture.ts).
//   node_modules/.bin/node --require @swc-node/register scripts/measure-config-load.ts \
//     [sizes] [runs] [per-route]
// sizes: comma-separated N, each N backends + N tiers (default 500,1000). runs: timed loads
// per size after one warm-up (default 5); medians are printed. per-route: backends per
// route (default 50; give N for one route holding them all). Profile with
//   node_modules/.bin/node --cpu-prof --cpu-prof-dir=<dir> --require @swc-node/register \
//     scripts/measure-config-load.ts
// Columns, in ms. load: parseGatewayConfig straight through (no pauses), wall and this
// thread's CPU time (the CPU time is what to compare on a busy machine: the wall time
// counts the time other processes had the CPU). reload: through the ConfigWatcher as
// SIGHUP runs it, wall time and the longest the loop went without running a 1 ms timer
// (again wall: inflated on a busy machine). slice: the longest stretch of the reload's
// parse between two turns of the event loop, in CPU time, and how many turns it gave.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setImmediate as nextTurn, setTimeout as sleep } from 'node:timers/promises';
import { ConfigWatcher, parseGatewayConfig } from '../libs/config/src';
import { largeConfig } from '../libs/config/src/loader/large-config-fixture';
import { parseGatewayConfigInSlices } from '../libs/config/src/loader/load-config';

const SIZES = (process.argv[2] ?? '500,1000').split(',').map(Number);
const RUNS = Number(process.argv[3] ?? 5);
const PER_ROUTE = Number(process.argv[4] ?? 50);

const median = (values: readonly number[]) => [...values].sort((a, b) => a - b)[values.length >> 1];
const wallMs = () => performance.now();
const cpuMs = () => {
  const { user, system } = process.threadCpuUsage();
  return (user + system) / 1000;
};
const fmt = (ms: number) => ms.toFixed(1).padStart(9);

const configOf = (n: number, revision = 0) =>
  largeConfig({ backends: n, tiers: n, backendsPerRoute: PER_ROUTE, revision });

function timeLoad(n: number): { wall: number; cpu: number } {
  const { text, env } = configOf(n);
  const walls: number[] = [];
  const cpus: number[] = [];
  for (let run = 0; run <= RUNS; run++) {
    const [wall, cpu] = [wallMs(), cpuMs()];
    const result = parseGatewayConfig(text, { env });
    if (run > 0) {
      walls.push(wallMs() - wall);
      cpus.push(cpuMs() - cpu);
    }
    if (!result.ok) throw new Error(result.errors.map((e) => e.format()).join('\n'));
  }
  return { wall: median(walls), cpu: median(cpus) };
}

/** The longest slice of a reload's parse, timed in CPU, and the number of turns it gave. */
async function timeSlices(n: number): Promise<{ longest: number; turns: number }> {
  const { text, env } = configOf(n);
  const longest: number[] = [];
  const turns: number[] = [];
  for (let run = 0; run <= RUNS; run++) {
    let sliceStart = cpuMs();
    let worst = 0;
    let count = 0;
    const result = await parseGatewayConfigInSlices(
      text,
      { env },
      {
        now: cpuMs,
        pause: async () => {
          worst = Math.max(worst, cpuMs() - sliceStart);
          count += 1;
          await nextTurn();
          sliceStart = cpuMs();
        },
      },
    );
    worst = Math.max(worst, cpuMs() - sliceStart);
    if (!result.ok) throw new Error('sliced load failed');
    if (run > 0) {
      longest.push(worst);
      turns.push(count);
    }
  }
  return { longest: median(longest), turns: median(turns) };
}

/**
 * The longest the loop went without running a 1 ms timer, less that 1 ms: how long a
 * request arriving at the worst moment would have waited for the loop.
 */
function stallProbe(): { stop: () => number } {
  let last = wallMs();
  let worst = 0;
  const timer = setInterval(() => {
    const now = wallMs();
    worst = Math.max(worst, now - last - 1);
    last = now;
  }, 1);
  return {
    stop: () => {
      clearInterval(timer);
      return Math.max(0, worst);
    },
  };
}

/** A reload through the watcher, as SIGHUP runs it: wall time and the loop's longest stall. */
async function timeReload(n: number): Promise<{ wall: number; stall: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'config-load-'));
  const path = join(dir, 'gateway.yaml');
  const { text, env } = configOf(n);
  writeFileSync(path, text);
  const watcher = new ConfigWatcher(path, { env, pollMs: 0, fileFsEvents: false });
  const first = await watcher.start();
  if (!first?.ok) throw new Error('initial load failed');
  const walls: number[] = [];
  const stalls: number[] = [];
  try {
    for (let run = 1; run <= RUNS; run++) {
      writeFileSync(path, configOf(n, run).text);
      let reloaded = false;
      const off = watcher.onReload(() => (reloaded = true));
      const probe = stallProbe();
      const from = wallMs();
      await watcher.reload('signal');
      walls.push(wallMs() - from);
      // One more turn of the loop, so a stall that ended just now is seen by the probe.
      await sleep(5);
      stalls.push(probe.stop());
      off();
      if (!reloaded) throw new Error('the reload did not take');
    }
  } finally {
    watcher.close();
    rmSync(dir, { recursive: true, force: true });
  }
  return { wall: median(walls), stall: median(stalls) };
}

async function main() {
  console.log(`runs per size: ${RUNS} (medians), backends per route: ${PER_ROUTE}`);
  console.log('backends+tiers  load wall  load cpu  reload wall  reload stall  slice cpu  turns');
  for (const n of SIZES) {
    const load = timeLoad(n);
    const reload = await timeReload(n);
    const slices = await timeSlices(n);
    console.log(
      `${`${n}+${n}`.padEnd(14)} ${fmt(load.wall)} ${fmt(load.cpu)} ${fmt(reload.wall)}    ${fmt(reload.stall)}  ${fmt(slices.longest)} ${String(slices.turns).padStart(6)}`,
    );
  }
}

void main();
