// What a gateway process does before it creates anything: read the environment, load and
// validate the config file, and either hand back both or the one-line reasons it cannot start.
import { type GatewayConfig } from '../domain/gateway-config';
import { parseProcessSettings, type ProcessSettings } from '../env/process-settings';
import { loadGatewayConfigFile } from '../loader/load-config';
import { type MissingSecretPolicy } from '../loader/load-options';

export interface StartupConfig {
  readonly settings: ProcessSettings;
  readonly config: GatewayConfig;
  readonly warnings: readonly string[];
  readonly inferences: readonly string[];
  /** Documents the loader set aside (not gateway configuration), one line each. */
  readonly notes: readonly string[];
  /** The file text loaded (see ConfigWatcher's `initialText`). */
  readonly sourceText: string;
}

export type StartupConfigResult =
  | ({ readonly ok: true } & StartupConfig)
  | { readonly ok: false; readonly errors: readonly string[] };

export interface StartupOptions {
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Overrides AI_GATEWAY_CONFIG. */
  readonly path?: string;
  readonly missingSecrets?: MissingSecretPolicy;
}

export async function loadStartupConfig(
  options: StartupOptions = {},
): Promise<StartupConfigResult> {
  const env = options.env ?? process.env;
  const parsed = parseProcessSettings(env);
  if (!parsed.ok) return { ok: false, errors: parsed.errors };
  const settings = parsed.settings;
  const loaded = await loadGatewayConfigFile(options.path ?? settings.configPath, {
    env,
    ...(settings.secretsDir === undefined ? {} : { secretsDir: settings.secretsDir }),
    ...(options.missingSecrets === undefined ? {} : { missingSecrets: options.missingSecrets }),
  });
  if (!loaded.ok) return { ok: false, errors: loaded.errors.map((e) => e.format()) };
  return {
    ok: true,
    settings,
    config: loaded.config,
    warnings: loaded.warnings,
    inferences: loaded.inferences,
    notes: loaded.notes,
    sourceText: loaded.sourceText,
  };
}
