import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BudgetStore } from '@aigw/budget-core';
import type { GatewayConfig } from '@aigw/config';
import { nonNegativeIntegerSetting, positiveIntegerSetting } from '@aigw/config';
import type { EventPublisher } from '@aigw/contracts';
import { createRedisClient, queueOnlyUntilFirstReady } from '@aigw/infra';
import type { Logger, MetricsRegistry } from '@aigw/observability';
import type { BudgetAdmission } from '../admission/budget-admission';
import { BatchHolds } from './batch-holds';
import { DEFAULT_BATCH_PRICE_FACTOR } from './batch-settlement';
import { BatchSweeper } from './batch-sweeper';
import { FilesAndBatches, type HeldObjectCalls } from './files-and-batches';
import { logStoreAway } from './store-away-log';
import { errorKind, logUnkeptBatch } from './unkept-batch-log';
import type { GeminiFileCalls } from '../gemini/files/gemini-files';
import { DEFAULT_UPLOAD_SPOOL_BYTES, UploadSpool } from '../forms/upload-spool';
import {
  MemoryHeldObjectStore,
  RedisHeldObjectStore,
  recordUserId,
  type HeldObjectStore,
} from './held-objects';

type Env = Readonly<Record<string, string | undefined>>;

/** What a service process offers (a `ServiceRuntime` fits). */
export interface FilesAndBatchesHost {
  readonly settings: {
    readonly redisUrl?: string;
    /** An upload's own limit (AI_GATEWAY_MAX_FILE_BYTES); absent, the app's body limit. */
    readonly maxFileBytes?: number;
    /** AI_GATEWAY_DATA_DIR: a file sent before its `purpose` waits under it, on disk. */
    readonly dataDir?: string;
  };
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
/** How often the sweeper looks for finished batches no client has looked at. */
const DEFAULT_BATCH_POLL_INTERVAL_MS = 5 * 60 * 1000;
/** AI_GATEWAY_DEFAULT_MAX_OUTPUT_TOKENS's default, as the budget settings read it. */
const DEFAULT_MAX_OUTPUT_TOKENS = 4096;

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
 * AI_GATEWAY_BATCH_PRICE_FACTOR (0.5) of the model's price, when a client looks at one
 * finished, downloads its output, or the sweeper (every AI_GATEWAY_BATCH_POLL_INTERVAL_MS,
 * 5 minutes; 0 turns it off) finds it finished. With `budgetStore` (the one admission
 * reserves in), a batch's estimated cost is held against its owner's budgets from its
 * creation until it is billed or ends unbilled, and lapses after its window.
 */
export function openFilesAndBatches(
  host: FilesAndBatchesHost,
  env: Env,
  options: {
    readonly config: () => GatewayConfig;
    readonly upstream: HeldObjectCalls;
    /** Gemini backends' Files API, called from this process (it holds their keys). */
    readonly geminiUpstream?: GeminiFileCalls;
    readonly admission?: BudgetAdmission;
    /** Where batches' holds are reserved; absent, batches hold nothing. */
    readonly budgetStore?: BudgetStore;
  },
): FilesAndBatches {
  const { logger, metrics } = host;
  const recordBarrier = host.events.recordBarrier;
  const ttlSeconds = positiveIntegerSetting(
    env,
    'AI_GATEWAY_RESPONSES_TTL_SECONDS',
    DEFAULT_TTL_SECONDS,
  );
  const priceFactor = batchPriceFactor(env);
  const pollIntervalMs = nonNegativeIntegerSetting(
    env,
    'AI_GATEWAY_BATCH_POLL_INTERVAL_MS',
    DEFAULT_BATCH_POLL_INTERVAL_MS,
  );
  const onError = (what: string, error: unknown) =>
    logger.warn(`files and batches: ${what} failed`, errorKind(error));
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
  const uploadSpool = openUploadSpool(host, env);
  const holds =
    options.budgetStore &&
    new BatchHolds({ config: options.config, store: options.budgetStore, priceFactor });
  logger.info('files and batches: owners kept', {
    store: store.kind,
    ttlSeconds,
    priceFactor,
    pollIntervalMs,
    batchHolds: holds !== undefined,
    maxFileBytes: host.settings.maxFileBytes,
    uploadSpoolBytes: uploadSpool.maxBytes,
  });
  const batches = new FilesAndBatches({
    config: options.config,
    upstream: options.upstream,
    ...(options.geminiUpstream && {
      geminiUpstream: options.geminiUpstream,
      onGeminiUpload: (outcome: string) => metrics.recordGeminiFileUpload(outcome),
      onGeminiFileCountFailed: (reason: string) => metrics.recordGeminiFileCountFailed(reason),
    }),
    admission: options.admission,
    store,
    holds,
    // The output a batch line without max_tokens is held for, as admission's single call.
    defaultMaxOutputTokens: positiveIntegerSetting(
      env,
      'AI_GATEWAY_DEFAULT_MAX_OUTPUT_TOKENS',
      DEFAULT_MAX_OUTPUT_TOKENS,
    ),
    ttlMs: ttlSeconds * 1000,
    priceFactor,
    maxFileBytes: host.settings.maxFileBytes,
    uploadSpool,
    publish: (event) => host.events.publish(event),
    // A failed write lets the look answer (the event is retried); it never rejects.
    ...(recordBarrier ? { untilRecorded: () => recordBarrier().catch(() => undefined) } : {}),
    onAction: (kind, action, outcome) => metrics.recordFilesBatches(kind, action, outcome),
    // Counted as a single call's masked prompt is.
    onRedacted: (route, tally) => {
      for (const [detector, count] of tally) metrics.recordRedactions(detector, route, count);
    },
    onSettled: (settled) => {
      metrics.recordBatchBilled(settled.trigger);
      // The caller's tokens and cost, as a single call's: the spec's metrics count them.
      const user = recordUserId(settled.batch);
      const model = settled.batch.model;
      metrics.recordTokens(
        { user, model },
        {
          input: settled.inputTokens,
          output: settled.outputTokens,
          cached: settled.cachedInputTokens,
        },
      );
      if (settled.dollars > 0) metrics.addCost({ user, model }, settled.dollars);
      logger.info('batch billed', {
        batch: settled.batch.id,
        user,
        model,
        trigger: settled.trigger,
        inputTokens: settled.inputTokens,
        outputTokens: settled.outputTokens,
        dollars: settled.dollars,
      });
    },
    onFinished: (finished) =>
      metrics.recordBatchFinished(
        finished.status,
        finished.completedRequests,
        finished.failedRequests,
      ),
    // A batch file streamed from its backend, to a client or to bill it: its bytes, and
    // how it ended (a cut download or a failed read shows here, after the request's `ok`).
    onFileBytes: (use, outcome, bytes) => metrics.recordBatchFileBytes(use, outcome, bytes),
    onUploadPdfUncounted: (reason) => metrics.recordUploadPdfUncounted(reason),
    onUnkeptBatch: (unkept) => logUnkeptBatch(logger, unkept),
    onStoreAway: (away) => logStoreAway(logger, away),
    onError,
  });
  const sweeper = new BatchSweeper({
    store,
    check: (record) => batches.checkBatch(record),
    // Replicas sharing Redis take turns: one sweeps each interval.
    lease: store.kind === 'redis' ? (ttlMs) => store.claim('sweeper-round', ttlMs) : undefined,
    intervalMs: pollIntervalMs,
    onOutcome: (outcome) => metrics.recordBatchSweeperCheck(outcome),
    onRoundFailed: (error) => {
      metrics.recordBatchSweeperCheck('round_failed');
      onError('a batch sweeper round', error);
    },
    onCheckFailed: (_id, error) => onError('the batch sweeper checking a batch', error),
    onDropped: (record, outcome) => {
      logger.warn('batch sweeper: batch dropped unbilled from the index', {
        batch: record.id,
        user: record.owner,
        reason: outcome,
      });
      // Never billed now: its hold goes (else it lapses after the window).
      void batches.releaseHold(record.reservationId);
    },
  });
  sweeper.start();
  // The sweeper stops (and its round ends) before the store it reads closes.
  host.onClose(() => sweeper.stop());
  host.onClose(() => store.close());
  return batches;
}

/**
 * Where files sent before their `purpose` wait for it: `upload-spool` under the data
 * directory (the OS's temporary directory without one), at most
 * AI_GATEWAY_UPLOAD_SPOOL_MAX_BYTES at once (two of the file limit by default). Files an
 * earlier run left there (killed mid-upload) are deleted now.
 */
function openUploadSpool(host: FilesAndBatchesHost, env: Env): UploadSpool {
  const { dataDir, maxFileBytes } = host.settings;
  const spool = new UploadSpool(
    join(dataDir ?? tmpdir(), dataDir ? 'upload-spool' : 'aigw-upload-spool'),
    positiveIntegerSetting(
      env,
      'AI_GATEWAY_UPLOAD_SPOOL_MAX_BYTES',
      maxFileBytes === undefined ? DEFAULT_UPLOAD_SPOOL_BYTES : 2 * maxFileBytes,
    ),
  );
  void spool.removeLeftovers().then(
    (removed) => {
      if (removed > 0) host.logger.info('files: deleted uploads an earlier run left', { removed });
    },
    (error: unknown) =>
      host.logger.warn('files: deleting uploads an earlier run left failed', {
        code: (error as { code?: unknown }).code,
      }),
  );
  return spool;
}
