// The environment variables each deployable app reads, as docker-compose.yml and the
// Kubernetes manifests in deploy/k8s must set them (checked by compose.spec.ts and
// deploy-manifests.spec.ts, which also checks that every name here occurs in the apps'
// or libs' source; app-env-complete.spec.ts checks the reverse: every variable the code
// reads is listed here). Kept here until it moves into libs/config.

export const APP_NAMES = ['ingress', 'router', 'provider-adapter', 'budget', 'usage-sink'] as const;
export type AppName = (typeof APP_NAMES)[number];

/** Read by every app through libs/config's process settings; a deployment sets them all. */
export const COMMON_APP_ENV = [
  'AI_GATEWAY_CONFIG',
  'PORT',
  'ADMIN_PORT',
  'AI_GATEWAY_DATA_DIR',
  'KAFKA_BROKERS',
  'REDIS_URL',
  'CLICKHOUSE_URL',
] as const;

/** What a deployment must set for each app. */
export const APP_ENV_VARS: Readonly<Record<AppName, readonly string[]>> = {
  ingress: [...COMMON_APP_ENV, 'ROUTER_URL'],
  // Only the provider-adapter, which injects the provider keys, needs the mounted secrets.
  router: [...COMMON_APP_ENV, 'PROVIDER_ADAPTER_URL'],
  'provider-adapter': [...COMMON_APP_ENV, 'AI_GATEWAY_SECRETS_DIR'],
  budget: [...COMMON_APP_ENV],
  'usage-sink': [...COMMON_APP_ENV],
};

/** Tuning every app reads (libs/runtime, libs/observability); defaults apply when unset. */
export const COMMON_OPTIONAL_APP_ENV = [
  'HOST',
  'AI_GATEWAY_SECRETS_DIR',
  'AI_GATEWAY_MISSING_SECRETS',
  'AI_GATEWAY_MAX_BODY_BYTES',
  'AI_GATEWAY_MAX_FILE_BYTES',
  'AI_GATEWAY_REQUEST_RECEIVE_TIMEOUT_MS',
  'AI_GATEWAY_LOG_LEVEL',
  'AI_GATEWAY_DEBUG',
  'AI_GATEWAY_METRICS_MAX_USERS',
  'AI_GATEWAY_METRICS_MAX_MODELS',
  'AI_GATEWAY_METRICS_MAX_USER_MODELS',
  'AI_GATEWAY_KAFKA_TOPIC_PREFIX',
  'AI_GATEWAY_SPOOL_MAX_BYTES',
  'AI_GATEWAY_BUILTIN_PRICES',
  'AI_GATEWAY_ADMIN_TOKEN',
  // How the SQLite stores under the data directory commit (full or normal).
  'AI_GATEWAY_SQLITE_SYNC',
  // Retry rounds an event handler may fail on one event, while others pass, before it is
  // dead-lettered (default 5).
  'AI_GATEWAY_EVENT_HANDLER_ATTEMPTS',
  // How long a lone event failing on a quiet topic waits before the quiet-topic rule may
  // dead-letter it (default 600 s).
  'AI_GATEWAY_EVENT_HANDLER_QUIET_AFTER_SECONDS',
  // How often the config file's text is compared besides its file events (0 = off).
  'AI_GATEWAY_CONFIG_POLL_MS',
  // The heap's young generation, as a share over V8's default (libs/runtime/heap).
  'AI_GATEWAY_HEAP_GROWING_PERCENT',
  // How long a stop lets model calls run before ending them (libs/runtime/drain-deadline).
  'AI_GATEWAY_DRAIN_TIMEOUT_MS',
  // Node's own options: read for the warnings they turn off (libs/observability's process
  // warnings), as Node's printer honours them.
  'NODE_OPTIONS',
  // Tracing (libs/runtime/tracing-settings): off unless an OTLP endpoint is set.
  'OTEL_SDK_DISABLED',
  'OTEL_TRACES_EXPORTER',
  'OTEL_SERVICE_NAME',
  'OTEL_EXPORTER_OTLP_ENDPOINT',
  'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT',
  'OTEL_EXPORTER_OTLP_PROTOCOL',
  'OTEL_EXPORTER_OTLP_TRACES_PROTOCOL',
  'OTEL_TRACES_SAMPLER',
  'OTEL_TRACES_SAMPLER_ARG',
] as const;

const BUDGET_TUNING = [
  'AI_GATEWAY_DEFAULT_MAX_OUTPUT_TOKENS',
  'AI_GATEWAY_RESERVATION_HOLD_MS',
  'AI_GATEWAY_ALERT_WEBHOOK_URL',
  'AI_GATEWAY_BUDGET_STATE_INTERVAL_MS',
] as const;

/**
 * The shared token of the wire hops, on the three services that speak them, and the one
 * being rotated out (accepted beside it while a rotation is under way).
 */
