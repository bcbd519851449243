import { positiveIntegerSetting } from '@aigw/config';
import { createRedisClient, queueOnlyUntilFirstReady } from '@aigw/infra';
import type { Logger, MetricsRegistry } from '@aigw/observability';
import { ConversationState } from '../conversations/conversation-state';
import type { ConversationStore } from '../conversations/conversation-store';
import { MemoryConversationStore } from '../conversations/memory-conversation-store';
import { RedisConversationStore } from '../conversations/redis-conversation-store';
import { MemoryResponseStore } from './memory-response-store';
import { RedisResponseStore } from './redis-response-store';
import { DEFAULT_MAX_CHAIN_BYTES, ResponseState } from './response-state';
import type { ResponseStore } from './response-store';

type Env = Readonly<Record<string, string | undefined>>;

/** What a service process offers the response store (a `ServiceRuntime` fits). */
export interface ResponseStateHost {
  readonly settings: { readonly redisUrl?: string };
  readonly metrics: MetricsRegistry;
  readonly logger: Logger;
  onClose(closer: () => Promise<void> | void): void;
}

/** OpenAI keeps stored responses 30 days. */
const DEFAULT_TTL_SECONDS = 30 * 24 * 60 * 60;
const DEFAULT_MEMORY_BYTES = 64 * 1024 * 1024;
const DEFAULT_MEMORY_ENTRIES = 10_000;
/** Single round trips; one taking longer means Redis is away. */
const REDIS_COMMAND_TIMEOUT_MS = 2_000;

/**
 * `AI_GATEWAY_RESPONSES_WRITE_ANCESTOR_LISTS`: whether stored responses also carry every
 * earlier turn's id, the form the release before the linear chain form reads (`true`, the
 * default with Redis in this release, keeps a rolling upgrade's older replicas continuing
 * chains the newer ones stored; `false` once none is left stores a chain in linear space).
 * Memory is one process's own: never.
 */
export function writesAncestorLists(env: Env, shared: boolean): boolean {
  const value = env.AI_GATEWAY_RESPONSES_WRITE_ANCESTOR_LISTS;
  if (value === undefined || value === '') return shared;
  if (value !== 'true' && value !== 'false') {
    throw new Error(
      `AI_GATEWAY_RESPONSES_WRITE_ANCESTOR_LISTS must be true or false, got "${value}"`,
    );
  }
  return shared && value === 'true';
}

/**
 * The Responses API's response store for a service process, or undefined when
 * `AI_GATEWAY_RESPONSES_STORE=false` (then nothing is stored and `previous_response_id`
 * is refused). `REDIS_URL` → Redis, shared by every replica (the split deployment);
 * otherwise this process's memory, bounded by `AI_GATEWAY_RESPONSES_MEMORY_MAX_ENTRIES`
 * (10,000) and `AI_GATEWAY_RESPONSES_MEMORY_MAX_BYTES` (64 MiB), least recently used
 * first. Records live `AI_GATEWAY_RESPONSES_TTL_SECONDS` (30 days, as OpenAI's).
 * Conversations live beside them, under the same settings (in memory, bounded apart by
 * the same limits; a conversation's TTL runs from its last write).
 */
export function openResponseState(host: ResponseStateHost, env: Env): ResponseState | undefined {
  const { logger, metrics } = host;
  const enabled = env.AI_GATEWAY_RESPONSES_STORE;
  if (enabled === 'false') {
    logger.info('responses store off: nothing stored, previous_response_id refused');
    return undefined;
  }
  if (enabled !== undefined && enabled !== '' && enabled !== 'true') {
    throw new Error(`AI_GATEWAY_RESPONSES_STORE must be true or false, got "${enabled}"`);
  }
  const ttlSeconds = positiveIntegerSetting(
    env,
    'AI_GATEWAY_RESPONSES_TTL_SECONDS',
    DEFAULT_TTL_SECONDS,
  );
  const onEvent = (event: string) => metrics.recordStoredResponse(event);
  const onError = (what: string, error: unknown) =>
    // The URL may carry a password: the error's kind only.
    logger.warn(`${what} failed`, { reason: error instanceof Error ? error.name : 'unknown' });

  let store: ResponseStore;
  let conversationStore: ConversationStore;
  const url = host.settings.redisUrl;
  if (url) {
    // Connects on first use: a deployment whose clients never call /v1/responses pays nothing.
    const redis = queueOnlyUntilFirstReady(
      createRedisClient(url, { commandTimeout: REDIS_COMMAND_TIMEOUT_MS, lazyConnect: true }),
    );
    redis.on('error', (error: Error) => onError('responses store redis connection', error));
    store = new RedisResponseStore(redis, DEFAULT_MAX_CHAIN_BYTES);
    // The same client: the response store closes it.
    conversationStore = new RedisConversationStore(redis, DEFAULT_MAX_CHAIN_BYTES, false);
    logger.info('responses store: redis', { ttlSeconds });
  } else {
    const limits = {
      maxEntries: positiveIntegerSetting(
        env,
        'AI_GATEWAY_RESPONSES_MEMORY_MAX_ENTRIES',
        DEFAULT_MEMORY_ENTRIES,
      ),
      maxBytes: positiveIntegerSetting(
        env,
        'AI_GATEWAY_RESPONSES_MEMORY_MAX_BYTES',
        DEFAULT_MEMORY_BYTES,
      ),
    };
    store = new MemoryResponseStore(limits, () => onEvent('evicted'));
    // The same limits, for conversations apart: a busy one never evicts stored responses.
    // Each conversation within the cap the Redis store keeps too.
    conversationStore = new MemoryConversationStore(
      { ...limits, maxConversationBytes: DEFAULT_MAX_CHAIN_BYTES },
      () => onEvent('conversation_evicted'),
    );
    logger.info('responses store: process memory, least recently used evicted past its limits', {
      ttlSeconds,
      ...limits,
    });
  }
  const ttlMs = ttlSeconds * 1000;
  const conversations = new ConversationState({
    store: conversationStore,
    ttlMs,
    maxBytes: DEFAULT_MAX_CHAIN_BYTES,
    onEvent,
    onError,
  });
  const state = new ResponseState({
    store,
    ttlMs,
    onEvent,
    onError,
    conversations,
    writeAncestorLists: writesAncestorLists(env, store.kind === 'redis'),
  });
  host.onClose(() => state.close());
  return state;
}
