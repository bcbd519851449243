// Tells when something in the secrets directory may have changed. Kubernetes mounts each
// Secret as `<dir>/<name>/` and updates it by swapping a `..data` symlink inside that
// folder (or, for a projected volume, one `<dir>/..data` for all), so folders are watched,
// never single files (a file watch stays on the old inode). Only the `<name>` folders the
// config reads keys from are watched, so other traffic in the directory wakes nothing.
// Events only say "look again": the caller re-reads the keys and compares (and debounces).
// A timer looks again as well, for file systems whose events do not arrive (network mounts,
// some container runtimes) and for a directory that does not exist yet.
import { watch, type FSWatcher } from 'node:fs';
import { join } from 'node:path';
import { Debouncer } from './debounce';

export interface SecretsDirWatcherOptions {
  /** How often to look again whatever the events say; default 10 s. */
  readonly pollMs?: number;
  /** false: poll only, for file systems whose events are known not to arrive. */
  readonly fsEvents?: boolean;
  /** Quiet time before the folder watches are re-made after the directory changed. */
  readonly reattachDelayMs?: number;
  /** The longest a busy directory holds off re-making them. */
  readonly reattachMaxWaitMs?: number;
}

const DEFAULT_SECRETS_POLL_MS = 10_000;

export class SecretsDirWatcher {
  readonly #dir: string;
  readonly #onMaybeChanged: () => void;
  readonly #options: SecretsDirWatcherOptions;
  readonly #reattach: Debouncer;
  #names: ReadonlySet<string> = new Set();
  #top: FSWatcher | undefined;
  readonly #folders = new Map<string, FSWatcher>();
  #poll: NodeJS.Timeout | undefined;
  #closed = false;

  constructor(dir: string, onMaybeChanged: () => void, options: SecretsDirWatcherOptions = {}) {
    this.#dir = dir;
    this.#onMaybeChanged = onMaybeChanged;
    this.#options = options;
    this.#reattach = new Debouncer(
      () => {
        this.#attach();
        // Whatever changed between the directory's event and the new watches.
        this.#onMaybeChanged();
      },
      options.reattachDelayMs ?? 100,
      options.reattachMaxWaitMs ?? 1000,
    );
  }

  /** The `<name>` folders to watch (those the config in force reads keys from). */
  watchFolders(names: Iterable<string>): void {
    const next = new Set(names);
    if (next.size === this.#names.size && [...next].every((name) => this.#names.has(name))) {
      return;
    }
    this.#names = next;
    if (this.#top !== undefined) this.#attachFolders();
  }

  start(): void {
    this.#attach();
    this.#poll = setInterval(() => {
      // A directory created (or a watch lost) since the last look gets its watches now.
      if (this.#top === undefined) this.#attach();
      this.#onMaybeChanged();
    }, this.#options.pollMs ?? DEFAULT_SECRETS_POLL_MS);
    this.#poll.unref();
  }

  close(): void {
    this.#closed = true;
    clearInterval(this.#poll);
    this.#reattach.cancel();
    this.#detach();
  }

  /** Watches the directory and each watched `<name>` folder in it, afresh. */
  #attach(): void {
    if (this.#closed || this.#options.fsEvents === false) return;
    this.#detach();
    try {
      this.#top = watch(this.#dir, { persistent: false }, (_event, name) => {
        // A watched `<name>` made or replaced, or a projected volume's `..data` swap (some
        // platforms omit the name): its folder watch may be on the old inode.
        if (name === null || name.startsWith('..') || this.#names.has(name)) {
          this.#onMaybeChanged();
          this.#reattach.trigger();
        }
      });
    } catch {
      return; // absent or unreadable: the poll tries again
    }
    this.#top.on('error', () => this.#lost());
    this.#attachFolders();
  }

  #attachFolders(): void {
    for (const folder of this.#folders.values()) folder.close();
    this.#folders.clear();
    for (const name of this.#names) {
      try {
        const folder = watch(join(this.#dir, name), { persistent: false }, () =>
          this.#onMaybeChanged(),
        );
        folder.on('error', () => this.#lost());
        this.#folders.set(name, folder);
      } catch {
        // not there yet: the directory's event when it appears re-attaches
      }
    }
  }

  /** A watch broke (its folder went away): drop all, look now, re-attach shortly (or poll). */
  #lost(): void {
    this.#detach();
    this.#onMaybeChanged();
    this.#reattach.trigger();
  }

  #detach(): void {
    this.#top?.close();
    this.#top = undefined;
    for (const folder of this.#folders.values()) folder.close();
    this.#folders.clear();
  }
}
