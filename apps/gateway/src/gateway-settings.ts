import { resolve } from 'node:path';
import { loadGatewayConfigFile, type GatewayConfig, type MissingSecretPolicy } from '@aigw/config';
import { StartupError } from '@aigw/runtime';

/** The quickstart config shipped in the repo, used when AI_GATEWAY_CONFIG is not set. */
export const QUICKSTART_CONFIG = 'config/quickstart.yaml';

export interface GatewaySettings {
  readonly configPath: string;
  /** The quickstart runs with missing keys; a user's own config refuses them by default. */
  readonly missingSecrets: MissingSecretPolicy;
  readonly host: string;
  readonly port: number;
  readonly adminPort: number;
  readonly maxBodyBytes: number;
}

type Env = Readonly<Record<string, string | undefined>>;

function port(env: Env, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 0 || value > 65_535) {
    throw new StartupError(`${name} must be a port number from 0 to 65535, got "${raw}"`);
  }
  return value;
}

function positiveInteger(env: Env, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value <= 0) {
    throw new StartupError(`${name} must be a positive whole number, got "${raw}"`);
  }
  return value;
}

export function readGatewaySettings(env: Env): GatewaySettings {
  const given = env.AI_GATEWAY_CONFIG;
  const missing = env.AI_GATEWAY_MISSING_SECRETS;
  if (missing !== undefined && missing !== 'error' && missing !== 'warn') {
    throw new StartupError(
      `AI_GATEWAY_MISSING_SECRETS must be "error" or "warn", got "${missing}"`,
    );
  }
  return {
    configPath: resolve(given ?? QUICKSTART_CONFIG),
    missingSecrets: missing ?? (given === undefined ? 'warn' : 'error'),
    host: env.HOST ?? '0.0.0.0',
    port: port(env, 'PORT', 8080),
    adminPort: port(env, 'ADMIN_PORT', 9901),
    maxBodyBytes: positiveInteger(env, 'AI_GATEWAY_MAX_BODY_BYTES', 4 * 1024 * 1024),
  };
}

/** The configuration in force; replaced on a good reload, kept on a bad one. */
export interface ConfigHolder {
  current(): GatewayConfig;
  close(): void;
}

type Log = (level: 'info' | 'warn' | 'error', message: string) => void;

export async function loadInitialConfig(
  settings: GatewaySettings,
  env: Env,
  log: Log,
): Promise<ConfigHolder> {
  const result = await loadGatewayConfigFile(settings.configPath, {
    missingSecrets: settings.missingSecrets,
    env,
  });
  if (!result.ok) {
    const first = result.errors[0]?.format() ?? 'invalid configuration';
    const more = result.errors.length > 1 ? ` (and ${result.errors.length - 1} more)` : '';
    throw new StartupError(`invalid configuration ${settings.configPath}: ${first}${more}`);
  }
  for (const note of result.inferences) log('info', `config: ${note}`);
  for (const warning of result.warnings) log('warn', `config: ${warning}`);
  const config = result.config;
  return { current: () => config, close: () => undefined };
}
