// Reloads the config file when it changes. Watches the directory rather than the file:
// editors that save by rename-and-replace, and Kubernetes ConfigMap volumes (a symlink
// swap), replace the inode a file watch would be stuck on. Every event just schedules a
// debounced re-read; unchanged content is ignored. A bad edit is reported and the last
// good config stays current.
import { watch, type FSWatcher } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename, dirname, resolve } from 'node:path';
import { ConfigIssue } from '../domain/config-issue';
import { type GatewayConfig } from '../domain/gateway-config';
import { parseGatewayConfig, type LoadResult } from '../loader/load-config';
import { type LoadOptions } from '../loader/load-options';

export interface ConfigReload {
  readonly config: GatewayConfig;
  readonly warnings: readonly string[];
  readonly inferences: readonly string[];
}

export interface ConfigWatcherOptions extends LoadOptions {
  /** Quiet time after the last file event before re-reading; default 150 ms. */
  readonly debounceMs?: number;
}

type Listener<T> = (value: T) => void;

export class ConfigWatcher {
  readonly path: string;
  #current: GatewayConfig | undefined;
  #lastText: string | undefined;
  #fsWatcher: FSWatcher | undefined;
  #timer: NodeJS.Timeout | undefined;
  #reloading: Promise<void> = Promise.resolve();
  readonly #options: ConfigWatcherOptions;
  readonly #onReload = new Set<Listener<ConfigReload>>();
  readonly #onInvalid = new Set<Listener<readonly ConfigIssue[]>>();

  constructor(path: string, options: ConfigWatcherOptions = {}, initial?: GatewayConfig) {
    this.path = resolve(path);
    this.#options = options;
    this.#current = initial;
  }

  /** The last config that loaded without errors. */
  get current(): GatewayConfig | undefined {
    return this.#current;
  }

  /** Called with each new good config. Returns an unsubscribe function. */
  onReload(listener: Listener<ConfigReload>): () => void {
    this.#onReload.add(listener);
    return () => this.#onReload.delete(listener);
  }

  /** Called with the errors of a bad edit (the previous config stays current). */
  onInvalid(listener: Listener<readonly ConfigIssue[]>): () => void {
    this.#onInvalid.add(listener);
    return () => this.#onInvalid.delete(listener);
  }

  /** Loads the file once (unless an initial config was given) and starts watching. */
  async start(): Promise<LoadResult | undefined> {
    let first: LoadResult | undefined;
    if (this.#current === undefined) {
      first = await this.#load(true);
    } else {
      this.#lastText = await readFile(this.path, 'utf8').catch(() => undefined);
    }
    const file = basename(this.path);
    this.#fsWatcher = watch(dirname(this.path), { persistent: false }, (_event, name) => {
      // Some platforms omit the name; "..data" is the ConfigMap symlink swap.
      if (name === null || name === file || name.startsWith('..')) this.#schedule();
    });
    this.#fsWatcher.on('error', () => this.#schedule());
    return first;
  }

  /** Re-reads the file now (also what a file event triggers, after the debounce). */
  reload(): Promise<void> {
    this.#reloading = this.#reloading.then(async () => {
      await this.#load(false);
    });
    return this.#reloading;
  }

  close(): void {
    clearTimeout(this.#timer);
    this.#fsWatcher?.close();
    this.#fsWatcher = undefined;
  }

  #schedule(): void {
    if (this.#fsWatcher === undefined) return;
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => void this.reload(), this.#options.debounceMs ?? 150);
    this.#timer.unref();
  }

  async #load(initial: boolean): Promise<LoadResult | undefined> {
    const source = this.#options.sourceName ?? this.path;
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
    } catch (error) {
      // Mid-rename the file can be briefly absent; the rename's own event retries.
      if (!initial) return undefined;
      const code = (error as NodeJS.ErrnoException).code ?? 'unknown error';
      const errors = [
        new ConfigIssue(undefined, '', `cannot read config file: ${code}`, undefined, source),
      ];
      for (const listener of this.#onInvalid) listener(errors);
      return { ok: false, errors };
    }
    if (text === this.#lastText) return undefined;
    this.#lastText = text;
    const result = parseGatewayConfig(text, { ...this.#options, sourceName: source });
    if (result.ok) {
      this.#current = result.config;
      const reload: ConfigReload = {
        config: result.config,
        warnings: result.warnings,
        inferences: result.inferences,
      };
      for (const listener of this.#onReload) listener(reload);
    } else {
      for (const listener of this.#onInvalid) listener(result.errors);
    }
    return result;
  }
}