export const INTERNAL_HOP_ENV = [
  'AI_GATEWAY_INTERNAL_TOKEN',
  'AI_GATEWAY_INTERNAL_TOKEN_PREVIOUS',
] as const;

/** What a deployment may also set for each app. */
export const APP_OPTIONAL_ENV_VARS: Readonly<Record<AppName, readonly string[]>> = {
  ingress: [
    ...COMMON_OPTIONAL_APP_ENV,
    ...BUDGET_TUNING,
    'ROUTER_CONNECTIONS',
    'ROUTER_TIMEOUT_MS',
    'AI_GATEWAY_DEFAULT_TIER',
    'AI_GATEWAY_REUSE_BILLING',
    'AI_GATEWAY_CACHE_MEMORY_MAX_BYTES',
    'AI_GATEWAY_DEDUP_LEADER_TIMEOUT_MS',
    'AI_GATEWAY_DEDUP_MEMORY_MAX_BYTES',
    'AI_GATEWAY_DEDUP_MEMORY_MAX_ENTRIES',
    // Cache hits and deduplicated answers wait for their usage record; read by libs/runtime.
    'AI_GATEWAY_ANSWER_AFTER_RECORD',
    'AI_GATEWAY_CORS_ORIGINS',
    'AI_GATEWAY_REALTIME_HOP_HANDSHAKE_MS',
    // Responses API state, files and batches (libs/ingress).
    'AI_GATEWAY_RESPONSES_STORE',
    'AI_GATEWAY_RESPONSES_TTL_SECONDS',
    'AI_GATEWAY_RESPONSES_MEMORY_MAX_BYTES',
    'AI_GATEWAY_RESPONSES_MEMORY_MAX_ENTRIES',
    'AI_GATEWAY_RESPONSES_WRITE_ANCESTOR_LISTS',
    'AI_GATEWAY_UPLOAD_SPOOL_MAX_BYTES',
    'AI_GATEWAY_BATCH_PRICE_FACTOR',
    'AI_GATEWAY_BATCH_POLL_INTERVAL_MS',
    ...INTERNAL_HOP_ENV,
  ],
  router: [
    ...COMMON_OPTIONAL_APP_ENV,
    ...INTERNAL_HOP_ENV,
    'PROVIDER_ADAPTER_CONNECTIONS',
    'AI_GATEWAY_LATENCY_HALF_LIFE_SECONDS',
  ],
  'provider-adapter': [
    ...COMMON_OPTIONAL_APP_ENV,
    ...INTERNAL_HOP_ENV,
    'AI_GATEWAY_UPSTREAM_CONNECTIONS',
    // Answers wait for their usage record (metered here); read by libs/runtime.
    'AI_GATEWAY_ANSWER_AFTER_RECORD',
    'AZURE_OPENAI_API_VERSION',
    'AWS_REGION',
    'AWS_DEFAULT_REGION',
    // Vertex AI without a service-account key: where the metadata server is (host[:port]).
    'GCE_METADATA_HOST',
  ],
  budget: [...COMMON_OPTIONAL_APP_ENV, ...BUDGET_TUNING],
  'usage-sink': [
    ...COMMON_OPTIONAL_APP_ENV,
    'CLICKHOUSE_DATABASE',
    'USAGE_SINK_BATCH_SIZE',
    'USAGE_SINK_FLUSH_MS',
    'AI_GATEWAY_ANALYTICS_TOKEN',
    'AI_GATEWAY_ANALYTICS_MAX_SERIES_POINTS',
    'AI_GATEWAY_ANALYTICS_RETENTION_DAYS',
    'AI_GATEWAY_PAYLOAD_RETENTION_DAYS',
  ],
};

/**
 * Read by a dependency rather than our code: the AWS SDK's default credential chain in
 * the provider-adapter (Bedrock). Exempt from the check that each name occurs in source.
 */
export const DEPENDENCY_ENV_VARS: Readonly<Partial<Record<AppName, readonly string[]>>> = {
  'provider-adapter': [
    'AWS_ACCESS_KEY_ID',
    'AWS_SECRET_ACCESS_KEY',
    'AWS_SESSION_TOKEN',
    'AWS_PROFILE',
  ],
};

/** A secret from the environment (`AI_GATEWAY_SECRET_<NAME>_<KEY>`), for the key holder. */
export const SECRET_ENV_PREFIX = 'AI_GATEWAY_SECRET_';
/** The one app that reads provider keys; the router loads its config without them. */
export const SECRET_ENV_APPS: readonly AppName[] = ['provider-adapter'];

/** Whether `app` reads the variable `name` (required, optional, or a secret by prefix). */
export function appReadsEnv(app: AppName, name: string): boolean {
  if (APP_ENV_VARS[app].includes(name) || APP_OPTIONAL_ENV_VARS[app].includes(name)) return true;
  if (DEPENDENCY_ENV_VARS[app]?.includes(name)) return true;
  return SECRET_ENV_APPS.includes(app) && name.startsWith(SECRET_ENV_PREFIX);
}
