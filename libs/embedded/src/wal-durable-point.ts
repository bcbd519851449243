import { statSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';

/**
 * Group commit for a SQLite database in WAL mode with `PRAGMA synchronous = NORMAL`: a
 * commit writes its frames (commit marker last) to the -wal file without an fsync, on the
 * event loop; whoever must not move on past it (a consumer position, a Kafka offset, an
 * answer held for its record) awaits `durable()`, an fdatasync of the -wal file on libuv's
 * threadpool, begun after the commit returned. One fdatasync covers every commit written
 * before it, so the waiters of many commits share one.
 *
 * Why that is as durable as `synchronous = FULL`:
 * - fsync acts on the file (its inode), not on the descriptor SQLite wrote through: what
 *   any connection of this process wrote to the -wal before the fdatasync began is on the
 *   disk once it resolves, frames and commit marker alike, with the file's new size
 *   (fdatasync writes the metadata needed to read the data back).
 * - Recovery replays WAL frames in order up to the last valid commit: a commit whose frames
 *   are on the disk is replayed, whatever came after it.
 * - A checkpoint (WalCheckpointer's worker, or the writer's backstop) fsyncs the WAL before
 *   copying frames into the database and the database before the WAL may restart, and a
 *   restart overwrites only frames already checkpointed: no synced frame is lost to it.
 * - While a connection is open the -wal file keeps its inode: a WAL reset rewrites it in
 *   place, `journal_size_limit` truncates it in place, and it is deleted only when the last
 *   connection closes (after a full checkpoint). The file is opened at the first sync and
 *   opened again should its inode ever change; its directory is fsynced once each time, so
 *   the file's name survives a power loss too.
 */
export interface DurablePoint {
  /** Notes a commit that the next `durable()` must cover. */
  committed(): void;
  /** Notes a commit and resolves once it is on the disk (`committed()` then `durable()`). */
  afterCommit(): Promise<void>;
  /**
   * Resolves once every commit noted so far is on the disk: at once when they are, else
   * with a sync begun after the last of them (joining one already under way when it
   * began after that commit). Rejects when the sync fails; the next call tries again.
   */
  durable(): Promise<void>;
  close(): Promise<void>;
}

/** One sync of a database's WAL: how long it took, and why it failed. */
export interface WalSyncOutcome {
  readonly seconds: number;
  readonly error?: unknown;
}

export interface WalDurablePointOptions {
  /** Told of every sync (the ai_gateway_sqlite_sync_seconds histogram). */
  readonly onSync?: (outcome: WalSyncOutcome) => void;
  /** The sync itself; tests put a slow or failing one in. Default: fdatasync of `<db>-wal`. */
  readonly syncWal?: () => Promise<void>;
}

const DONE: Promise<void> = Promise.resolve();

/** Waits for nothing: an in-memory database, or AI_GATEWAY_SQLITE_SYNC=normal. */
export const NO_WAIT_DURABLE_POINT: DurablePoint = {
  committed: () => undefined,
  afterCommit: () => DONE,
  durable: () => DONE,
  close: () => DONE,
};

export class WalDurablePoint implements DurablePoint {
  // Commits noted; the first is what a previous process may have left unsynced in the WAL
  // (a process crash keeps it in the page cache only), so the first wait syncs too.
  private commits = 1;
  private syncedThrough = 0;
  private inFlight: { readonly through: number; readonly done: Promise<void> } | undefined;
  private next: Promise<void> | undefined;
  private readonly syncWal: () => Promise<void>;
  private readonly file: WalFile | undefined;

  constructor(
    dbPath: string,
    private readonly options: WalDurablePointOptions = {},
  ) {
    if (options.syncWal) {
      this.syncWal = options.syncWal;
    } else {
      const file = new WalFile(`${dbPath}-wal`);
      this.file = file;
      this.syncWal = () => file.datasync();
    }
  }

  committed(): void {
    this.commits++;
  }

  afterCommit(): Promise<void> {
    this.commits++;
    return this.durable();
  }

  durable(): Promise<void> {
    if (this.syncedThrough >= this.commits) return DONE;
    if (this.inFlight && this.inFlight.through >= this.commits) return this.inFlight.done;
    // The sync under way may have begun before the last commit: the next one, once it ends.
    if (this.inFlight) {
      this.next ??= this.inFlight.done
        .catch(() => undefined)
        .then(() => {
          this.next = undefined;
          return this.start();
        });
      return this.next;
    }
    return this.start();
  }

  async close(): Promise<void> {
    await this.file?.close();
  }

  private start(): Promise<void> {
    const through = this.commits;
    const started = performance.now();
    const done = this.syncWal().then(
      () => {
        this.syncedThrough = Math.max(this.syncedThrough, through);
        this.report(started);
      },
      (error: unknown) => {
        this.report(started, error);
        throw error;
      },
    );
    const inFlight = { through, done };
    this.inFlight = inFlight;
    const clear = () => {
      if (this.inFlight === inFlight) this.inFlight = undefined;
    };
    done.then(clear, clear);
    return done;
  }

  private report(started: number, error?: unknown): void {
    const seconds = (performance.now() - started) / 1000;
    this.options.onSync?.(error === undefined ? { seconds } : { seconds, error });
  }
}

/**
 * The -wal file, opened at its first sync (SQLite creates it at the first write after
 * opening in WAL mode) and again if its inode changed. Its absence is an error: while the
 * database is open with commits noted, it exists.
 */
export class WalFile {
  private handle: FileHandle | undefined;
  private openInode = -1;

  constructor(private readonly path: string) {}

  /** The inode of the file the handle syncs (-1 before the first sync). */
  get inode(): number {
    return this.openInode;
  }

  async datasync(): Promise<void> {
    // On the event loop: a stat of a file whose name is cached is a microsecond or two, and
    // the threadpool's round trip it replaces woke a second thread on the gateway's core
    // for every sync (~1% of the all-in-one's samples, 3-5% of the split services').
    const { ino } = statSync(this.path);
    if (!this.handle || ino !== this.openInode) await this.reopen();
    await this.handle?.datasync();
  }

  async close(): Promise<void> {
    const handle = this.handle;
    this.handle = undefined;
    await handle?.close().catch(() => undefined);
  }

  private async reopen(): Promise<void> {
    await this.close();
    // r+: fsync needs a writable descriptor on some systems; nothing is written through it.
    const handle = await open(this.path, 'r+');
    try {
      this.openInode = (await handle.stat()).ino;
      await syncDirectory(dirname(this.path)); // the file's name, not only its content
    } catch (error) {
      await handle.close().catch(() => undefined);
      throw error;
    }
    this.handle = handle;
  }
}

async function syncDirectory(path: string): Promise<void> {
  const directory = await open(path, 'r');
  try {
    await directory.sync();
  } finally {
    await directory.close();
  }
}

/**
 * The durable point of a store opened by `openWalDatabase` at `path`: waits for an fsync
 * with `sync` full, for nothing with normal or in memory.
 */
export function durablePointFor(
  path: string,
  sync: 'full' | 'normal',
  options: WalDurablePointOptions = {},
): DurablePoint {
  if (sync === 'normal' || path === ':memory:' || path === '') return NO_WAIT_DURABLE_POINT;
  return new WalDurablePoint(path, options);
}
