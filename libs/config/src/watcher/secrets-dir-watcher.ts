// Tells when something in the secrets directory may have changed. Kubernetes mounts each
// Secret as `<dir>/<name>/` and updates it by swapping a `..data` symlink inside that
// folder, so the folders are watched, never single files (a file watch stays on the old
// inode). Events only say "look again": the caller re-reads the keys and compares. A
// timer looks again as well, for file systems whose events do not arrive (network mounts,
// some container runtimes) and for a directory that does not exist yet.
import { readdirSync, watch, type FSWatcher } from 'node:fs';
import { join } from 'node:path';

export interface SecretsDirWatcherOptions {
  /** How often to look again whatever the events say; default 10 s. */
  readonly pollMs?: number;
  /** false: poll only, for file systems whose events are known not to arrive. */
  readonly fsEvents?: boolean;
}

export const DEFAULT_SECRETS_POLL_MS = 10_000;

export class SecretsDirWatcher {
  readonly #dir: string;
  readonly #onMaybeChanged: () => void;
  readonly #options: SecretsDirWatcherOptions;
  #top: FSWatcher | undefined;
  readonly #folders = new Map<string, FSWatcher>();
  #poll: NodeJS.Timeout | undefined;
  #closed = false;

  constructor(dir: string, onMaybeChanged: () => void, options: SecretsDirWatcherOptions = {}) {
    this.#dir = dir;
    this.#onMaybeChanged = onMaybeChanged;
    this.#options = options;
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
    this.#detach();
  }

  /** Watches the directory and each `<name>` folder in it, afresh. */
  #attach(): void {
    if (this.#closed || this.#options.fsEvents === false) return;
    this.#detach();
    try {
      this.#top = watch(this.#dir, { persistent: false }, () => {
        // A new or swapped `<name>` (a projected volume swaps `..data` here): re-attach.
        this.#attach();
        this.#onMaybeChanged();
      });
    } catch {
      return; // absent or unreadable: the poll tries again
    }
    this.#top.on('error', () => this.#lost());
    for (const name of this.#subfolders()) {
      try {
        const folder = watch(join(this.#dir, name), { persistent: false }, () =>
          this.#onMaybeChanged(),
        );
        folder.on('error', () => this.#lost());
        this.#folders.set(name, folder);
      } catch {
        // removed meanwhile: the directory's own event re-attaches
      }
    }
  }

  #subfolders(): string[] {
    try {
      return readdirSync(this.#dir, { withFileTypes: true })
        .filter((entry) => entry.isDirectory() || entry.isSymbolicLink())
        .map((entry) => entry.name);
    } catch {
      return [];
    }
  }

  /** A watch broke (its folder went away): drop all, look now, re-attach on the next poll. */
  #lost(): void {
    this.#detach();
    this.#onMaybeChanged();
  }

  #detach(): void {
    this.#top?.close();
    this.#top = undefined;
    for (const folder of this.#folders.values()) folder.close();
    this.#folders.clear();
  }
}
