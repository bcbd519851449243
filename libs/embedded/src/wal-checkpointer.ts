import { Worker } from 'node:worker_threads';
import type { DatabaseSync } from 'node:sqlite';

/**
 * How often the worker copies each WAL back into its database file. A checkpoint costs an
 * fsync or two whatever it copies, and the pages every commit rewrites (the ends of each
 * B-tree) are copied once per checkpoint: once a second, not five times, took 0.90-1.03
 * (median 0.96, six rounds of two paired runs on a busy box, `bench/probe.mjs --paired`)
 * of the CPU per request at 32 connections, and a lower peak RSS (181-184 MB against
 * 184-203). At full load a second is ~14 MB of WAL.
 */
const CHECKPOINT_INTERVAL_MS = 1_000;
/**
 * The writer's own automatic checkpoint, kept only as a backstop should the worker fall
 * behind (about 32 MB of WAL, twice a second's at full load): normally the worker
 * checkpoints long before.
 */
const BACKSTOP_PAGES = 8_000;

// Plain JavaScript evaluated in the worker, so it runs the same from TypeScript and dist.
// It holds one connection per database it was told about and exits after the last closes.
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const { DatabaseSync } = require('node:sqlite');
const databases = new Map();
const checkpoint = (db) => {
  try { db.exec('PRAGMA wal_checkpoint(PASSIVE)'); } catch {}
};
const timer = setInterval(() => databases.forEach(checkpoint), workerData.intervalMs);
parentPort.on('message', ({ op, path }) => {
  if (op === 'open') {
    const db = new DatabaseSync(path);
    db.exec('PRAGMA busy_timeout = 1000');
    databases.set(path, db);
    return;
  }
  const db = databases.get(path);
  if (db) {
    checkpoint(db);
    db.close();
    databases.delete(path);
  }
  if (databases.size === 0) {
    clearInterval(timer);
    parentPort.close();
  }
});
`;

/** The one worker of this process and how many open handles use each database. */
interface SharedWorker {
  readonly worker: Worker;
  readonly users: Map<string, number>;
}

let shared: SharedWorker | undefined;

function sharedWorker(): SharedWorker {
  if (shared) return shared;
  const worker = new Worker(WORKER_SOURCE, {
    eval: true,
    workerData: { intervalMs: CHECKPOINT_INTERVAL_MS },
    // Plain JavaScript needs no preloads: inheriting one (a TypeScript loader in tests)
    // overran the heap limit below and silently left checkpoints to the backstop.
    execArgv: [],
    // A small isolate: it holds a few connections and a timer.
    resourceLimits: { maxOldGenerationSizeMb: 16, maxYoungGenerationSizeMb: 2 },
  });
  // Never the reason a process stays up; a failed worker leaves the backstop in charge.
  worker.unref();
  worker.on('error', (error: Error) =>
    process.emitWarning(
      `WAL checkpoint worker stopped (${error.message}); SQLite checkpoints inline`,
    ),
  );
  const created: SharedWorker = { worker, users: new Map() };
  worker.once('exit', () => {
    if (shared === created) shared = undefined;
  });
  shared = created;
  return created;
}

/**
 * Moves WAL checkpoints of SQLite databases off the event loop. A checkpoint copies
 * pages and fsyncs the file; run by the writing connection it blocks every request behind
 * it (most of an append's wall time, measured). A worker thread with its own connections
 * checkpoints in the background instead; commits stay exactly as durable (WAL, synchronous
 * as the writer sets it), only where the copy back happens changes. One worker serves
 * every database of the process: each isolate costs 10-15 MB of memory.
 */
export class WalCheckpointer {
  private stopped = false;

  private constructor(
    private readonly owner: SharedWorker,
    private readonly path: string,
  ) {}

  /**
   * Hands the checkpoints of `db` (opened in WAL mode at `path`) to the worker; returns
   * undefined for an in-memory database, which has no WAL.
   */
  static start(db: DatabaseSync, path: string): WalCheckpointer | undefined {
    if (path === ':memory:' || path === '') return undefined;
    db.exec(`PRAGMA wal_autocheckpoint = ${BACKSTOP_PAGES}`);
    const owner = sharedWorker();
    const users = owner.users.get(path) ?? 0;
    if (users === 0) owner.worker.postMessage({ op: 'open', path });
    owner.users.set(path, users + 1);
    return new WalCheckpointer(owner, path);
  }

  /** A last checkpoint of this database once no handle uses it; the writer may close at once. */
  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    const users = (this.owner.users.get(this.path) ?? 1) - 1;
    if (users > 0) {
      this.owner.users.set(this.path, users);
      return;
    }
    this.owner.users.delete(this.path);
    this.owner.worker.postMessage({ op: 'close', path: this.path });
    // The worker exits after the last close; the next database starts a fresh one.
    if (this.owner.users.size === 0 && shared === this.owner) shared = undefined;
  }
}
