// Would the usage sink drain a backlog faster if each partition fetched and decoded its next
// delivery while the store writes the current one (offsets still committed in order, after
// the write)? "serial" is the sink as it is: a partition's next fetch waits for its
// delivery's write and commit. "pipelined" fetches and decodes the next delivery at once and
// hands it to the batcher before the previous write is done (two deliveries in flight per
// partition), committing each after its write, in order.
// The real EventBatcher and decodeEvent; the broker and the store are stand-ins with fixed
// latency: a fetch FETCH_MS, a commit COMMIT_MS, a write WRITE_MS plus ROW_US per row
// (ClickHouse's check query and insert). A backlog of EVENTS usage events is spread over
// PARTITIONS partitions, a delivery is at most 500 events (the bus's maxBatch), taken
// CONCURRENCY partitions at a time (the sink's 64), batches of BATCH or what waited FLUSH_MS.
// Each round runs both modes, alternating which goes first; the ratio is serial / pipelined
// time of the same round (above 1: pipelining is faster).
// Run: node_modules/.bin/node --require @swc-node/register bench/micro/usage-sink-pipeline.ts
//   PARTITIONS (comma list, default 1,4,16,96), EVENTS (default 20000), ROUNDS (default 3),
//   FETCH_MS (2), COMMIT_MS (2), WRITE_MS (20), ROW_US (20), FLUSH_MS (1000),
//   BATCH (the sink's USAGE_SINK_BATCH_SIZE, 1000)
// On the 2-core box (load 18-29), EVENTS 10000, 3 rounds, serial/pipelined median: 1 partition
// 7.7 (23 s vs 3 s: each 500-event delivery waits the 1 s flush alone; with BATCH=500 serial
// takes 1.9 s, ratio 1.2), 2 partitions 1.46, 3: 0.67, 4: 0.94, 16: 0.90, 64: 0.94 (single
// rounds spread 0.45-1.84). From 4 busy partitions the store is already busy 80-91% of the
// time serially: other partitions' deliveries fill the next batch while one is written, so
// pipelining has nothing left to overlap. Not adopted (the sink reads ~90 partitions).
import { decodeEvent, encodeEvent, Topic, type GatewayEvent } from '@aigw/contracts';
import { numberedUsageEvent } from '@aigw/testing';
import { EventBatcher } from '../../libs/usage-sink/src/domain/event-batcher';

const list = (name: string, fallback: string) =>
  (process.env[name] ?? fallback).split(',').map(Number);
const PARTITIONS = list('PARTITIONS', '1,4,16,96');
const EVENTS = Number(process.env.EVENTS ?? 20_000);
const ROUNDS = Number(process.env.ROUNDS ?? 3);
const FETCH_MS = Number(process.env.FETCH_MS ?? 2);
const COMMIT_MS = Number(process.env.COMMIT_MS ?? 2);
const WRITE_MS = Number(process.env.WRITE_MS ?? 20);
const ROW_US = Number(process.env.ROW_US ?? 20);
const FLUSH_MS = Number(process.env.FLUSH_MS ?? 1_000);
const BATCH = Number(process.env.BATCH ?? 1_000);
const DELIVERY = 500;
const CONCURRENCY = 64;

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** One partition's backlog, as the broker holds it (encoded). */
type Backlog = readonly Buffer[];

function backlogs(partitions: number): Backlog[] {
  const out: Buffer[][] = Array.from({ length: partitions }, () => []);
  for (let n = 0; n < EVENTS; n++) {
    out[n % partitions].push(encodeEvent(numberedUsageEvent(`user-${n % 997}`, n)).value);
  }
  return out;
}

/** A fetch: the broker's round trip, then the bus's decode of each message. */
async function fetch(backlog: Backlog, from: number): Promise<GatewayEvent[]> {
  await sleep(FETCH_MS);
  const events: GatewayEvent[] = [];
  for (const value of backlog.slice(from, from + DELIVERY)) {
    const decoded = decodeEvent(Topic.UsageRecorded, value);
    if (!decoded.ok) throw new Error('undecodable');
    events.push(decoded.value);
  }
  return events;
}

interface Store {
  stored: number;
  writes: number;
  /** Writes of less than a full batch: cut by the FLUSH_MS timer. */
  partial: number;
  /** Time the store spent writing: near the run's whole time, the store is the bound. */
  busyMs: number;
}

