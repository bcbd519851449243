// What durable SQLite commits (AI_GATEWAY_SQLITE_SYNC=full: commits at synchronous NORMAL,
// then an fdatasync of the WAL on the threadpool that positions wait for) cost the all-in-one
// gateway's event loop against normal, on this machine's disk. One flush of the embedded
// bus, as the gateway runs it every 50 ms: the event log appends the batch and waits for its
// sync, the usage sink writes it to the analytics store (waiting for its sync) and commits
// its position, the budget settler settles its usage, flushes the balances (waiting for
// their sync) and commits its position. `loop` is the event loop's busy time over the flush
// (eventLoopUtilization's active), the cost to requests; the other parts are wall time,
// the syncs' waits included. The real stores, each with
// its WAL checkpoint worker, in a fresh directory per run; modes alternate run by run.
//   node_modules/.bin/node --require @swc-node/register scripts/measure-sqlite-sync-cost.ts [flushes] [rounds] [dir]
// flushes: per run and batch size (100). rounds: runs per mode and batch size (2). dir: where
// the databases go (a temporary directory under the OS's; give one on the data disk).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { LocalBudgetStore } from '@aigw/budget-core';
import { serializeEvent, type TokenUsageRecorded } from '@aigw/contracts';
import { SqliteEventLog, type SqliteSync } from '@aigw/embedded';
import { SqliteUsageStore } from '@aigw/usage-sink';
import { buildWorkload } from '../libs/usage-sink/src/testing/analytics-fixture';

const FLUSHES = Number(process.argv[2] ?? 100);
const ROUNDS = Number(process.argv[3] ?? 2);
const ROOT = process.argv[4] ?? tmpdir();
/** Requests per flush: a quiet gateway, a busy one, one near the bus's 500-event batch. */
const BATCHES = [1, 10, 100];
const FLUSH_INTERVAL_MS = 50;

type Part = 'append' | 'usage' | 'budget' | 'total' | 'loop';
const PARTS: readonly Part[] = ['append', 'usage', 'budget', 'total', 'loop'];

/** Milliseconds of each part, per flush. */
type Timings = Record<Part, number[]>;

const ms = (from: bigint) => Number(process.hrtime.bigint() - from) / 1e6;

/** The balance changes a settlement makes: the caller's day, its minute, the model's minute. */
function changesOf(usage: TokenUsageRecorded, now: number) {
  const amount = usage.inputTokens + usage.outputTokens;
  return [
    { key: `day:${usage.userId}`, amount, limit: 1e12, windowEndsAt: now + 86_400_000 },
    { key: `min:${usage.userId}`, amount, limit: 1e12, windowEndsAt: now + 60_000 },
    { key: `model:${usage.modelServed}`, amount, limit: 1e12, windowEndsAt: now + 60_000 },
  ];
}

async function run(sync: SqliteSync, requests: number, into: Timings): Promise<number> {
  const dir = mkdtempSync(join(ROOT, 'aigw-sync-cost-'));
  const log = new SqliteEventLog(join(dir, 'gateway-events.db'), { sync });
  const analytics = new SqliteUsageStore(join(dir, 'analytics.db'), { sync });
  const budget = new LocalBudgetStore(join(dir, 'budget.db'), Date.now, undefined, { sync });
  let events = 0;
  try {
    for (let flush = 0; flush < FLUSHES; flush++) {
      // Fresh event ids each flush (built outside the timing): a repeated id writes nothing.
      const workload = buildWorkload(requests);
      const serialized = workload.events.map((event) => serializeEvent(event));
      events += serialized.length;
      const now = Date.now();
      const busy = performance.eventLoopUtilization();
      const start = process.hrtime.bigint();
      const seqs = log.appendAll(serialized);
      const last = Math.max(...seqs.map((seq) => seq ?? 0));
      await log.durable();
      const appended = process.hrtime.bigint();
      await analytics.write(workload.events);
      log.commit('usage-sink', last);
      const written = process.hrtime.bigint();
      for (const usage of workload.usage) {
        budget.settle(usage.eventId, undefined, changesOf(usage, now), now);
      }
      await budget.flush();
      log.commit('budget-settler', last);
      into.append.push(Number(appended - start) / 1e6);
      into.usage.push(Number(written - appended) / 1e6);
      into.budget.push(ms(written));
      into.total.push(ms(start));
      into.loop.push(performance.eventLoopUtilization(busy).active);
      await sleep(FLUSH_INTERVAL_MS);
    }
  } finally {
    budget.close();
    analytics.close();
    log.close();
    rmSync(dir, { recursive: true, force: true });
  }
  return events / FLUSHES;
}

function quantile(values: readonly number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

const format = (value: number) => value.toFixed(2).padStart(6);

async function main(): Promise<void> {
  console.log(`${FLUSHES} flushes x ${ROUNDS} rounds per mode and batch, databases in ${ROOT}`);
  console.log('ms per flush (loop: busy on the event loop): median / p90 / p99');
  for (const requests of BATCHES) {
    const timings: Record<SqliteSync, Timings> = {
      normal: { append: [], usage: [], budget: [], total: [], loop: [] },
      full: { append: [], usage: [], budget: [], total: [], loop: [] },
    };
    let eventsPerFlush = 0;
    for (let round = 0; round < ROUNDS; round++) {
      // Alternating, so a neighbour's load on the shared disk falls on both modes alike.
      for (const sync of ['normal', 'full'] as const) {
        eventsPerFlush = await run(sync, requests, timings[sync]);
      }
    }
    console.log(`\n${requests} request(s) per flush (${eventsPerFlush} events):`);
    for (const sync of ['normal', 'full'] as const) {
      const cells = PARTS.map((part) => {
        const values = timings[sync][part];
        return `${part} ${[0.5, 0.9, 0.99].map((q) => format(quantile(values, q))).join(' /')}`;
      });
      console.log(`  ${sync.padEnd(6)} ${cells.join(' | ')}`);
    }
    const extra = quantile(timings.full.loop, 0.5) - quantile(timings.normal.loop, 0.5);
    console.log(
      `  full costs ${extra.toFixed(2)} ms more of the event loop per flush (median): ` +
        `${((extra / FLUSH_INTERVAL_MS) * 100).toFixed(1)}% of the event loop at one flush per ${FLUSH_INTERVAL_MS} ms`,
    );
  }
}

void main();
