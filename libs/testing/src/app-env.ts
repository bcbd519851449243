// The environment variables each deployable app reads, as docker-compose.yml must set
// them (checked by compose.spec.ts). Kept here until it moves into libs/config.

export const APP_NAMES = ['ingress', 'router', 'provider-adapter', 'budget', 'usage-sink'] as const;
export type AppName = (typeof APP_NAMES)[number];

/** Read by every app through libs/config's process settings. */
export const COMMON_APP_ENV = [
  'AI_GATEWAY_CONFIG',
  'PORT',
  'ADMIN_PORT',
  'AI_GATEWAY_SECRETS_DIR',
  'AI_GATEWAY_DATA_DIR',
  'KAFKA_BROKERS',
  'REDIS_URL',
  'CLICKHOUSE_URL',
] as const;

export const APP_ENV_VARS: Readonly<Record<AppName, readonly string[]>> = {
  ingress: [...COMMON_APP_ENV, 'ROUTER_URL'],
  router: [...COMMON_APP_ENV, 'PROVIDER_ADAPTER_URL'],
  'provider-adapter': [...COMMON_APP_ENV],
  budget: [...COMMON_APP_ENV],
  'usage-sink': [...COMMON_APP_ENV],
};