function batcherOver(store: Store): EventBatcher<GatewayEvent> {
  return new EventBatcher<GatewayEvent>(
    async (items) => {
      const started = performance.now();
      await sleep(WRITE_MS + (items.length * ROW_US) / 1_000);
      store.busyMs += performance.now() - started;
      store.stored += items.length;
      store.writes++;
      if (items.length < BATCH) store.partial++;
    },
    { maxItems: BATCH, maxWaitMs: FLUSH_MS },
  );
}

/** As the sink is: fetch, decode, write (awaited), commit, then the next fetch. */
async function serialPartition(batcher: EventBatcher<GatewayEvent>, backlog: Backlog) {
  for (let at = 0; at < backlog.length;) {
    const events = await fetch(backlog, at);
    await batcher.add(events);
    await sleep(COMMIT_MS);
    at += events.length;
  }
}

/** The next delivery fetched and handed over while the last one's write runs; in-order commits. */
async function pipelinedPartition(batcher: EventBatcher<GatewayEvent>, backlog: Backlog) {
  const inFlight: Promise<void>[] = [];
  for (let at = 0; at < backlog.length;) {
    const events = await fetch(backlog, at);
    at += events.length;
    const written = batcher.add(events);
    written.catch(() => undefined);
    inFlight.push(written);
    // At most two deliveries in flight: commit the older once written, in order.
    if (inFlight.length === 2) {
      await inFlight.shift();
      await sleep(COMMIT_MS);
    }
  }
  for (const written of inFlight) {
    await written;
    await sleep(COMMIT_MS);
  }
}

async function run(mode: 'serial' | 'pipelined', partitions: readonly Backlog[]): Promise<Outcome> {
  const store: Store = { stored: 0, writes: 0, partial: 0, busyMs: 0 };
  const batcher = batcherOver(store);
  const consume = mode === 'serial' ? serialPartition : pipelinedPartition;
  const started = performance.now();
  // CONCURRENCY partitions at a time, the next taken as one finishes (kafkajs' concurrency).
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(CONCURRENCY, partitions.length) }, async () => {
      while (next < partitions.length) await consume(batcher, partitions[next++]);
    }),
  );
  const ms = performance.now() - started;
  if (store.stored !== EVENTS) throw new Error(`${mode}: stored ${store.stored} of ${EVENTS}`);
  return { ms, writes: store.writes, partial: store.partial, busy: store.busyMs / ms };
}

interface Outcome {
  readonly ms: number;
  readonly writes: number;
  readonly partial: number;
  /** The store's share of the run's time. */
  readonly busy: number;
}

const pct = (share: number) => `${Math.round(share * 100)}%`;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function main(): Promise<void> {
  console.log(
    `events ${EVENTS}, batch ${BATCH}, fetch ${FETCH_MS} ms, commit ${COMMIT_MS} ms, write ${WRITE_MS} ms + ${ROW_US} us/row, flush ${FLUSH_MS} ms`,
  );
  for (const count of PARTITIONS) {
    const partitions = backlogs(count);
    const ratios: number[] = [];
    const serialMs: number[] = [];
    const pipelinedMs: number[] = [];
    let writes = '';
    for (let round = 0; round < ROUNDS; round++) {
      const order =
        round % 2 === 0 ? (['serial', 'pipelined'] as const) : (['pipelined', 'serial'] as const);
      const results: Record<string, Outcome> = {};
      for (const mode of order) results[mode] = await run(mode, partitions);
      ratios.push(results.serial.ms / results.pipelined.ms);
      serialMs.push(results.serial.ms);
      pipelinedMs.push(results.pipelined.ms);
      writes = `${results.serial.writes}/${results.pipelined.writes} (partial ${results.serial.partial}/${results.pipelined.partial}), store busy ${pct(results.serial.busy)}/${pct(results.pipelined.busy)}`;
    }
    console.log(
      `partitions ${String(count).padStart(3)}: serial ${median(serialMs).toFixed(0)} ms, pipelined ${median(pipelinedMs).toFixed(0)} ms, serial/pipelined median ${median(ratios).toFixed(2)} (${ratios.map((r) => r.toFixed(2)).join(' ')}), writes ${writes}`,
    );
  }
}

void main();
