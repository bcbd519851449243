// Nest wiring: ConfigModule.forRoot() provides ProcessSettings and the live config store
// to the whole application (global module).
import { Module, type DynamicModule } from '@nestjs/common';
import { type GatewayConfig } from '../domain/gateway-config';
import { parseProcessSettings, type ProcessSettings } from '../env/process-settings';
import { loadGatewayConfigFile } from '../loader/load-config';
import { type MissingSecretPolicy } from '../loader/load-options';
import { ConfigLoadError } from '../startup/config-load.errors';
import { type StartupConfig } from '../startup/load-startup-config';
import { ConfigWatcher } from '../watcher/config-watcher';
import { GATEWAY_CONFIG, PROCESS_SETTINGS } from './config.tokens';
import { GatewayConfigStore } from './gateway-config.store';

export interface ConfigModuleOptions {
  /** Config file; default AI_GATEWAY_CONFIG, else config/quickstart.yaml. */
  readonly path?: string;
  /** Default process.env. */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Default `error`. */
  readonly missingSecrets?: MissingSecretPolicy;
  /** Reload on file change; default true. */
  readonly watch?: boolean;
  /**
   * A config the caller already loaded with loadStartupConfig(), so bad input is reported
   * before Nest starts (recommended: Nest would otherwise log the failure its own way).
   */
  readonly preloaded?: StartupConfig;
}

@Module({})
export class ConfigModule {
  static forRoot(options: ConfigModuleOptions = {}): DynamicModule {
    const env = options.env ?? process.env;
    return {
      module: ConfigModule,
      global: true,
      providers: [
        {
          provide: PROCESS_SETTINGS,
          useFactory: (): ProcessSettings => {
            if (options.preloaded) return options.preloaded.settings;
            const parsed = parseProcessSettings(env);
            if (!parsed.ok) throw new ConfigLoadError(parsed.errors);
            return parsed.settings;
          },
        },
        {
          provide: GatewayConfigStore,
          inject: [PROCESS_SETTINGS],
          useFactory: async (settings: ProcessSettings): Promise<GatewayConfigStore> => {
            const path = options.path ?? settings.configPath;
            const loadOptions = {
              env,
              ...(settings.secretsDir === undefined ? {} : { secretsDir: settings.secretsDir }),
              ...(options.missingSecrets === undefined
                ? {}
                : { missingSecrets: options.missingSecrets }),
            };
            let initial: { config: GatewayConfig; sourceText: string } | undefined =
              options.preloaded;
            if (initial === undefined) {
              const loaded = await loadGatewayConfigFile(path, loadOptions);
              if (!loaded.ok) throw new ConfigLoadError(loaded.errors.map((e) => e.format()));
              initial = loaded;
            }
            if (options.watch === false) return new GatewayConfigStore(initial.config);
            const watcher = new ConfigWatcher(
              path,
              loadOptions,
              initial.config,
              initial.sourceText,
            );
            await watcher.start();
            return new GatewayConfigStore(initial.config, watcher);
          },
        },
        { provide: GATEWAY_CONFIG, useExisting: GatewayConfigStore },
      ],
      exports: [PROCESS_SETTINGS, GatewayConfigStore, GATEWAY_CONFIG],
    };
  }
}
