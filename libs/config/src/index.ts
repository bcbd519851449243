// Public API of @aigw/config: load, validate and watch the gateway's YAML configuration.
export * from './domain/bedrock-model-ids';
export * from './domain/config-digest';
export * from './domain/config-issue';
export * from './domain/gateway-config';
export * from './domain/model-resolution';
export * from './domain/operator-regex';
export * from './domain/providers';
export * from './domain/redact-config';
export * from './domain/secret';
export * from './domain/units';
export { parseGatewayConfig, loadGatewayConfigFile, type LoadResult } from './loader/load-config';
export {
  type LoadOptions,
  type MissingSecretPolicy,
  DEFAULT_FIRST_BYTE_TIMEOUT_MS,
  DEFAULT_REQUEST_TIMEOUT_MS,
} from './loader/load-options';
export {
  DEFAULT_SECRET_KEY,
  SECRETS_DIR_ENV,
  resolveSecret,
  secretEnvVarName,
  type SecretLookup,
  type SecretSources,
} from './secrets/secret-resolver';
export {
  ConfigWatcher,
  type ConfigReload,
  type ConfigWatcherOptions,
  type ReloadCause,
  type ReloadTrigger,
  DEFAULT_CONFIG_POLL_MS,
} from './watcher/config-watcher';
export * from './env/numeric-setting';
export * from './env/process-settings';
export * from './startup/config-load.errors';
export * from './startup/load-startup-config';
export * from './nest/config.tokens';
export { GatewayConfigStore } from './nest/gateway-config.store';
export { ConfigModule, type ConfigModuleOptions } from './nest/config.module';
export * from './domain/usage-cost';
export {
  builtinCatalogLoaded,
  catalogProviderId,
  configureBuiltinPrices,
  type BuiltinPriceOptions,
  type PriceLog,
} from './domain/builtin-prices';
