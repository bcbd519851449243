// Reloads the config file when it changes. Watches the directory rather than the file:
// editors that save by rename-and-replace, and Kubernetes ConfigMap volumes (a symlink
// swap), replace the inode a file watch would be stuck on. Every event just schedules a
// debounced re-read; unchanged content is ignored. A bad edit is reported and the last
// good config stays current.
// The secrets directory is watched too (and polled): a key that appears or changes there
// reloads the last good config text with the keys as they are now, through the same path.
// An edit refused only because a key it names is missing waits for that key: its keys are
// watched too, and it loads once they appear, the file unchanged.
// The file and the secrets have debounces of their own, each with a maximum wait, so a
// busy secrets directory neither holds off a config edit nor its own reload for long.
// Environment variables cannot change in a running process, so they are never re-read.
// Events are not enough everywhere (some network filesystems send none, a ConfigMap swap
// can be missed), so the file is also polled (its text compared: a touch reloads nothing)
// and, where the process asks for it, re-read on a signal (SIGHUP).
// A reload parses in slices that give the event loop back every few milliseconds, so a
// large file does not hold up the requests in flight; the new config replaces the old in
// one assignment once it has loaded whole.
import { watch, type FSWatcher } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename, dirname, resolve } from 'node:path';
import { configTextDigest } from '../domain/config-digest';
import { ConfigIssue } from '../domain/config-issue';
import { type GatewayConfig } from '../domain/gateway-config';
import { parseGatewayConfigInSlices, type LoadResult } from '../loader/load-config';
import { type LoadOptions } from '../loader/load-options';
import { SECRETS_DIR_ENV, type SecretSources } from '../secrets/secret-resolver';
import { Debouncer } from './debounce';
import { SecretsDirWatcher } from './secrets-dir-watcher';
import { fingerprintNow, fingerprintOfConfig, secretFolderNames } from './secrets-fingerprint';

/** What changed: the file's text, or a key it refers to. */
export type ReloadTrigger = 'config file' | 'secrets';

/** What made the watcher look: a file event, the poll, the reload signal, or the secrets watch. */
export type ReloadCause = 'file event' | 'poll' | 'signal' | 'secrets watch';

/** How often the file's text is compared whatever its events say; 0 turns the poll off. */
export const DEFAULT_CONFIG_POLL_MS = 10_000;

export interface ConfigReload {
  readonly config: GatewayConfig;
  readonly warnings: readonly string[];
  readonly inferences: readonly string[];
  readonly trigger: ReloadTrigger;
  readonly cause: ReloadCause;
  /** configTextDigest() of the text now in force. */
  readonly digest: string;
  /**
   * Whether that text is the file's as it is on disk: false when the last good text was
   * reloaded for its keys while a refused edit of the file stays there.
   */
  readonly fileInForce: boolean;
}

export interface ConfigWatcherOptions extends LoadOptions {
  /** Quiet time after the last file event before re-reading; default 150 ms. */
  readonly debounceMs?: number;
  /** The longest a burst of events holds off the re-read; default 1 s. */
  readonly debounceMaxWaitMs?: number;
  /** How often the secrets directory is looked at whatever its events say; default 10 s. */
  readonly secretsPollMs?: number;
  /** false: the secrets directory is polled only (for mounts whose events do not arrive). */
  readonly secretsFsEvents?: boolean;
  /** How often the config file's text is compared; default 10 s, 0 = no poll. */
  readonly pollMs?: number;
  /** false: the config file is not watched for events (poll and signal only). */
  readonly fileFsEvents?: boolean;
  /** A signal that re-reads the file and keys at once (the services pass SIGHUP). */
  readonly reloadSignal?: NodeJS.Signals;
  /**
   * Told when a reload or invalid-edit listener throws (the other listeners still run, and
   * later edits still reload). Default: a process warning naming the error's kind.
   */
  readonly onListenerError?: (error: unknown) => void;
}

type Listener<T> = (value: T, trigger: ReloadTrigger, cause: ReloadCause) => void;

/** A refused text that loads without its missing keys: the config it gives, and their digest. */
interface WaitingForKeys {
  readonly text: string;
  readonly config: GatewayConfig;
  keysSeen: string;
}

