import {
  configTextDigest,
  ConfigWatcher,
  DEFAULT_CONFIG_POLL_MS,
  loadStartupConfig,
  nonNegativeIntegerSetting,
  positiveIntegerSetting,
  type ReloadCause,
  type GatewayConfig,
  type MissingSecretPolicy,
  type ProcessSettings,
} from '@aigw/config';
import type { SqliteSync } from '@aigw/embedded';
import type { ConfigReloadTrigger, Logger } from '@aigw/observability';
import { adminAccessFrom, type AdminAccess } from './admin-access';
import { corsOriginsFrom, type CorsOrigins } from './cors-origins';
import { startupSetting, StartupError } from './listen';
import { sqliteSync } from './sqlite-sync-setting';

export type Env = Readonly<Record<string, string | undefined>>;

/** Settings every service process shares beyond `ProcessSettings`. */
export interface ServiceSettings extends ProcessSettings {
  readonly host: string;
  readonly maxBodyBytes: number;
  /**
   * A streamed file upload's limit (`POST /v1/files`, AI_GATEWAY_MAX_FILE_BYTES), apart from
   * the body limit: an upload is never held whole, so it may be far larger than a JSON body.
   */
  readonly maxFileBytes: number;
  /** How long an edge client may take to send a whole request (headers and body). */
  readonly requestReceiveTimeoutMs: number;
  /** Refuse a missing key (default) or skip its backend; a key marked optional never refuses. */
  readonly missingSecrets: MissingSecretPolicy;
  /** Browser origins allowed to call the API; unset sends no CORS headers. */
  readonly corsOrigins?: CorsOrigins;
  /** Who may call the admin port's operator routes (AI_GATEWAY_ADMIN_TOKEN). */
  readonly adminAccess: AdminAccess;
  /** How the SQLite stores under the data directory commit (AI_GATEWAY_SQLITE_SYNC). */
  readonly sqliteSync: SqliteSync;
}

/**
 * The largest request body taken by default: 32 MiB, Anthropic's own request limit. Images
 * travel inside the JSON as base64 (a phone photo is 4-7 MB of it), so the 4 MiB this was
 * refused ordinary vision requests with a 413.
 */
export const DEFAULT_MAX_BODY_BYTES = 32 * 1024 * 1024;

/** The largest file upload taken by default: 200 MiB, OpenAI's limit for a batch input file. */
export const DEFAULT_MAX_FILE_BYTES = 200 * 1024 * 1024;

/** How often the config file's text is compared besides its events; 0 = events and SIGHUP only. */
export const CONFIG_POLL_MS_SETTING = 'AI_GATEWAY_CONFIG_POLL_MS';

/** A whole number > 0 from the environment, or the fallback; shared with the libraries. */
export const positiveInteger = positiveIntegerSetting;

/** An http(s) URL a service must be given (ROUTER_URL, PROVIDER_ADAPTER_URL). */
export function requiredUrl(env: Env, name: string): URL {
  const raw = env[name]?.trim();
  if (!raw) throw new StartupError(`${name} is required (the http:// address of the service)`);
  return checkedHttpUrl(name, raw);
}

/**
 * `raw`, the value of `name`, as an http(s) URL without credentials; otherwise a one-line
 * start-up error, which never echoes credentials (they would land in a log), and says where
 * they go instead when `credentialsHint` does.
 */
export function checkedHttpUrl(name: string, raw: string, credentialsHint?: string): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new StartupError(`${name} must be an http:// or https:// URL, got "${raw}"`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new StartupError(`${name} must be an http:// or https:// URL, got "${raw}"`);
  }
  if (url.username || url.password) {
    const hint = credentialsHint ? ` (${credentialsHint})` : '';
    throw new StartupError(`${name} must not carry credentials${hint}`);
  }
  return url;
}

function missingSecretPolicy(
  env: Env,
  fallback: MissingSecretPolicy | undefined,
): MissingSecretPolicy {
  const given = env.AI_GATEWAY_MISSING_SECRETS;
  if (given !== undefined && given !== '' && given !== 'error' && given !== 'warn') {
    throw new StartupError(`AI_GATEWAY_MISSING_SECRETS must be "error" or "warn", got "${given}"`);
  }
  // A service that never calls a provider reads no key, whatever a shared environment says.
  if (fallback === 'not-needed') return fallback;
  if (given === 'error' || given === 'warn') return given;
  // Not by the file's name: a file whose keys may be missing says so (apiKeyRef.optional,
  // as the quickstart does), so it behaves the same however AI_GATEWAY_CONFIG names it.
  return fallback ?? 'error';
}

/** The configuration in force: replaced on a good reload, kept on a bad one. */
export interface ConfigHolder {
  readonly settings: ServiceSettings;
  current(): GatewayConfig;
  /** configTextDigest() of the file text the config in force was loaded from. */
  currentDigest(): string;
  /** The config of an edit refused only for keys it lacks, while it waits for them. */
  waitingForKeys(): GatewayConfig | undefined;
  /** Calls `listener` with each configuration a good reload puts in force. */
  onReload(listener: (config: GatewayConfig) => void): void;
  close(): void;
}

