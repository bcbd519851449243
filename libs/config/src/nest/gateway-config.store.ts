// The config in force, for Nest consumers. Owns the file watcher: a good edit replaces
// `current` and notifies subscribers; a bad edit is logged and changes nothing.
import { Logger, type OnModuleDestroy } from '@nestjs/common';
import { type GatewayConfig } from '../domain/gateway-config';
import { type ConfigWatcher, type ConfigReload } from '../watcher/config-watcher';

export class GatewayConfigStore implements OnModuleDestroy {
  readonly #logger = new Logger('Config');
  #current: GatewayConfig;
  readonly #listeners = new Set<(reload: ConfigReload) => void>();
  readonly #watcher: ConfigWatcher | undefined;

  constructor(initial: GatewayConfig, watcher?: ConfigWatcher) {
    this.#current = initial;
    this.#watcher = watcher;
    watcher?.onReload((reload) => {
      this.#current = reload.config;
      this.#logger.log(`reloaded ${watcher.path} (${reload.trigger} changed)`);
      for (const line of reload.warnings) this.#logger.warn(line);
      for (const listener of this.#listeners) listener(reload);
    });
    watcher?.onInvalid((errors, trigger) => {
      this.#logger.error(
        `${watcher.path} has errors (after a ${trigger} change); keeping the last good config`,
      );
      for (const issue of errors) this.#logger.error(issue.format());
    });
  }

  get current(): GatewayConfig {
    return this.#current;
  }

  /** Called after each successful reload. Returns an unsubscribe function. */
  onChange(listener: (reload: ConfigReload) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  onModuleDestroy(): void {
    this.#watcher?.close();
  }
}