export class ConfigWatcher {
  readonly path: string;
  #current: GatewayConfig | undefined;
  #lastText: string | undefined;
  /** The text of the config in force, reloaded when only the keys changed. */
  #lastGoodText: string | undefined;
  /** Digest of the keys last loaded (or last seen on disk, when that load failed). */
  #keysSeen: string | undefined;
  /** configTextDigest() of the text of the config in force, when known. */
  #currentDigest: string | undefined;
  /** Looks in a row that could not read the file (see #unreadable). */
  #unreadableLooks = 0;
  /** The file's text, refused only for keys it names that are missing (see #awaitKeys). */
  #waitingForKeys: WaitingForKeys | undefined;
  #fsWatcher: FSWatcher | undefined;
  #secretsWatcher: SecretsDirWatcher | undefined;
  #fileDebounce: Debouncer | undefined;
  #secretsDebounce: Debouncer | undefined;
  #pollTimer: NodeJS.Timeout | undefined;
  #signalHandler: (() => void) | undefined;
  #closed = false;
  #reloading: Promise<void> = Promise.resolve();
  readonly #options: ConfigWatcherOptions;
  readonly #onReload = new Set<Listener<ConfigReload>>();
  readonly #onInvalid = new Set<Listener<readonly ConfigIssue[]>>();

  /**
   * `initial`: a config the caller already loaded from the file, with `initialText`, the
   * `sourceText` of that load: a file that differs from it by the start (edited in between)
   * is loaded then, and a key change reloads that text. Without the text, the file at the
   * start is taken as loaded.
   */
  constructor(
    path: string,
    options: ConfigWatcherOptions = {},
    initial?: GatewayConfig,
    initialText?: string,
  ) {
    this.path = resolve(path);
    this.#options = options;
    this.#current = initial;
    if (initial !== undefined && initialText !== undefined) {
      this.#lastText = initialText;
      this.#lastGoodText = initialText;
      this.#currentDigest = configTextDigest(initialText);
    }
  }

  /** The last config that loaded without errors. */
  get current(): GatewayConfig | undefined {
    return this.#current;
  }

  /**
   * What the file on disk would give once the keys it names and lacks appear, while such an
   * edit is refused and waits for them (its backends without a key have no `apiKey`).
   */
  get waitingForKeys(): GatewayConfig | undefined {
    return this.#waitingForKeys?.config;
  }

  /** configTextDigest() of the file text the config in force was loaded from, when known. */
  get currentDigest(): string | undefined {
    return this.#currentDigest;
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
    let editedSinceLoad = false;
    if (this.#current === undefined) {
      first = await this.#load(true, 'file event');
    } else {
      const text = await readFile(this.path, 'utf8').catch(() => undefined);
      if (this.#lastGoodText === undefined) {
        this.#lastText = text;
        this.#lastGoodText = text;
      } else {
        // Edited after the caller's load: the look below loads it (no event may come for
        // it; taking it as loaded would keep the older config until the next edit).
        editedSinceLoad = text !== undefined && text !== this.#lastText;
      }
      this.#keysSeen = fingerprintOfConfig(this.#current);
    }
    if (this.#closed) return first;
    if (this.#options.fileFsEvents !== false) this.#watchFileEvents();
    this.#startPoll();
    this.#listenForSignal();
    const secretsDir = this.#secretSources().secretsDir;
    if (secretsDir !== undefined && this.#options.missingSecrets !== 'not-needed') {
      const secretsDebounce = this.#debouncer('secrets watch');
      this.#secretsDebounce = secretsDebounce;
      this.#secretsWatcher = new SecretsDirWatcher(secretsDir, () => secretsDebounce.trigger(), {
        reattachDelayMs: this.#options.debounceMs ?? 150,
        reattachMaxWaitMs: this.#options.debounceMaxWaitMs ?? 1000,
        ...(this.#options.secretsPollMs === undefined
          ? {}
          : { pollMs: this.#options.secretsPollMs }),
        ...(this.#options.secretsFsEvents === undefined
          ? {}
          : { fsEvents: this.#options.secretsFsEvents }),
      });
      if (this.#current !== undefined) {
        this.#secretsWatcher.watchFolders(secretFolderNames(this.#current));
      }
      this.#secretsWatcher.start();
    }
    if (editedSinceLoad) void this.reload('file event');
    return first;
  }

  /**
   * Re-reads the file now (also what a file event triggers, after the debounce). Nothing
   * happens unless its text or a key it names changed.
   */
  reload(cause: ReloadCause = 'signal'): Promise<void> {
    // Never rejects: a rejected link would skip every later reload (and, started by a file
    // event, be an unhandled rejection that ends the process).
    this.#reloading = this.#reloading.then(async () => {
      await this.#load(false, cause).catch((error: unknown) => this.#listenerFailed(error));
    });
    return this.#reloading;
  }

  close(): void {
    // A reload already reading when this is called must not notify anyone afterwards.
    this.#closed = true;
    this.#fileDebounce?.cancel();
    this.#secretsDebounce?.cancel();
    clearInterval(this.#pollTimer);
    this.#pollTimer = undefined;
    if (this.#signalHandler && this.#options.reloadSignal) {
      process.off(this.#options.reloadSignal, this.#signalHandler);
    }
    this.#signalHandler = undefined;
    this.#fsWatcher?.close();
    this.#fsWatcher = undefined;
    this.#secretsWatcher?.close();
    this.#secretsWatcher = undefined;
  }

  #watchFileEvents(): void {
    const fileDebounce = this.#debouncer('file event');
    this.#fileDebounce = fileDebounce;
    const file = basename(this.path);
    this.#fsWatcher = watch(dirname(this.path), { persistent: false }, (_event, name) => {
      // Some platforms omit the name; "..data" is the ConfigMap symlink swap.
      if (name === null || name === file || name.startsWith('..')) fileDebounce.trigger();
    });
    this.#fsWatcher.on('error', () => fileDebounce.trigger());
  }

  #startPoll(): void {
    const pollMs = this.#options.pollMs ?? DEFAULT_CONFIG_POLL_MS;
    if (pollMs <= 0) return;
    // Text compared in #load: a poll over an unchanged file notifies no one.
    this.#pollTimer = setInterval(() => void this.reload('poll'), pollMs);
    this.#pollTimer.unref();
  }