export interface ServiceConfigOptions {
  /**
   * What a missing secret does when AI_GATEWAY_MISSING_SECRETS is unset. Default: refuse,
   * except a key the file marks `optional: true` (the quickstart's). A service that never injects
   * keys (ingress) passes `warn`; one that never calls a provider (the split router) passes
   * `not-needed`, which AI_GATEWAY_MISSING_SECRETS does not override.
   */
  readonly missingSecrets?: MissingSecretPolicy;
}

/**
 * Reads the environment and the config file before anything starts, so a bad value is
 * a one-line cause and a non-zero exit; then watches the file for edits.
 */
export async function loadServiceConfig(
  env: Env,
  logger: Logger,
  /**
   * After each reload applied or rejected, with the digest of the config in force after it,
   * and whether that config is the file on disk (see ConfigReload's `fileInForce`).
   */
  onReload: (
    success: boolean,
    cause: ReloadCause,
    digestInForce: string,
    fileInForce: boolean,
  ) => void,
  options: ServiceConfigOptions = {},
): Promise<ConfigHolder> {
  const missingSecrets = missingSecretPolicy(env, options.missingSecrets);
  const sync = sqliteSync(env);
  const startup = await loadStartupConfig({ env, missingSecrets });
  if (!startup.ok) {
    const more = startup.errors.length > 1 ? ` (and ${startup.errors.length - 1} more)` : '';
    throw new StartupError(`${startup.errors[0] ?? 'invalid configuration'}${more}`);
  }
  const settings: ServiceSettings = {
    ...startup.settings,
    host: env.HOST || '0.0.0.0',
    maxBodyBytes: positiveInteger(env, 'AI_GATEWAY_MAX_BODY_BYTES', DEFAULT_MAX_BODY_BYTES),
    maxFileBytes: positiveInteger(env, 'AI_GATEWAY_MAX_FILE_BYTES', DEFAULT_MAX_FILE_BYTES),
    requestReceiveTimeoutMs: positiveInteger(env, 'AI_GATEWAY_REQUEST_RECEIVE_TIMEOUT_MS', 60_000),
    missingSecrets,
    corsOrigins: corsOriginsFrom(env),
    adminAccess: adminAccessFrom(env),
    sqliteSync: sync,
  };
  const pollMs = configPollMs(env);
  for (const note of startup.notes) logger.info(`config: ${note}`);
  for (const note of startup.inferences) logger.info(`config: ${note}`);
  for (const warning of startup.warnings) logger.warn(`config: ${warning}`);

  const watcher = new ConfigWatcher(
    settings.configPath,
    {
      env,
      missingSecrets,
      ...(settings.secretsDir === undefined ? {} : { secretsDir: settings.secretsDir }),
      pollMs,
      // The conventional "re-read your config" signal; without a handler it ends the process.
      reloadSignal: 'SIGHUP',
    },
    startup.config,
    startup.sourceText,
  );
  await watcher.start();
  const listeners: ((config: GatewayConfig) => void)[] = [];
  const currentDigest = () => watcher.currentDigest ?? configTextDigest(startup.sourceText);
  // One path for both triggers: an edited file, or a key that appeared or changed in the
  // secrets directory (named, never shown).
  watcher.onReload((reload) => {
    logger.info('config reloaded', {
      path: settings.configPath,
      trigger: reload.trigger,
      cause: reload.cause,
      digest: reload.digest,
    });
    for (const warning of reload.warnings) logger.warn(`config: ${warning}`);
    for (const listener of listeners) listener(reload.config);
    onReload(true, reload.cause, reload.digest, reload.fileInForce);
  });
  watcher.onInvalid((issues, trigger, cause) => {
    const what = trigger === 'secrets' ? 'secrets change' : 'config edit';
    logger.error(`${what} rejected; the last good config stays in force`, {
      trigger,
      cause,
      errors: issues.map((issue) => issue.format()),
    });
    onReload(false, cause, currentDigest(), false);
  });
  return {
    settings,
    current: () => watcher.current ?? startup.config,
    currentDigest,
    waitingForKeys: () => watcher.waitingForKeys,
    onReload: (listener) => listeners.push(listener),
    close: () => watcher.close(),
  };
}

/** AI_GATEWAY_CONFIG_POLL_MS, checked: a bad value is a one-line start-up error. */
export function configPollMs(env: Env): number {
  return startupSetting(() =>
    nonNegativeIntegerSetting(env, CONFIG_POLL_MS_SETTING, DEFAULT_CONFIG_POLL_MS),
  );
}

const RELOAD_TRIGGER_LABELS: Readonly<Record<ReloadCause, ConfigReloadTrigger>> = {
  'file event': 'file_event',
  poll: 'poll',
  signal: 'signal',
  'secrets watch': 'secrets_watch',
};

/** The metric label of what made a reload happen. */
export function reloadTriggerLabel(cause: ReloadCause): ConfigReloadTrigger {
  return RELOAD_TRIGGER_LABELS[cause];
}

/** The model names clients may ask for: every backend's virtual model, once. */
export function virtualModelNames(config: GatewayConfig): readonly string[] {
  const names = new Set<string>();
  for (const route of config.routes) {
    for (const backend of route.backends) {
      if (backend.virtualModel !== undefined) names.add(backend.virtualModel);
    }
  }
  return [...names];
}
