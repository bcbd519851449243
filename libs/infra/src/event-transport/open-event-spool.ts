import { existsSync, renameSync } from 'node:fs';
import { EventSpool, type EventSpoolOptions } from './event-spool';
import { UnreadableSpoolError } from './unreadable-spool-error';

/** A spool file that could not be read, moved out of the way. */
export interface SetAsideSpool {
  /** Where the unreadable file now is (with its `-wal`, when it had one). */
  readonly movedTo: string;
  /** SQLite's words for it. */
  readonly reason: string;
}

export interface OpenedSpool {
  readonly spool: EventSpool;
  /** Present when the file found was unreadable and a fresh spool took its place. */
  readonly setAside?: SetAsideSpool;
}

/**
 * Opens the spool at `path`. One SQLite cannot read (corrupted, torn) is renamed to
 * `<path>.unreadable-<ms>` and an empty spool opened in its place: the events it held
 * cannot be replayed by anyone, and refusing to start over them would stop the service at
 * every start, a worse loss than theirs. The file is kept for an operator to look at.
 * Any other failure (the spool in use by another process, no permission) stops the start.
 */
export function openEventSpool(
  path: string,
  options: EventSpoolOptions = {},
  now: () => number = Date.now,
): OpenedSpool {
  try {
    return { spool: new EventSpool(path, options) };
  } catch (error) {
    if (!(error instanceof UnreadableSpoolError) || path === ':memory:') throw error;
    const movedTo = `${path}.unreadable-${now()}`;
    // The WAL goes with its file: SQLite reads them together, and a stale one must not be
    // replayed into the fresh spool.
    for (const suffix of ['', '-wal', '-shm']) {
      if (existsSync(path + suffix)) renameSync(path + suffix, movedTo + suffix);
    }
    return { spool: new EventSpool(path, options), setAside: { movedTo, reason: error.reason } };
  }
}