  #listenForSignal(): void {
    const signal = this.#options.reloadSignal;
    if (signal === undefined) return;
    this.#signalHandler = () => void this.reload('signal');
    process.on(signal, this.#signalHandler);
  }

  /** Where keys are read from: the same places the loader looks. */
  #secretSources(): SecretSources {
    const env = this.#options.env ?? process.env;
    const dir = this.#options.secretsDir ?? env[SECRETS_DIR_ENV];
    return { env, ...(dir === undefined || dir === '' ? {} : { secretsDir: dir }) };
  }

  /** The text to load now and why, or undefined when neither the file nor a key changed. */
  #whatToLoad(
    text: string,
    cause: ReloadCause,
  ): { text: string; trigger: ReloadTrigger; waitedForKeys?: true } | undefined {
    if (text !== this.#lastText) return { text, trigger: 'config file' };
    // The secrets directory has a poll of its own; this one reads the config file only.
    if (cause === 'poll') return undefined;
    const sources = this.#secretSources();
    if (sources.secretsDir === undefined) return undefined;
    if (this.#options.missingSecrets === 'not-needed') return undefined;
    // The file as it is now, waiting for its keys: tried again when they changed.
    const waiting = this.#waitingForKeys;
    if (waiting?.text === text) {
      const waitingKeysNow = fingerprintNow(waiting.config, sources);
      if (waitingKeysNow !== waiting.keysSeen) {
        waiting.keysSeen = waitingKeysNow;
        return { text, trigger: 'secrets', waitedForKeys: true };
      }
    }
    if (this.#current === undefined) return undefined;
    const keysNow = fingerprintNow(this.#current, sources);
    if (keysNow === this.#keysSeen) return undefined;
    // Seen, whatever the load makes of it: a failing load is not retried until the keys
    // change again (or the file does).
    this.#keysSeen = keysNow;
    return { text: this.#lastGoodText ?? text, trigger: 'secrets' };
  }

  /** Calls each listener; one that throws is reported and the others still run. */
  #notify<T>(
    listeners: ReadonlySet<Listener<T>>,
    value: T,
    trigger: ReloadTrigger,
    cause: ReloadCause,
  ): void {
    for (const listener of listeners) {
      try {
        listener(value, trigger, cause);
      } catch (error) {
        this.#listenerFailed(error);
      }
    }
  }

  #listenerFailed(error: unknown): void {
    if (this.#options.onListenerError) this.#options.onListenerError(error);
    else {
      const kind = error instanceof Error ? error.name : typeof error;
      process.emitWarning(`a config reload listener failed (${kind})`, 'ConfigWatcherWarning');
    }
  }

  #debouncer(cause: ReloadCause): Debouncer {
    return new Debouncer(
      () => void this.reload(cause),
      this.#options.debounceMs ?? 150,
      this.#options.debounceMaxWaitMs ?? 1000,
    );
  }

  /** `followUp`: the look right after a text waiting for its keys was refused again. */
  async #load(
    initial: boolean,
    cause: ReloadCause,
    followUp = false,
  ): Promise<LoadResult | undefined> {
    const source = this.#options.sourceName ?? this.path;
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
    } catch (error) {
      if (this.#closed) return undefined;
      const code = (error as NodeJS.ErrnoException).code ?? 'unknown error';
      const errors = [
        new ConfigIssue(undefined, '', `cannot read config file: ${code}`, undefined, source),
      ];
      if (!initial) return this.#unreadable(errors, cause);
      this.#notify(this.#onInvalid, errors, 'config file', cause);
      return { ok: false, errors };
    }
    this.#unreadableLooks = 0;
    if (this.#closed) return undefined;
    const next = this.#whatToLoad(text, cause);
    if (next === undefined) return undefined;
    const { trigger } = next;
    this.#lastText = text;
    const result = await parseGatewayConfigInSlices(next.text, {
      ...this.#options,
      sourceName: source,
    });
    // Closed while it was parsing: no one is told.
    if (this.#closed) return undefined;
    if (result.ok) {
      const digest = configTextDigest(result.sourceText);
      this.#current = result.config;
      this.#currentDigest = digest;
      this.#lastGoodText = next.text;
      this.#keysSeen = fingerprintOfConfig(result.config);
      // Not when the last good text was reloaded for its keys: an edit waiting still waits.
      if (trigger === 'config file' || next.waitedForKeys) this.#waitingForKeys = undefined;
      this.#watchKeyFolders();
      const reload: ConfigReload = {
        config: result.config,
        warnings: result.warnings,
        inferences: result.inferences,
        trigger,
        cause,
        digest,
        fileInForce: next.text === text,
      };
      this.#notify(this.#onReload, reload, trigger, cause);
    } else {
      if (next.text === text) await this.#awaitKeys(text, source);
      if (this.#closed) return undefined;
      this.#notify(this.#onInvalid, result.errors, trigger, cause);
      // Refused again while it waits: a key of the config in force may have changed too (a
      // rotation in the same Secret), looked at now rather than at the next event.
      if (next.waitedForKeys && !followUp) await this.#load(false, cause, true);
    }
    return result;
  }

  /**
   * A look that could not read the file. Mid-save (a rename) it can be absent for a moment,
   * so the first such look only asks for another shortly; the second in a row is reported
   * once, as a refused reload (deleted, or a ConfigMap key renamed: the last good config
   * stays, and the next start would fail). Its return is loaded whatever its text, so the
   * listeners hear that the file is in force again.
   */
  #unreadable(errors: ConfigIssue[], cause: ReloadCause): undefined {
    this.#unreadableLooks += 1;
    if (this.#unreadableLooks === 1) this.#fileDebounce?.trigger();
    if (this.#unreadableLooks !== 2) return undefined;
    this.#lastText = undefined;
    this.#notify(this.#onInvalid, errors, 'config file', cause);
    return undefined;
  }

  /**
   * After the file's text was refused: when a missing key is all that is wrong with it, the
   * keys it names are watched, so it loads once the operator adds them (the file itself
   * need not change again). Found by loading it as if missing keys were allowed.
   */
  async #awaitKeys(text: string, source: string): Promise<void> {
    this.#waitingForKeys = undefined;
    if ((this.#options.missingSecrets ?? 'error') !== 'error') return;
    const withoutKeys = await parseGatewayConfigInSlices(text, {
      ...this.#options,
      sourceName: source,
      missingSecrets: 'warn',
    });
    if (!withoutKeys.ok || this.#closed) return;
    // A key that appeared after the refusal, before the look above, is already in this
    // digest: if the text loads now, an empty digest has the next look try it again.
    const loadsNow = (
      await parseGatewayConfigInSlices(text, { ...this.#options, sourceName: source })
    ).ok;
    this.#waitingForKeys = {
      text,
      config: withoutKeys.config,
      keysSeen: loadsNow ? '' : fingerprintOfConfig(withoutKeys.config),
    };
    this.#watchKeyFolders();
  }

  /** The `<name>` folders of the config in force and of a text waiting for its keys. */
  #watchKeyFolders(): void {
    const names = new Set<string>();
    if (this.#current !== undefined) secretFolderNames(this.#current).forEach((n) => names.add(n));
    const waiting = this.#waitingForKeys?.config;
    if (waiting !== undefined) secretFolderNames(waiting).forEach((n) => names.add(n));
    this.#secretsWatcher?.watchFolders(names);
  }
}
