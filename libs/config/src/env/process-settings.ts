// Process-level settings from the environment: where the config file is, which ports to
// listen on, and which external services to use (absent = the embedded default).
import 'reflect-metadata';
import { plainToInstance } from 'class-transformer';
import { IsOptional, Matches, validateSync } from 'class-validator';

export const DEFAULT_CONFIG_PATH = 'config/quickstart.yaml';
export const DEFAULT_PORT = 8080;
export const DEFAULT_ADMIN_PORT = 9901;
export const DEFAULT_DATA_DIR = './data';

export interface ProcessSettings {
  /** AI_GATEWAY_CONFIG; relative paths are relative to the working directory. */
  readonly configPath: string;
  /** PORT: the OpenAI-compatible API. */
  readonly port: number;
  /** ADMIN_PORT: /healthz, /readyz, /metrics, /stats/prometheus. */
  readonly adminPort: number;
  /** AI_GATEWAY_SECRETS_DIR: mounted secrets, `<dir>/<name>/<key>`. */
  readonly secretsDir?: string;
  /** AI_GATEWAY_DATA_DIR: where the embedded stores persist. */
  readonly dataDir: string;
  /** KAFKA_BROKERS (comma-separated host:port); absent = in-process event bus. */
  readonly kafkaBrokers?: readonly string[];
  /** REDIS_URL; absent = embedded. May carry a password: do not log it. */
  readonly redisUrl?: string;
  /** CLICKHOUSE_URL; absent = embedded. May carry a password: do not log it. */
  readonly clickhouseUrl?: string;
}

const PORT = /^\d{1,5}$/;
const BROKERS = /^[A-Za-z0-9.-]+:\d{1,5}(,\s*[A-Za-z0-9.-]+:\d{1,5})*$/;

// Raw strings as they come from the environment; values are checked, never echoed,
// except ports (harmless, and the number is the useful part of the message).
class ProcessEnvDto {
  @IsOptional()
  @Matches(/\S/, { message: 'AI_GATEWAY_CONFIG: expected a file path' })
  AI_GATEWAY_CONFIG?: string;

  @IsOptional()
  @Matches(PORT, { message: 'PORT: expected a port number 0-65535 (0 picks a free port)' })
  PORT?: string;

  @IsOptional()
  @Matches(PORT, { message: 'ADMIN_PORT: expected a port number 0-65535 (0 picks a free port)' })
  ADMIN_PORT?: string;

  @IsOptional()
  @Matches(/\S/, { message: 'AI_GATEWAY_SECRETS_DIR: expected a directory path' })
  AI_GATEWAY_SECRETS_DIR?: string;

  @IsOptional()
  @Matches(/\S/, { message: 'AI_GATEWAY_DATA_DIR: expected a directory path' })
  AI_GATEWAY_DATA_DIR?: string;

  @IsOptional()
  @Matches(BROKERS, { message: 'KAFKA_BROKERS: expected host:port[,host:port...]' })
  KAFKA_BROKERS?: string;

  @IsOptional()
  @Matches(/^rediss?:\/\/\S+$/, { message: 'REDIS_URL: expected a redis:// or rediss:// URL' })
  REDIS_URL?: string;

  @IsOptional()
  @Matches(/^https?:\/\/\S+$/, { message: 'CLICKHOUSE_URL: expected an http:// or https:// URL' })
  CLICKHOUSE_URL?: string;
}

const KEYS = [
  'AI_GATEWAY_CONFIG',
  'PORT',
  'ADMIN_PORT',
  'AI_GATEWAY_SECRETS_DIR',
  'AI_GATEWAY_DATA_DIR',
  'KAFKA_BROKERS',
  'REDIS_URL',
  'CLICKHOUSE_URL',
] as const;

export type ProcessSettingsResult =
  | { readonly ok: true; readonly settings: ProcessSettings }
  | { readonly ok: false; readonly errors: string[] };

/** Reads and checks the process settings; each error is one line naming the variable. */
export function parseProcessSettings(
  env: Readonly<Record<string, string | undefined>> = process.env,
): ProcessSettingsResult {
  // An empty variable (`PORT=`) means "not set", as shells and compose files produce it.
  const raw: Partial<Record<(typeof KEYS)[number], string>> = {};
  for (const key of KEYS) {
    const value = env[key]?.trim();
    if (value !== undefined && value !== '') raw[key] = value;
  }
  const dto = plainToInstance(ProcessEnvDto, raw);
  const errors = validateSync(dto).flatMap((e) => Object.values(e.constraints ?? {}));
  const port = portValue('PORT', raw.PORT, DEFAULT_PORT, errors);
  const adminPort = portValue('ADMIN_PORT', raw.ADMIN_PORT, DEFAULT_ADMIN_PORT, errors);
  if (errors.length === 0 && port !== 0 && port === adminPort) {
    errors.push(`ADMIN_PORT: must differ from PORT (both are ${port})`);
  }
  if (errors.length > 0) return { ok: false, errors };
  const settings: ProcessSettings = {
    configPath: raw.AI_GATEWAY_CONFIG ?? DEFAULT_CONFIG_PATH,
    port,
    adminPort,
    dataDir: raw.AI_GATEWAY_DATA_DIR ?? DEFAULT_DATA_DIR,
    ...(raw.AI_GATEWAY_SECRETS_DIR === undefined ? {} : { secretsDir: raw.AI_GATEWAY_SECRETS_DIR }),
    ...(raw.KAFKA_BROKERS === undefined
      ? {}
      : { kafkaBrokers: raw.KAFKA_BROKERS.split(',').map((b) => b.trim()) }),
    ...(raw.REDIS_URL === undefined ? {} : { redisUrl: raw.REDIS_URL }),
    ...(raw.CLICKHOUSE_URL === undefined ? {} : { clickhouseUrl: raw.CLICKHOUSE_URL }),
  };
  return { ok: true, settings: Object.freeze(settings) };
}

function portValue(
  name: string,
  raw: string | undefined,
  fallback: number,
  errors: string[],
): number {
  if (raw === undefined) return fallback;
  const port = Number(raw);
  if (PORT.test(raw) && (port < 0 || port > 65535)) {
    errors.push(`${name}: expected a port number 0-65535 (0 picks a free port), got ${port}`);
  }
  return port;
}
