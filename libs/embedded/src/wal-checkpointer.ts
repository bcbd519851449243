import { Worker } from 'node:worker_threads';
import type { DatabaseSync } from 'node:sqlite';

/** How often the worker copies the WAL back into the database file. */
const CHECKPOINT_INTERVAL_MS = 200;
/**
 * The writer's own automatic checkpoint, kept only as a backstop should the worker fall
 * behind (about 16 MB of WAL): normally the worker checkpoints long before.
 */
const BACKSTOP_PAGES = 4_000;

// Plain JavaScript evaluated in the worker, so it runs the same from TypeScript and dist.
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const { DatabaseSync } = require('node:sqlite');
const db = new DatabaseSync(workerData.path);
db.exec('PRAGMA busy_timeout = 1000');
const checkpoint = () => {
  try { db.exec('PRAGMA wal_checkpoint(PASSIVE)'); } catch {}
};
const timer = setInterval(checkpoint, workerData.intervalMs);
parentPort.on('message', () => {
  clearInterval(timer);
  checkpoint();
  db.close();
  parentPort.close();
});
`;

/**
 * Moves WAL checkpoints of a SQLite database off the event loop. A checkpoint copies
 * pages and fsyncs the file; run by the writing connection it blocks every request behind
 * it (most of an append's wall time, measured). A worker thread with its own connection
 * checkpoints in the background instead; commits stay exactly as durable (WAL, synchronous
 * as the writer sets it), only where the copy back happens changes.
 */
export class WalCheckpointer {
  private readonly worker: Worker;

  private constructor(path: string) {
    this.worker = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: { path, intervalMs: CHECKPOINT_INTERVAL_MS },
      // A small isolate: it holds one connection and a timer.
      resourceLimits: { maxOldGenerationSizeMb: 16, maxYoungGenerationSizeMb: 2 },
    });
    // Never the reason a process stays up; a failed worker leaves the backstop in charge.
    this.worker.unref();
    this.worker.on('error', () => undefined);
  }

  /**
   * Hands the checkpoints of `db` (opened in WAL mode at `path`) to a worker; returns
   * undefined for an in-memory database, which has no WAL.
   */
  static start(db: DatabaseSync, path: string): WalCheckpointer | undefined {
    if (path === ':memory:' || path === '') return undefined;
    db.exec(`PRAGMA wal_autocheckpoint = ${BACKSTOP_PAGES}`);
    return new WalCheckpointer(path);
  }

  /** A last checkpoint, then the worker exits; the writer may close its connection at once. */
  stop(): void {
    this.worker.postMessage('stop');
  }
}
