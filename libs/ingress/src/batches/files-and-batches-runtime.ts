import { Counter } from 'prom-client';
import type { GatewayConfig } from '@aigw/config';
import { positiveIntegerSetting } from '@aigw/config';
import type { EventPublisher } from '@aigw/contracts';
import { createRedisClient, queueOnlyUntilFirstReady } from '@aigw/infra';
import type { Logger, MetricsRegistry } from '@aigw/observability';
import type { BudgetAdmission } from '../admission/budget-admission';
import { DEFAULT_BATCH_PRICE_FACTOR } from './batch-settlement';
import { FilesAndBatches, type HeldObjectCalls } from './files-and-batches';
import { MemoryHeldObjectStore, RedisHeldObjectStore, type HeldObjectStore } from './held-objects';

type Env = Readonly<Record<string, string | undefined>>;

/** What a service process offers (a `ServiceRuntime` fits). */
export interface FilesAndBatchesHost {
  readonly settings: { readonly redisUrl?: string };
  readonly metrics: MetricsRegistry;
  readonly logger: Logger;
  readonly events: EventPublisher;
  onClose(closer: () => Promise<void> | void): void;
}

/** OpenAI keeps batch output files 30 days; the gateway remembers owners as long. */
const DEFAULT_TTL_SECONDS = 30 * 24 * 60 * 60;
const DEFAULT_MEMORY_ENTRIES = 10_000;
const DEFAULT_MEMORY_BYTES = 16 * 1024 * 1024;
const REDIS_COMMAND_TIMEOUT_MS = 2_000;

/** `AI_GATEWAY_BATCH_PRICE_FACTOR`: a number above 0 and at most 1 (0.5 by default). */
export function batchPriceFactor(env: Env): number {
  const text = env.AI_GATEWAY_BATCH_PRICE_FACTOR;
  if (text === undefined || text === '') return DEFAULT_BATCH_PRICE_FACTOR;
  const factor = Number(text);
  if (!(factor > 0 && factor <= 1)) {
    throw new Error(
      `AI_GATEWAY_BATCH_PRICE_FACTOR must be a number above 0 and at most 1, got "${text}"`,
    );
  }
  return factor;
}

/**
 * The Files and Batch APIs for an edge (the all-in-one gateway, which calls backends
 * itself, or the ingress, whose calls `upstream` takes through the router to the
 * provider-adapter). Owners are kept where stored responses are: Redis with REDIS_URL, else this
 * process's memory (AI_GATEWAY_RESPONSES_MEMORY_MAX_ENTRIES, 10,000), for
 * AI_GATEWAY_RESPONSES_TTL_SECONDS (30 days). Finished batches are billed at
 * AI_GATEWAY_BATCH_PRICE_FACTOR (0.5) of the model's price.
 */
export function openFilesAndBatches(
  host: FilesAndBatchesHost,
  env: Env,
  options: {
    readonly config: () => GatewayConfig;
    readonly upstream: HeldObjectCalls;
    readonly admission?: BudgetAdmission;
  },
): FilesAndBatches {
  const { logger, metrics } = host;
  const ttlSeconds = positiveIntegerSetting(
    env,
    'AI_GATEWAY_RESPONSES_TTL_SECONDS',
    DEFAULT_TTL_SECONDS,
  );
  const priceFactor = batchPriceFactor(env);
  const actions = new Counter({
    name: 'ai_gateway_files_batches_total',
    help: 'Files and Batch API requests by kind (file, batch), action (create, list, retrieve, content, delete, cancel, settle) and outcome (ok, invalid, not_found, refused, upstream_error, failed)',
    labelNames: ['kind', 'action', 'outcome'] as const,
    registers: [metrics.registry],
  });
  const onError = (what: string, error: unknown) =>
    // A backend URL or Redis URL may carry a secret: the error's kind and code only.
    logger.warn(`files and batches: ${what} failed`, {
      reason: error instanceof Error ? error.name : 'unknown',
      code: (error as { code?: unknown }).code,
    });
  let store: HeldObjectStore;
  const url = host.settings.redisUrl;
  if (url) {
    const redis = queueOnlyUntilFirstReady(
      createRedisClient(url, { commandTimeout: REDIS_COMMAND_TIMEOUT_MS, lazyConnect: true }),
    );
    redis.on('error', (error: Error) => onError('redis connection', error));
    store = new RedisHeldObjectStore(redis, true);
  } else {
    store = new MemoryHeldObjectStore({
      maxEntries: positiveIntegerSetting(
        env,
        'AI_GATEWAY_RESPONSES_MEMORY_MAX_ENTRIES',
        DEFAULT_MEMORY_ENTRIES,
      ),
      maxBytes: DEFAULT_MEMORY_BYTES,
    });
  }
  logger.info('files and batches: owners kept', { store: store.kind, ttlSeconds, priceFactor });
  host.onClose(() => store.close());
  return new FilesAndBatches({
    config: options.config,
    upstream: options.upstream,
    admission: options.admission,
    store,
    ttlMs: ttlSeconds * 1000,
    priceFactor,
    publish: (event) => host.events.publish(event),
    onAction: (kind, action, outcome) => actions.inc({ kind, action, outcome }),
    onSettled: (settled) =>
      logger.info('batch billed', {
        batch: settled.batch.id,
        user: settled.batch.owner,
        model: settled.batch.model,
        inputTokens: settled.inputTokens,
        outputTokens: settled.outputTokens,
        dollars: settled.dollars,
      }),
    onError,
  });
}
