import { collectDefaultMetrics, Counter, Gauge, Registry } from 'prom-client';
import { FastCounter, FastHistogram } from './fast-metrics';
import { LabelCardinalityGuard, LabelPairGuard } from './label-guard';

export interface MetricsRegistryOptions {
  /** Distinct `user` label values before the rest fold into `__other__`. */
  readonly maxUsers?: number;
  /** Distinct model label values (clients can invent model names) before folding. */
  readonly maxModels?: number;
  /** Distinct (user, model) pairs on per-user-and-model series before users fold. */
  readonly maxUserModels?: number;
  /** Node process metrics (CPU, memory, event loop, GC). Default true. */
  readonly collectDefaultMetrics?: boolean;
  /** Labels on every series, e.g. `{ service: 'ingress' }`. */
  readonly defaultLabels?: Record<string, string>;
  /** The clock a scrape reads windows' ends against (ms since epoch). Default Date.now. */
  readonly now?: () => number;
}

/** A remaining-budget series and the window its value was set in. */
interface BudgetRemainingWindow {
  readonly labels: { budget_key: string; limit: string };
  readonly limit: number;
  readonly endsAt: number;
}

export const DEFAULT_MAX_USERS = 1000;
export const DEFAULT_MAX_MODELS = 500;
export const DEFAULT_MAX_USER_MODELS = 10_000;

function positiveInt(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name]?.trim();
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 0) {
    throw new Error(`${name} must be a whole number >= 0; got "${raw}"`);
  }
  return value;
}

/** Reads `AI_GATEWAY_METRICS_MAX_USERS`, `_MAX_MODELS` and `_MAX_USER_MODELS`. */
export function metricsOptionsFromEnv(
  env: NodeJS.ProcessEnv = process.env,
): MetricsRegistryOptions {
  return {
    maxUsers: positiveInt(env, 'AI_GATEWAY_METRICS_MAX_USERS', DEFAULT_MAX_USERS),
    maxModels: positiveInt(env, 'AI_GATEWAY_METRICS_MAX_MODELS', DEFAULT_MAX_MODELS),
    maxUserModels: positiveInt(env, 'AI_GATEWAY_METRICS_MAX_USER_MODELS', DEFAULT_MAX_USER_MODELS),
  };
}

/**
 * `cached` and `cache_write` are parts of `input`; `cache_write_1h` is the part of
 * `cache_write` written with a 1-hour lifetime (priced above the 5-minute writes);
 * `image_input` is the part of `input` that was images (an image edit's, priced apart);
 * `image_output` the part of `output` that was images (an image model's, priced apart).
 */
export type TokenType =
  'input' | 'output' | 'cached' | 'cache_write' | 'cache_write_1h' | 'image_input' | 'image_output';

/** What a failed response cache or deduplication store command was for (a fixed set). */
export type ReuseStoreOperation =
  'cache_lookup' | 'cache_store' | 'dedup_join' | 'dedup_lead' | 'dedup_stream' | 'dedup_follow';

/**
 * Why the response cache dropped an entry before its TTL to make room (a fixed set):
 * `max_size`, the route's caching.maxSize; `memory_limit`, AI_GATEWAY_CACHE_MEMORY_MAX_BYTES
 * (every route's in-memory entries together).
 */
export type CacheEvictionReason = 'max_size' | 'memory_limit';

/** Why a deduplication leader could not renew its running call's lock (a fixed set). */
export type DedupLockRenewalFailure = 'lost' | 'error';

/** Labels of the OpenTelemetry GenAI metrics, in our own spelling. */
export interface GenAiLabels {
  /** `chat`, `text_completion`, `embeddings`. */
  readonly operation: string;
  readonly requestModel: string;
  readonly responseModel: string;
  /** `openai`, `anthropic`, `aws.bedrock`, ... */
  readonly provider: string;
}

/** The service tiers providers name (OpenAI, Groq, Bedrock); the metric's `tier` label. */
const KNOWN_SERVICE_TIERS: ReadonlySet<string> = new Set(['flex', 'priority', 'scale', 'reserved']);

// Bucket boundaries advised by the OpenTelemetry GenAI semantic conventions, the durations'
// carried on to the gateway's default timeouts (requestTimeout 5 min, firstByteTimeout 15 s,
// often set longer for reasoning models): past the last bound a quantile reads as that bound,
// so a p95 time to first token of 40 s showed as 10 s.
const GEN_AI_TOKEN_BUCKETS = [
  1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216, 67108864,
];
const GEN_AI_DURATION_BUCKETS = [
  0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92, 163.84,
  327.68,
];
const GEN_AI_TTFT_BUCKETS = [
  0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10, 15, 30, 60,
  120,
];
const GEN_AI_TPOT_BUCKETS = [0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75, 1, 2.5];
/** From a coalesced SQLite append (sub-ms) to a Kafka batch spooled after its 1 s watchdog. */
const ANSWER_RECORD_WAIT_BUCKETS = [
  0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5,
];
// LLM calls run from milliseconds (cache, embeddings) to minutes (long generations).
const REQUEST_DURATION_BUCKETS = [
  0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30, 60, 120, 300,
];

/** Every `type` of `ai_gateway_tokens_total`, in the order recorded. */
export const TOKEN_TYPES: readonly TokenType[] = [
  'input',
  'output',
  'cached',
  'cache_write',
  'cache_write_1h',
  'image_input',
  'image_output',
];

const GEN_AI_LABELS = [
  'gen_ai_operation_name',
  'gen_ai_request_model',
  'gen_ai_response_model',
  'gen_ai_provider_name',
] as const;

/** The spec's `rate_limit` spelling of the config's `rateLimit`. */
export function toSnakeCase(value: string): string {
  return value.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toLowerCase();
}

/**
 * Every metric the gateway exports, defined once with the spec's names and labels.
 * Framework-free, so each process (or test) owns a fresh registry. Per-user and per-model
 * labels go through cardinality guards; recording goes through methods, never the raw
 * metrics, so no caller can bypass them.
 */
/** How a call to a backend began, for `ai_gateway_backend_requests_total`. */
export type BackendCallResult =
  'ok' | 'rate_limited' | 'timeout' | 'error' | 'rejected' | 'cancelled';

/** A backend's load as the router measures it, read when the metrics are scraped. */
export interface BackendLoadSample {
  readonly backend: string;
  /** Calls in flight from this process. */
  readonly inFlight: number;
  /** Its recent latency in ms; absent until it answered and once that figure is stale. */
  readonly latencyMs?: number;
  /** Seconds since each kind of call (json, stream) last answered; absent until one did. */
  readonly latencyAges?: readonly { readonly kind: string; readonly seconds: number }[];
}

/** A configured route and how many of its backends are in rotation, read when scraped. */
export interface RouteBackendsSample {
  readonly route: string;
  readonly available: number;
}

/** Redis's documented `maxmemory-policy` values: the label values Redis can report. */
const REDIS_MAXMEMORY_POLICIES: readonly string[] = [
  'noeviction',
  'allkeys-lru',
  'allkeys-lfu',
  'allkeys-random',
  'volatile-lru',
  'volatile-lfu',
  'volatile-random',
  'volatile-ttl',
];

/** What made a config reload happen (libs/config's ReloadCause, as a label). */
export const CONFIG_RELOAD_TRIGGERS = ['file_event', 'poll', 'signal', 'secrets_watch'] as const;
export type ConfigReloadTrigger = (typeof CONFIG_RELOAD_TRIGGERS)[number];

/** What became of an operator's budget adjustment (`ai_gateway_budget_adjustments_total`). */
export type BudgetAdjustmentOutcome = 'applied' | 'limit_closed';

/** What became of a budget hold given back (`ai_gateway_budget_hold_releases_total`). */
export type BudgetHoldReleaseOutcome = 'released' | 'released_on_retry' | 'left_to_lapse';

export class MetricsRegistry {
  readonly registry = new Registry();
  readonly users: LabelCardinalityGuard;
  /**
   * Budget keys, capped as users are but apart: a key qualified by how its user was
   * identified (`jwt:auth0:sub:alice`) would otherwise take a second user's place.
   */
  readonly budgetKeys: LabelCardinalityGuard;
  readonly models: LabelCardinalityGuard;
  /** (user, model) pairs of the series carrying both (tokens, cost). */
  readonly userModels: LabelPairGuard;

  readonly #labelOverflow = new Counter({
    name: 'ai_gateway_metrics_label_overflow_total',
    help: 'Observations whose label value was folded into __other__ by the cardinality cap (label user_model: a user past the cap of user and model pairs)',
    labelNames: ['label'] as const,
    registers: [this.registry],
  });

  // The spec's metrics.
  readonly #tokens = new FastCounter({
    name: 'ai_gateway_tokens_total',
    help: 'Tokens processed, by user, model and type: input, output; cached and cache_write (read from and written to the prompt cache) are parts of input; cache_write_1h is the part of cache_write written for an hour; image_input is the part of input that was images (image edits); image_output is the part of output that was images (image models)',
    labelNames: ['user', 'model', 'type'] as const,
    registers: [this.registry],
  });
  readonly #requestDuration = new FastHistogram({
    name: 'ai_gateway_request_duration_seconds',
    help: 'Upstream request latency per provider and model',
    labelNames: ['provider', 'model'] as const,
    buckets: REQUEST_DURATION_BUCKETS,
    registers: [this.registry],
  });
  readonly #fallback = new Counter({
    name: 'ai_gateway_fallback_total',
    help: 'Failovers from one provider to another, by reason',
    labelNames: ['from', 'to', 'reason'] as const,
    registers: [this.registry],
  });
  readonly #drainCuts = new Counter({
    name: 'ai_gateway_drain_cut_requests_total',
    help: 'Model calls a stopping process ended at its drain deadline (AI_GATEWAY_DRAIN_TIMEOUT_MS) with a 503 or a stream error event, by phase: waiting (no answer yet; no further failover attempt was started) or streaming (a stream under way)',
    labelNames: ['phase'] as const,
    registers: [this.registry],
  });
  readonly #modelBudgetSteers = new Counter({
    name: 'ai_gateway_model_budget_steers_total',
    help: "Backends the router passed over because their model's tokenRateLimit.perModel had no room, by where it learned that: view (the budget broadcast's local exhaustion view, or a store read it kept) or store (a read of the Redis balances, the split deployment's router)",
    labelNames: ['source'] as const,
    registers: [this.registry],
  });
  readonly #modelBudgetStoreReads = new Counter({
    name: 'ai_gateway_model_budget_store_reads_total',
    help: "The split deployment router's reads of a model's per-model balances in Redis before calling it, by outcome: room, steered (no room: the next backend is tried), failed (Redis unreachable or slow: the local view alone decided)",
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });
  readonly #requestOverrides = new Counter({
    name: 'ai_gateway_request_overrides_total',
    help: 'Calls a client narrowed with an x-ai-gateway-* override header, by override (timeout, retries, fallback); clamped=true when it asked for more than the route allows',
    labelNames: ['override', 'clamped'] as const,
    registers: [this.registry],
  });
  readonly #cost = new FastCounter({
    name: 'ai_gateway_cost_dollars',
    help: 'Estimated cost in US dollars, by user and model',
    labelNames: ['user', 'model'] as const,
    registers: [this.registry],
  });
  readonly #unpricedCalls = new FastCounter({
    name: 'ai_gateway_unpriced_calls_total',
    help: 'Provider calls metered at $0 because their model has no price (neither costControl.modelPricing nor the built-in catalog), by upstream model',
    labelNames: ['model'] as const,
    registers: [this.registry],
  });
  readonly #unpricedServiceTierCalls = new FastCounter({
    name: 'ai_gateway_unpriced_service_tier_calls_total',
    help: 'Provider calls the backend served at a service tier their price has no factor for (an OpenAI priority call on a model without a known priority price, a Bedrock or Anthropic priority or flex call: no serviceTierFactors entry), billed at the standard rates, not what the provider charges (priority above them, flex below); by upstream model and tier (flex, priority, scale, reserved, other)',
    labelNames: ['model', 'tier'] as const,
    registers: [this.registry],
  });
  readonly #serverToolRequests = new FastCounter({
    name: 'ai_gateway_server_tool_requests_total',
    help: "Runs of a provider's server tools, as the provider reported them (Anthropic's usage.server_tool_use: web_search, web_fetch; Gemini's Google Search grounding queries, groundingMetadata.webSearchQueries, as web_search), by tool and model; web searches are billed beside the tokens (Anthropic: $10 per 1,000; Gemini 3: $14 per 1,000 queries; Gemini 2.x: $35 per 1,000 grounded prompts, once a call; or the model's modelPricing webSearchPer1k / groundedPromptPer1k), and ai_gateway_cost_dollars includes them",
    labelNames: ['tool', 'model'] as const,
    registers: [this.registry],
  });
  readonly #cacheHits = new FastCounter({
    name: 'ai_gateway_cache_hits_total',
    help: 'Responses served from the gateway cache',
    labelNames: ['model'] as const,
    registers: [this.registry],
  });
  readonly #dedupFollowers = new FastCounter({
    name: 'ai_gateway_dedup_followers_total',
    help: 'Requests answered by joining an identical call in flight (request deduplication), making no backend call of their own',
    labelNames: ['model'] as const,
    registers: [this.registry],
  });
  readonly #cacheMisses = new FastCounter({
    name: 'ai_gateway_cache_misses_total',
    help: 'Cacheable requests not found in the gateway cache',
    labelNames: ['model'] as const,
    registers: [this.registry],
  });
  readonly #cacheEvictions = new Counter({
    name: 'ai_gateway_cache_evictions_total',
    help: "Response cache entries dropped before their TTL to make room for a new one, by store (memory: this process; redis: the route's Redis, counted by the replica whose write evicted them) and reason: max_size (the route's caching.maxSize), memory_limit (AI_GATEWAY_CACHE_MEMORY_MAX_BYTES, every route's in-memory entries together). Steady evictions mean the bound is smaller than the answers asked again within the TTL",
    labelNames: ['store', 'reason'] as const,
    registers: [this.registry],
  });
  /** Where the in-memory cache's size is read when scraped (a process with no such cache: 0). */
  #cacheMemoryBytes: () => number = () => 0;
  readonly #cacheMemoryBytesGauge = new Gauge({
    name: 'ai_gateway_cache_memory_bytes',
    help: "Heap this process's in-memory response cache takes (every route's entries together: their answers, keys and ~0.5 KiB of bookkeeping each), bounded by AI_GATEWAY_CACHE_MEMORY_MAX_BYTES; 0 where answers are cached in Redis",
    registers: [this.registry],
    collect: () => {
      this.#cacheMemoryBytesGauge.set(this.#cacheMemoryBytes());
    },
  });
  readonly #dedupEvictions = new Counter({
    name: 'ai_gateway_dedup_evictions_total',
    help: 'Finished deduplicated answers dropped from process memory before their window ended, to stay within AI_GATEWAY_DEDUP_MEMORY_MAX_BYTES / _MAX_ENTRIES (a later identical request then reads the Redis stream or makes its own call)',
    registers: [this.registry],
  });
  readonly #dedupLockRenewalFailures = new Counter({
    name: 'ai_gateway_dedup_lock_renewal_failures_total',
    help: "Heartbeats whose renewal of a running deduplicated call's Redis lock failed, by reason: lost (the lock no longer named the call: it lapsed while Redis was away, or a follower freed it; not taken back, so an identical request may make a second call; once per call), error (the command failed; the next heartbeat tries again, the lock lasting AI_GATEWAY_DEDUP_LEADER_TIMEOUT_MS past the last renewal)",
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });
  readonly #dedupSilentLeaders = new Counter({
    name: 'ai_gateway_dedup_silent_leaders_total',
    help: 'Shared calls a replica stopped following because their leader sent no heartbeat for AI_GATEWAY_DEDUP_LEADER_TIMEOUT_MS (default 3 s) while this replica read Redis fine (the leader went down or lost Redis): its followers got a 502 and the key was freed, so a retry makes its own call',
    registers: [this.registry],
  });
  readonly #reuseStoreFailures = new Counter({
    name: 'ai_gateway_reuse_store_failures_total',
    help: "Commands to the response cache and deduplication store (Redis) that failed (down, unreachable, or silent past 2 s), by operation: cache_lookup (served as a miss, the provider called), cache_store (the answer not kept), dedup_join and dedup_lead (the request made its own call, not shared), dedup_stream (a shared call's events not published or read: a follower on another replica that hears nothing gets an error after AI_GATEWAY_DEDUP_LEADER_TIMEOUT_MS), dedup_follow (one per follower given an error because Redis was lost mid-request: its replica could not read the shared call for 2 s, or the leader's could not publish all of it; a retry makes its own call)",
    labelNames: ['operation'] as const,
    registers: [this.registry],
  });
  readonly #redactions = new FastCounter({
    name: 'ai_gateway_redactions_total',
    help: 'Matches masked by security.promptValidation.redact (direction="prompt") and security.responseValidation.redact (direction="answer"), by detector, route and part (an answer\'s "content" or its "reasoning"; "content" for prompts) (never the text)',
    labelNames: ['detector', 'route', 'direction', 'part'] as const,
    registers: [this.registry],
  });
  readonly #answersBlocked = new FastCounter({
    name: 'ai_gateway_answers_blocked_total',
    help: 'Answer choices withheld (finish_reason content_filter) by security.responseValidation, by rule (a detector, pattern or blockPatterns[i]), route and the part it matched in ("content" or "reasoning") (never the text)',
    labelNames: ['rule', 'route', 'part'] as const,
    registers: [this.registry],
  });
  readonly #mediaUrlsRefused = new FastCounter({
    name: 'ai_gateway_media_urls_refused_total',
    help: 'Prompts refused (400) because they named an image or file URL, which the backend would fetch itself, on a route whose security.mediaUrls refuses it (not to a host allowedHosts lists), by route and part (image, file or other; never the URL); batch lines included',
    labelNames: ['route', 'part'] as const,
    registers: [this.registry],
  });
  readonly #payloadsLogged = new FastCounter({
    name: 'ai_gateway_payloads_logged_total',
    help: 'Requests whose prompt and answer were logged (payloadLogging), by route and whether either body was cut at maxBytes (truncated true or false)',
    labelNames: ['route', 'truncated'] as const,
    registers: [this.registry],
  });
  readonly #payloadsDropped = new FastCounter({
    name: 'ai_gateway_payloads_dropped_total',
    help: 'Requests on a route with payloadLogging whose payload was not logged, by route and reason (sampled_out: not drawn by sampleRate)',
    labelNames: ['route', 'reason'] as const,
    registers: [this.registry],
  });
  readonly #storedResponses = new Counter({
    name: 'ai_gateway_stored_responses_total',
    help: 'Responses API stored responses (stored, too_large, store_failed, store_unavailable: the store could not be read or deleted from, a 503; hit, miss, deleted, evicted) and conversations (conversation_created, _updated, _deleted, _items_added, _item_deleted, _hit, _miss, _too_large, _append_failed, _evicted, _store_unavailable)',
    labelNames: ['event'] as const,
    registers: [this.registry],
  });

  readonly #realtimeSessionsOpen = new Gauge({
    name: 'ai_gateway_realtime_sessions_open',
    help: 'Realtime API sessions (WebSockets) open now, client and backend both connected',
    registers: [this.registry],
  });
  readonly #realtimeSessions = new Counter({
    name: 'ai_gateway_realtime_sessions_total',
    help: 'Realtime API sessions asked for, by outcome: refused (before the upgrade), upstream_refused, client_gone_before_open (the client hung up during the handshake), client_closed, upstream_closed, budget_exceeded, client_too_slow, client_unresponsive (no answer to a ping), shutdown (the gateway stopped), call_ended (a WebRTC call ended at the backend), hung_up (a WebRTC call its caller hung up through the gateway)',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });
  readonly #realtimeCallControls = new Counter({
    name: 'ai_gateway_realtime_call_controls_total',
    help: "WebRTC call-control requests (POST /v1/realtime/calls/{id}/hangup, accept, reject, refer), by verb and result: hung_up (the call, watched by this replica), passed_on (the hang-up, to the replica watching the call, through Redis), not_found (404: no call of the caller's, or, without REDIS_URL, one placed through another replica), not_sip_call (400: accept, reject or refer on a call the gateway placed), unavailable (503: the calls' Redis, or what identifies the caller, could not be reached; the call runs on)",
    labelNames: ['verb', 'result'] as const,
    registers: [this.registry],
  });
  readonly #realtimeCallsEnded = new Counter({
    name: 'ai_gateway_realtime_calls_ended_total',
    help: "Realtime WebRTC calls (POST /v1/realtime/calls) ended, by outcome: who ended them. hung_up (its caller: POST /v1/realtime/calls/{id}/hangup), budget_exceeded (the gateway: the caller's budget was spent), shutdown (the gateway, as it stopped), call_ended (the browser, at the backend), upstream_closed (the backend dropped the sideband)",
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });
  readonly #realtimeClientSecrets = new Counter({
    name: 'ai_gateway_realtime_client_secrets_total',
    help: 'Realtime client secrets (POST /v1/realtime/client_secrets), by outcome: minted, refused (the mint was refused: bad input, identity, tier, budget), accepted (a session presented a valid one), unknown, expired, wrong_model (a session presented one that opened nothing), store_failed (the store could not be reached), evicted (a live secret dropped for room: the in-memory store was full, or its caller minted past its bound of live secrets)',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });
  readonly #realtimeFrames = new FastCounter({
    name: 'ai_gateway_realtime_frames_total',
    help: 'WebSocket frames relayed in Realtime API sessions, by direction (client_to_backend, backend_to_client)',
    labelNames: ['direction'] as const,
    registers: [this.registry],
  });
  readonly #realtimeBytes = new FastCounter({
    name: 'ai_gateway_realtime_bytes_total',
    help: 'Bytes of the WebSocket frames relayed in Realtime API sessions, by direction',
    labelNames: ['direction'] as const,
    registers: [this.registry],
  });

  readonly #filesBatches = new Counter({
    name: 'ai_gateway_files_batches_total',
    help: "Files and Batch API requests by kind (file, batch, message_batch: Anthropic's Message Batches API), action (create, list, retrieve, content, results (a message batch's results read), delete, cancel, settle, hold (the estimated cost of a batch held against budgets), release (a hold given back), unkept_cancel (a batch its backend made that the gateway could not remember, cancelled there: upstream_error means it runs on, billed to no one, until cancelled by hand; the error log names its backend batch id)) and outcome (ok, invalid, blocked (a prompt rule refused an upload), not_found, refused (no room left in a budget), upstream_error, failed (the budget store unreachable), store_unavailable (the gateway's store of files and batches unreachable: a 503 to retry; on a create, what the backend made was deleted or cancelled there))",
    labelNames: ['kind', 'action', 'outcome'] as const,
    registers: [this.registry],
  });
  readonly #geminiFileUploads = new Counter({
    name: 'ai_gateway_gemini_file_uploads_total',
    help: "Gemini Files API uploads on the Gemini edge (POST /upload/v1beta/files), by outcome: ok (a file finalized at its Gemini backend), invalid (a bad start or step: no x-ai-gateway-model, a model not served first by a Gemini backend, a bad command or offset), refused (the caller's credential or tier), not_found (an unknown or expired upload), too_large (past AI_GATEWAY_MAX_FILE_BYTES), aborted (the client hung up mid-upload), upstream_error (the backend failed), store_unavailable (the gateway's store of files could not be reached: a 503)",
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });
  readonly #geminiFileCountFailed = new Counter({
    name: 'ai_gateway_gemini_file_count_failed_total',
    help: "Gemini files named by fileData.fileUri whose token count the holding backend's countTokens did not give, so the call's budget hold used the fallback (a video by its videoMetadata duration at 312 tokens a second, any other file at 0), by reason: timeout (no answer within 3 s; a late one is still kept), error (the backend refused or failed), bad_answer (no whole totalTokens)",
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });
  readonly #batchesBilled = new Counter({
    name: 'ai_gateway_batches_billed_total',
    help: 'Finished batches billed, by what found them finished: a client retrieving or listing them (client_poll), the background sweeper (sweeper), or a download of the output file (content)',
    labelNames: ['trigger'] as const,
    registers: [this.registry],
  });
  readonly #batchesFinished = new Counter({
    name: 'ai_gateway_batches_finished_total',
    help: 'Batches seen finished at their backends, once each, by status: completed, failed (the backend refused the batch, e.g. its input file failed validation), expired (its 24h window passed), cancelled',
    labelNames: ['status'] as const,
    registers: [this.registry],
  });
  readonly #batchRequests = new Counter({
    name: 'ai_gateway_batch_requests_total',
    help: "Requests (input file lines) of finished batches, by outcome as the batch's request_counts tell it: completed (answered) or failed",
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });
  readonly #batchFileBytes = new Counter({
    name: 'ai_gateway_batch_file_bytes_total',
    help: "Bytes of batch files streamed from their backends, by use (download: to a client, model names restored; billing: read to sum a finished batch's usage; upload: a client's POST /v1/files file part, read as it is sent on) and outcome (complete, aborted (the client hung up), failed (the backend, or a downloaded line over 64 MiB), refused (an upload's bad line, field or size: the client's 400/413))",
    labelNames: ['use', 'outcome'] as const,
    registers: [this.registry],
  });
  readonly #uploadPdfUncounted = new Counter({
    name: 'ai_gateway_upload_pdf_uncounted_total',
    help: 'PDFs uploaded for a model (POST /v1/files) whose pages were not counted, by reason: too_large (over the 32 MiB a call may send as content) or memory (past the 128 MiB all uploads being counted may keep at once); a call naming one by file_id is held at its size, a token a byte, not at its pages',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });
  readonly #batchSweeperChecks = new Counter({
    name: 'ai_gateway_batch_sweeper_checks_total',
    help: "The batch sweeper's checks of unbilled batches by outcome (billed, in_progress, finished, not_found, expired, forgotten, failed); round_failed counts rounds that could not read the index",
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });

  // OpenTelemetry GenAI semantic-convention metrics, Prometheus spelling.
  readonly #genAiTokens = new FastHistogram({
    name: 'gen_ai_client_token_usage',
    help: 'Tokens used per request (OpenTelemetry gen_ai.client.token.usage)',
    labelNames: [...GEN_AI_LABELS, 'gen_ai_token_type'] as const,
    buckets: GEN_AI_TOKEN_BUCKETS,
    registers: [this.registry],
  });
  readonly #genAiDuration = new FastHistogram({
    name: 'gen_ai_server_request_duration',
    help: 'Generative AI request duration in seconds (gen_ai.server.request.duration)',
    labelNames: [...GEN_AI_LABELS, 'error_type'] as const,
    buckets: GEN_AI_DURATION_BUCKETS,
    registers: [this.registry],
  });
  readonly #genAiTtft = new FastHistogram({
    name: 'gen_ai_server_time_to_first_token',
    help: 'Seconds to the first output token (gen_ai.server.time_to_first_token)',
    labelNames: GEN_AI_LABELS,
    buckets: GEN_AI_TTFT_BUCKETS,
    registers: [this.registry],
  });
  readonly #genAiTpot = new FastHistogram({
    name: 'gen_ai_server_time_per_output_token',
    help: 'Seconds per output token after the first (gen_ai.server.time_per_output_token)',
    labelNames: GEN_AI_LABELS,
    buckets: GEN_AI_TPOT_BUCKETS,
    registers: [this.registry],
  });

  // Gateway operations.
  readonly #requests = new FastCounter({
    name: 'ai_gateway_requests_total',
    help: 'HTTP requests answered, by route and status code',
    labelNames: ['route', 'status'] as const,
    registers: [this.registry],
  });
  /** Requests being answered, by route: plain numbers per request, copied in when scraped. */
  readonly #inFlightCounts = new Map<string, number>();
  readonly #inFlight = new Gauge({
    name: 'ai_gateway_requests_in_flight',
    help: 'Requests received and not yet answered in full, by route (a stream counts until its last byte or until its client leaves)',
    labelNames: ['route'] as const,
    registers: [this.registry],
    collect: () => {
      for (const [route, count] of this.#inFlightCounts) this.#inFlight.set({ route }, count);
    },
  });
  /** Series of ai_gateway_budget_remaining set in a window not yet ended, by series. */
  readonly #budgetWindows = new Map<string, BudgetRemainingWindow>();
  #now: () => number = Date.now;
  readonly #budgetRemaining = new Gauge({
    name: 'ai_gateway_budget_remaining',
    help: 'Remaining budget in the current window (tokens, dollars or requests, per limit); the whole limit once the window it was last spent in has ended',
    labelNames: ['budget_key', 'limit'] as const,
    registers: [this.registry],
    collect: () => {
      // A window ended with nothing settled in the next one yet: all of the limit is left.
      const now = this.#now();
      for (const [series, window] of this.#budgetWindows) {
        if (window.endsAt > now) continue;
        this.#budgetRemaining.set(window.labels, window.limit);
        this.#budgetWindows.delete(series);
      }
    },
  });
  /** Where the exhaustion-marks gauge reads the local budget view when scraped (ingress, router). */
  #exhaustionMarks: () => number = () => 0;
  readonly #budgetExhaustionMarks = new Gauge({
    name: 'ai_gateway_budget_exhaustion_marks',
    help: "Marks in this process's local view of exhausted limits (refused here without a network call): the limits exhausted in current windows, as marks of ended windows are swept every 15 s",
    registers: [this.registry],
    collect: () => {
      this.#budgetExhaustionMarks.set(this.#exhaustionMarks());
    },
  });
  /** Where the local-balances gauge reads the embedded budget store when scraped (no Redis). */
  #localBudgetBalances: () => number = () => 0;
  readonly #budgetLocalBalances = new Gauge({
    name: 'ai_gateway_budget_local_balances',
    help: "Balances the embedded budget store (no REDIS_URL) keeps in this process's memory and budget.db: one per user, limit and window, each until its window ends plus an hour; many distinct callers grow it",
    registers: [this.registry],
    collect: () => {
      this.#budgetLocalBalances.set(this.#localBudgetBalances());
    },
  });
  // Set at each /readyz evaluation (the kubelet probes every few seconds): the shared
  // dependencies readiness reports without gating on, so an outage of one shows here.
  readonly #dependencyReachable = new Gauge({
    name: 'ai_gateway_dependency_reachable',
    help: 'Whether a dependency every replica shares (redis, router, providerAdapter) answered at the last /readyz (1) or not (0); it never takes a pod out of rotation',
    labelNames: ['dependency'] as const,
    registers: [this.registry],
  });
  // Set when the budget store's Redis connection opens (CONFIG GET maxmemory-policy).
  readonly #redisEvictionPolicySafe = new Gauge({
    name: 'ai_gateway_redis_eviction_policy_safe',
    help: "Whether the budget store's Redis (REDIS_URL) keeps every key under memory pressure: 1 when its maxmemory-policy is noeviction, 0 when it may evict keys (allkeys-*, volatile-*: budget balances and applied-event markers, so budgets reset and redelivered usage counts twice; client secrets; deduplication locks), by policy; read with CONFIG GET each time the connection opens. Absent when Redis refuses CONFIG (managed Redis often does): not checked",
    labelNames: ['policy'] as const,
    registers: [this.registry],
  });
  readonly #usageSettlements = new FastCounter({
    name: 'ai_gateway_budget_usage_events_total',
    help: 'Usage events the budget settler read, by result: applied, or duplicate (redelivered, already applied, skipped)',
    labelNames: ['result'] as const,
    registers: [this.registry],
  });
  readonly #overshoot = new Counter({
    name: 'ai_gateway_reservation_overshoot_tokens_total',
    help: 'Spend beyond a limit after admission by reservation, in the limit unit (tokens; dollars or requests for those limits): the concurrency bound',
    labelNames: ['limit'] as const,
    registers: [this.registry],
  });
  readonly #holdsLapsed = new Counter({
    name: 'ai_gateway_budget_holds_lapsed_total',
    help: 'Budget holds that lapsed: nothing settled or released them in time (a call whose usage never came, after AI_GATEWAY_RESERVATION_HOLD_MS; a batch never billed nor given back, after 36 hours), by kind (call, batch). Counted once, by the process whose reservation found it lapsed',
    labelNames: ['kind'] as const,
    registers: [this.registry],
  });
  readonly #lateSettlements = new Counter({
    name: 'ai_gateway_budget_late_settlements_total',
    help: 'Usage settled after its budget hold had lapsed (past its time or swept: a call that outlived its hold, as no ingress kept refreshing it, or a usage event that came late), by hold kind (call, batch). Charged all the same, in the windows the usage was reported in; its room was free for other admissions meanwhile',
    labelNames: ['kind'] as const,
    registers: [this.registry],
  });
  readonly #holdsRefreshed = new Counter({
    name: 'ai_gateway_budget_holds_refreshed_total',
    help: 'Budget holds of calls still running (long streams, Realtime sessions) pushed on by another AI_GATEWAY_RESERVATION_HOLD_MS so they do not lapse under the call; one per hold per refresh round (at most every quarter of the hold time)',
    registers: [this.registry],
  });
  readonly #holdReleases = new Counter({
    name: 'ai_gateway_budget_hold_releases_total',
    help: 'Budget holds given back with no usage to settle them (a failed or abandoned call), by outcome: released (at once), released_on_retry (the store failed, then took a retry: up to 3, 250 ms apart growing x4, off the request path), left_to_lapse (the retries ran out: the hold keeps its room until AI_GATEWAY_RESERVATION_HOLD_MS lapses)',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });
  readonly #budgetAdjustments = new Counter({
    name: 'ai_gateway_budget_adjustments_total',
    help: 'Operator budget adjustments, per limit: action (reset, credit), limit kind (all: a reset of every limit) and outcome (applied: by the budget service; limit_closed: refused by the admin API, as every limit it names is 0 and allows nothing whatever is given back)',
    labelNames: ['action', 'limit', 'outcome'] as const,
    registers: [this.registry],
  });
  readonly #alertWebhooks = new Counter({
    name: 'ai_gateway_budget_alert_webhooks_total',
    help: 'Budget alerts POSTed to AI_GATEWAY_ALERT_WEBHOOK_URL, by outcome: delivered (a 2xx), refused (any other status; a redirect is not followed), timeout (no answer in 5 s), unreachable (no connection). Each is tried once; the alert is on the alert topic either way',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });
  readonly #budgetStatesCoalesced = new Counter({
    name: 'ai_gateway_budget_states_coalesced_total',
    help: 'Budget state announcements of room left (remaining) folded into a later one for the same limit, to keep the state topic at one per limit per interval',
    registers: [this.registry],
  });
  readonly #broadcastLag = new FastHistogram({
    name: 'ai_gateway_budget_broadcast_lag_seconds',
    help: 'From the budget service announcing a state change to this replica applying it',
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });
  readonly #spoolDepth = new Gauge({
    name: 'ai_gateway_kafka_producer_spool_depth',
    help: 'Events spooled to local disk while Kafka is unreachable',
    registers: [this.registry],
  });
  // A gauge, not a counter: set before the first scrape, a counter's 1 would read as no increase.
  readonly #spoolSetAside = new Gauge({
    name: 'ai_gateway_event_spool_set_aside',
    help: '1 when this process found its Kafka producer spool unreadable (corrupted) at start, renamed it to <file>.unreadable-<ms> and started with an empty one (the events it held are not replayed); else 0',
    registers: [this.registry],
  });
  // Labelled by transport, so a process on the embedded log exports no series to alert on.
  readonly #transportConnected = new Gauge({
    name: 'ai_gateway_event_transport_connected',
    help: 'Whether the event transport answers (1) or not (0: events wait in the disk spool, consumers wait): Kafka answered the start, the last send and every consumer',
    labelNames: ['transport'] as const,
    registers: [this.registry],
  });
  readonly #transportConnectionAttempts = new Counter({
    name: 'ai_gateway_event_transport_connection_attempts_total',
    help: 'Tries to reach the event transport of a service that started without it (ingress, router, provider-adapter serve with a spool meanwhile), by outcome: connected (Kafka answered and the topics are ready) or failed',
    labelNames: ['transport', 'outcome'] as const,
    registers: [this.registry],
  });
  readonly #consumerLag = new Gauge({
    name: 'ai_gateway_kafka_consumer_lag',
    help: 'Messages between the committed offset and the partition high watermark, for the partitions this process consumes now (updated after each batch and read from the broker every 30 s)',
    labelNames: ['group', 'topic', 'partition'] as const,
    registers: [this.registry],
  });
  readonly #clientErrors = new Counter({
    name: 'ai_gateway_client_errors_total',
    help: 'Client connections that ended before they carried a request: not received in time (timeout), headers too large, not HTTP (malformed), or closed by the client halfway through sending one (aborted); and requests refused before any route, for what HTTP/1.1 itself forbids: no Host header (missing-host), more than one (duplicate-host), a transfer coding other than chunked, answered 501 (unknown-transfer-coding), an Expect other than 100-continue (unmet-expectation); a CONNECT, answered 405 (connect)',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });
  readonly #internalAuthFailures = new Counter({
    name: 'ai_gateway_internal_auth_failures_total',
    help: 'Calls to an internal wire route (router, provider-adapter) refused for lacking the AI_GATEWAY_INTERNAL_TOKEN: none sent (missing) or another (wrong)',
    labelNames: ['service', 'reason'] as const,
    registers: [this.registry],
  });
  // Per call while a rotation is under way: the hot-path counter.
  readonly #internalAuthPrevious = new FastCounter({
    name: 'ai_gateway_internal_auth_previous_token_total',
    help: 'Calls to an internal wire route (router, provider-adapter) accepted with AI_GATEWAY_INTERNAL_TOKEN_PREVIOUS during a rotation: once it stays flat on every replica, no peer sends the old token and the setting can go',
    labelNames: ['service'] as const,
    registers: [this.registry],
  });
  readonly #consumerReplacements = new Counter({
    name: 'ai_gateway_kafka_consumer_replacements_total',
    help: 'Kafka consumers replaced with a fresh one: kafkajs gave up on it (crashed) or it went quiet (stalled)',
    labelNames: ['group', 'reason'] as const,
    registers: [this.registry],
  });
  readonly #eventHandlerDeadLettered = new Counter({
    name: 'ai_gateway_event_handler_dead_lettered_total',
    help: 'Events a consumer group handler kept failing on while the store worked, sent to the dead-letter topic (gateway.dead-letter.v1, code HANDLER.FAILED) so the partition moves on; rule: strikes (it failed while other events of the batch or of other partitions of its topic were handled) or quiet-topic (it failed alone on a quiet topic, then the last good event of the topic handled again succeeded)',
    labelNames: ['group', 'topic', 'rule'] as const,
    registers: [this.registry],
  });
  readonly #eventHandlerRetries = new Counter({
    name: 'ai_gateway_event_handler_retries_total',
    help: 'Failed event handler calls that will be retried after a backoff (a batch, or a round of its events one at a time): steady while a store the handler writes to (Redis, ClickHouse, SQLite) is down',
    labelNames: ['group', 'topic'] as const,
    registers: [this.registry],
  });
  readonly #eventsRejected = new Counter({
    name: 'ai_gateway_events_rejected_total',
    help: 'Events lost to the pipeline, by topic and code: consumed events that failed to decode and were dead-lettered (their decode error code), or new events refused by a full Kafka producer spool (PRODUCER.SPOOL_FULL, _WRITE_FAILED, _TOO_LARGE, _CLOSED) or a full embedded event log backlog (EVENT_LOG.BACKLOG_FULL)',
    labelNames: ['topic', 'code'] as const,
    registers: [this.registry],
  });
  readonly #eventLogPruned = new Counter({
    name: 'ai_gateway_event_log_pruned_events_total',
    help: 'Events the embedded event log deleted past their topic retention or compacted away',
    registers: [this.registry],
  });
  readonly #answerRecordWait = new FastHistogram({
    name: 'ai_gateway_answer_record_wait_seconds',
    help: 'How long an answer (a JSON body, a stream end, a Realtime response.done, a cache hit or deduplicated answer) waited for its usage event to be durable, with AI_GATEWAY_ANSWER_AFTER_RECORD=on; outcome failed: the write failed and the answer went without it (the event is retried)',
    labelNames: ['outcome'] as const,
    buckets: ANSWER_RECORD_WAIT_BUCKETS,
    registers: [this.registry],
  });
  readonly #sqliteSync = new FastHistogram({
    name: 'ai_gateway_sqlite_sync_seconds',
    help: "How long an fdatasync of a SQLite store's WAL took on the threadpool (AI_GATEWAY_SQLITE_SYNC=full): consumer positions, Kafka offsets and answers held for their record wait for it; store event_log, analytics or budget; outcome failed: the sync failed and what waited on it did not move on (retried)",
    labelNames: ['store', 'outcome'] as const,
    buckets: ANSWER_RECORD_WAIT_BUCKETS,
    registers: [this.registry],
  });
  readonly #eventLogPruneFailures = new Counter({
    name: 'ai_gateway_event_log_prune_failures_total',
    help: 'Prunings of the embedded event log that failed (retried at the next one)',
    registers: [this.registry],
  });
  readonly #analyticsExpired = new Counter({
    name: 'ai_gateway_analytics_expired_rows_total',
    help: 'Raw analytics rows deleted past AI_GATEWAY_ANALYTICS_RETENTION_DAYS',
    registers: [this.registry],
  });
  readonly #analyticsRetentionFailures = new Counter({
    name: 'ai_gateway_analytics_retention_failures_total',
    help: 'Analytics retention passes that failed (retried at the next one)',
    registers: [this.registry],
  });
  readonly #backendCalls = new FastCounter({
    name: 'ai_gateway_backend_requests_total',
    help: 'Calls to each backend, by how they began: ok, rate_limited, timeout, error (5xx, unreachable, an unusable answer), rejected (the backend, or its adapter before calling it, refused the request) or cancelled (the client left first)',
    labelNames: ['backend', 'result'] as const,
    registers: [this.registry],
  });
  readonly #backendPolicyStops = new FastCounter({
    name: 'ai_gateway_backend_content_filtered_total',
    help: "Answers a backend ended for its own content policy (finish_reason content_filter: a Bedrock guardrail's guardrail_intervened or content_filtered, a Gemini safety stop, Azure OpenAI's content filter), by backend; answered and billed like any other, so only this counts them. The gateway's own security.responseValidation blocks are ai_gateway_answers_blocked_total",
    labelNames: ['backend'] as const,
    registers: [this.registry],
  });
  /** Where the upstream pool gauges read each backend origin's pool when scraped. */
  #upstreamPools: () => Iterable<{
    origin: string;
    open: number;
    busy: number;
    waiting: number;
  }> = () => [];
  readonly #upstreamConnections = new Gauge({
    name: 'ai_gateway_upstream_connections',
    help: 'Connections to each backend origin, by state: open (idle or busy) and busy (carrying a call, a stream for its whole length)',
    labelNames: ['origin', 'state'] as const,
    registers: [this.registry],
    collect: () => {
      this.#upstreamConnections.reset();
      for (const { origin, open, busy } of this.#upstreamPools()) {
        this.#upstreamConnections.set({ origin, state: 'open' }, open);
        this.#upstreamConnections.set({ origin, state: 'busy' }, busy);
      }
    },
  });
  readonly #upstreamWaiting = new Gauge({
    name: 'ai_gateway_upstream_requests_waiting',
    help: 'Calls waiting for a connection to their backend origin: every connection AI_GATEWAY_UPSTREAM_CONNECTIONS allows is busy',
    labelNames: ['origin'] as const,
    registers: [this.registry],
    collect: () => {
      this.#upstreamWaiting.reset();
      for (const { origin, waiting } of this.#upstreamPools()) {
        this.#upstreamWaiting.set({ origin }, waiting);
      }
    },
  });
  /** Where the peer pool gauges read the split services' pools to their next hop. */
  #peerPools: () => Iterable<{ peer: string; open: number; busy: number; waiting: number }> =
    () => [];
  readonly #peerConnections = new Gauge({
    name: 'ai_gateway_peer_connections',
    help: "A split deployment's connections to its next service (the ingress's to the router, the router's to the provider-adapter), by peer and state: open (idle or busy) and busy (carrying a call, a stream for its whole length); ROUTER_CONNECTIONS and PROVIDER_ADAPTER_CONNECTIONS bound them",
    labelNames: ['peer', 'state'] as const,
    registers: [this.registry],
    collect: () => {
      this.#peerConnections.reset();
      for (const { peer, open, busy } of this.#peerPools()) {
        this.#peerConnections.set({ peer, state: 'open' }, open);
        this.#peerConnections.set({ peer, state: 'busy' }, busy);
      }
    },
  });
  readonly #peerWaiting = new Gauge({
    name: 'ai_gateway_peer_requests_waiting',
    help: "Calls a split deployment's service holds because every connection to its next service (ROUTER_CONNECTIONS, PROVIDER_ADAPTER_CONNECTIONS) is busy: they wait, unanswered, until a call in flight ends",
    labelNames: ['peer'] as const,
    registers: [this.registry],
    collect: () => {
      this.#peerWaiting.reset();
      for (const { peer, waiting } of this.#peerPools()) this.#peerWaiting.set({ peer }, waiting);
    },
  });
  /** Where the send timeout counter reads this process's dropped connections. */
  #sendTimeoutsRead: () => number = () => 0;
  #sendTimeoutsCounted = 0;
  readonly #clientSendTimeouts = new Counter({
    name: 'ai_gateway_client_send_timeouts_total',
    help: 'Connections dropped because their reader took nothing for 60 s while an answer waited to be written (a client that stopped reading a stream with its connection open; in a split deployment also a service hop): the call ends, its backend call cancelled and what went by billed',
    registers: [this.registry],
    collect: () => {
      const dropped = this.#sendTimeoutsRead();
      if (dropped > this.#sendTimeoutsCounted) {
        this.#clientSendTimeouts.inc(dropped - this.#sendTimeoutsCounted);
        this.#sendTimeoutsCounted = dropped;
      }
    },
  });
  readonly #backendCooldowns = new Counter({
    name: 'ai_gateway_backend_cooldowns_total',
    help: 'Backends cooled down after failing (skipped while others are left), by reason: retry_after (it asked us to wait) or failures (too many in a row)',
    labelNames: ['backend', 'reason'] as const,
    registers: [this.registry],
  });
  readonly #streamIdleTimeouts = new Counter({
    name: 'ai_gateway_backend_stream_idle_timeouts_total',
    help: "Streams cut because their backend sent no event for its streamIdleTimeout after the stream had started (the client got the API's error event), by backend",
    labelNames: ['backend'] as const,
    registers: [this.registry],
  });
  readonly #streamsBroken = new Counter({
    name: 'ai_gateway_backend_streams_broken_total',
    help: "Streams their backend broke off after the stream had started (cut, an error mid-stream, a choice left unfinished; stalls are ai_gateway_backend_stream_idle_timeouts_total): no failover, the client got the API's error event, by backend",
    labelNames: ['backend'] as const,
    registers: [this.registry],
  });
  /** Where the drained gauge reads the drained backends when scraped (the router, if any). */
  #drainedBackends: () => Iterable<string> = () => [];
  readonly #backendDrained = new Gauge({
    name: 'ai_gateway_backend_drained',
    help: 'Backends an operator drained on this process (POST /admin/backends/{route}/{backend}/drain): 1 until reset; a drained backend is called only when the others fail',
    labelNames: ['backend'] as const,
    registers: [this.registry],
    collect: () => {
      this.#backendDrained.reset();
      for (const backend of this.#drainedBackends()) this.#backendDrained.set({ backend }, 1);
    },
  });
  readonly #backendAdminActions = new Counter({
    name: 'ai_gateway_backend_admin_actions_total',
    help: 'Operator actions on backends from the admin port, by action: reset (its cooldown and drain ended) or drain (out of rotation until reset)',
    labelNames: ['action'] as const,
    registers: [this.registry],
  });
  /** Where the cooling gauge reads the backends' state when scraped (the router, if any). */
  #backendStates: () => Iterable<{ backend: string; cooling: boolean }> = () => [];
  readonly #backendCooling = new Gauge({
    name: 'ai_gateway_backend_cooling',
    help: 'Whether a configured backend is cooling down now (1) or in rotation (0)',
    labelNames: ['backend'] as const,
    registers: [this.registry],
    collect: () => {
      // Read afresh each scrape, so a backend removed from the config leaves the series.
      this.#backendCooling.reset();
      for (const { backend, cooling } of this.#backendStates()) {
        this.#backendCooling.set({ backend }, cooling ? 1 : 0);
      }
    },
  });
  /** Where the missing-key gauge reads the skipped backends when scraped (the runtime's config). */
  #backendsMissingKey: () => Iterable<string> = () => [];
  readonly #backendMissingKey = new Gauge({
    name: 'ai_gateway_backend_missing_key',
    help: 'Backends this process skips because their API key was missing when the config loaded (AI_GATEWAY_MISSING_SECRETS=warn or an optional apiKeyRef): 1 until the key appears',
    labelNames: ['backend'] as const,
    registers: [this.registry],
    collect: () => {
      this.#backendMissingKey.reset();
      for (const backend of this.#backendsMissingKey()) {
        this.#backendMissingKey.set({ backend }, 1);
      }
    },
  });
  /** Where the per-route gauge reads each route's backends when scraped (the router, if any). */
  #routeBackends: () => Iterable<RouteBackendsSample> = () => [];
  // Per route, not per backend: a backend name may serve several routes, and its cooling
  // (kept by name) says nothing of whether a route has another one left.
  readonly #routeBackendsAvailable = new Gauge({
    name: 'ai_gateway_route_backends_available',
    help: 'Backends of a configured route in rotation now in this process: neither cooling down, drained nor skipped for a missing key; 0 means the route only has last resorts (or nothing) to call',
    labelNames: ['route'] as const,
    registers: [this.registry],
    collect: () => {
      // Read afresh each scrape, so a route removed from the config leaves the series.
      this.#routeBackendsAvailable.reset();
      for (const { route, available } of this.#routeBackends()) {
        this.#routeBackendsAvailable.set({ route }, available);
      }
    },
  });
  /** Where the load gauges read the backends' figures when scraped (the router, if any). */
  #backendLoads: () => Iterable<BackendLoadSample> = () => [];
  readonly #backendInFlight = new Gauge({
    name: 'ai_gateway_backend_in_flight',
    help: "Calls this router process has in flight to a backend (a stream until its end), as loadBalancing's least-busy reads them",
    labelNames: ['backend'] as const,
    registers: [this.registry],
    collect: () => {
      this.#backendInFlight.reset();
      for (const { backend, inFlight } of this.#backendLoads()) {
        this.#backendInFlight.set({ backend }, inFlight);
      }
    },
  });
  readonly #backendLatency = new Gauge({
    name: 'ai_gateway_backend_latency_ewma_seconds',
    help: "A backend's recent latency in this router process (moving average of its answered calls: time to first byte for streams, the whole call for JSON), as loadBalancing's lowest-latency reads it; absent until it answered and once no answer came for a latency half-life",
    labelNames: ['backend'] as const,
    registers: [this.registry],
    collect: () => {
      this.#backendLatency.reset();
      for (const { backend, latencyMs } of this.#backendLoads()) {
        if (latencyMs !== undefined) this.#backendLatency.set({ backend }, latencyMs / 1000);
      }
    },
  });
  // The latency series goes once its figure is stale rather than repeat an old value: a
  // gap, not a flat line, while nothing measures the backend. The age per kind says which
  // of lowest-latency's two figures is old and since when (compare with the half-life).
  readonly #backendLatencyAge = new Gauge({
    name: 'ai_gateway_backend_latency_age_seconds',
    help: "Seconds since a backend's last answer of a kind (json, stream) in this router process; lowest-latency reads that kind's figure as unmeasured once this passes AI_GATEWAY_LATENCY_HALF_LIFE_SECONDS; absent until that kind answered",
    labelNames: ['backend', 'kind'] as const,
    registers: [this.registry],
    collect: () => {
      this.#backendLatencyAge.reset();
      for (const { backend, latencyAges } of this.#backendLoads()) {
        for (const { kind, seconds } of latencyAges ?? []) {
          this.#backendLatencyAge.set({ backend, kind }, seconds);
        }
      }
    },
  });
  readonly #budgetStoreUnavailable = new Counter({
    name: 'ai_gateway_budget_store_unavailable_total',
    help: 'Requests refused because the budget store (Redis) could not be reached, so admission failed closed (503, 529 on the Anthropic API; error.code budget_store_unavailable), by route',
    labelNames: ['route'] as const,
    registers: [this.registry],
  });
  readonly #tracingErrors = new Counter({
    name: 'ai_gateway_tracing_errors_total',
    help: 'Errors the OpenTelemetry SDK reported: nearly all a batch of spans that could not be exported to the OTLP collector (those spans are lost). Logged at most once a minute',
    registers: [this.registry],
  });
  readonly #budgetRefusals = new Counter({
    name: 'ai_gateway_budget_refusals_total',
    help: "Requests refused because a budget or rate limit had no room (429 budget_exceeded), by route and limit: the config's limit that refused it (tokenBudget.perUser, costControl.maxDailyCostPerUser, tokenRateLimit.perModel.tokensPerMinute, ...), or unknown for a refusal a split deployment's router sent, which does not name it. A provider's own 429s are not here",
    labelNames: ['route', 'limit'] as const,
    registers: [this.registry],
  });
  readonly #identityKeysUnavailable = new Counter({
    name: 'ai_gateway_identity_keys_unavailable_total',
    help: "Requests refused because a JWT provider's signing keys (its JWKS) could not be fetched to check the bearer token (503, 529 on the Anthropic API; error.code identity_provider_unavailable), by reason: timeout, unreachable, bad_response (not a 200 with a key set), backoff (not retried yet after a failed fetch)",
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });
  readonly #identityKeyFetches = new Counter({
    name: 'ai_gateway_identity_key_fetches_total',
    help: "Fetches of a JWT provider's signing keys (its JWKS), background refreshes included, by key server (jwks_host: the JWKS URI's host and port) and result: ok, timeout, unreachable, bad_response (not a 200 with a key set). While refreshes fail the keys already fetched go on verifying tokens and nothing else shows it; requests refused for want of keys are in ai_gateway_identity_keys_unavailable_total",
    labelNames: ['jwks_host', 'result'] as const,
    registers: [this.registry],
  });
  readonly #identityRefusals = new Counter({
    name: 'ai_gateway_identity_refusals_total',
    help: "Requests the identity step refused as the caller's fault, by reason: 401 missing_token, malformed_token, conflicting_credentials (Authorization, x-api-key, api-key or x-goog-api-key carrying different credentials), unknown_issuer, algorithm_not_allowed, unknown_key, bad_signature, expired, not_yet_valid, claims_rejected, unusable_user_claim, no_user_claim, provider_not_configured; 403 no_tier, tier_not_granted (a client's tier header naming a tier its token does not grant). Keys that could not be fetched are counted in ai_gateway_identity_keys_unavailable_total instead",
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });
  readonly #usageSinkWriteFailures = new Counter({
    name: 'ai_gateway_usage_sink_write_failures_total',
    help: 'Usage-sink batch writes that failed, by store (clickhouse, embedded): the events are not committed and are written again when redelivered',
    labelNames: ['store'] as const,
    registers: [this.registry],
  });
  readonly #analyticsQueryFailures = new Counter({
    name: 'ai_gateway_analytics_query_failures_total',
    help: 'Analytics API and usage page queries the store failed (answered 503 store_unavailable), by store (clickhouse, embedded): ClickHouse down, timed out or refusing the query',
    labelNames: ['store'] as const,
    registers: [this.registry],
  });
  readonly #usageSinkAlreadyStored = new Counter({
    name: 'ai_gateway_usage_sink_events_already_stored_total',
    help: 'Events the usage-sink did not insert into ClickHouse because the raw table already held their id (a redelivery), by table: kept out of the rollups, so analytics count each event once',
    labelNames: ['table'] as const,
    registers: [this.registry],
  });
  readonly #configReloads = new Counter({
    name: 'ai_gateway_config_reloads_total',
    help: 'Configuration reloads, by result (a failed reload keeps the last good config) and trigger: file_event, poll (the AI_GATEWAY_CONFIG_POLL_MS content check), signal (SIGHUP) or secrets_watch; a look that found nothing changed is not counted',
    labelNames: ['result', 'trigger'] as const,
    registers: [this.registry],
  });
  readonly #configLastReloadSuccessful = new Gauge({
    name: 'ai_gateway_config_last_reload_successful',
    help: 'Whether the config file on disk is in force: 1 (also before any reload), or 0 after a rejected reload (the file, or a key it names, is not in force; the last good config is) until the file loads. A reload of the last good config for its keys, the rejected file still on disk, leaves it 0',
    registers: [this.registry],
  });
  readonly #configInfo = new Gauge({
    name: 'ai_gateway_config_info',
    help: "The config in force, always 1, labelled with the SHA-256 of the file text it was loaded from (compare `sha256sum` of the file; a rejected file's is never shown); keys read through apiKeyRef are not part of it",
    labelNames: ['digest'] as const,
    registers: [this.registry],
  });

  readonly #providerTokenRefreshes = new Counter({
    name: 'ai_gateway_provider_token_refreshes_total',
    help: 'Access tokens minted for a backend (Vertex AI: source service_account or metadata), by result ok or failed',
    labelNames: ['backend', 'source', 'result'] as const,
    registers: [this.registry],
  });

  readonly #requestSettingsDropped = new Counter({
    name: 'ai_gateway_request_settings_dropped_total',
    help: 'Request settings a client asked for that the adapter left out of the provider request, by provider, setting (temperature, top_p, top_k, seed, presence_penalty, frequency_penalty, logit_bias, safety_settings, task_type, title) and reason: model (the model refuses it, as Claude Opus 4.7 and later refuse all sampling, Claude 4.1 to 4.6 top_p beside temperature), thinking (refused with thinking on: temperature, top_k, a top_p under 0.95), unsupported (the provider has no such setting) or tool_loop (setting reasoning: the thinking asked for, left out of a Claude budget-thinking call whose tool loop came back without its signed thinking, so answered without reasoning)',
    labelNames: ['provider', 'setting', 'reason'] as const,
    registers: [this.registry],
  });

  constructor(options: MetricsRegistryOptions = {}) {
    if (options.now) this.#now = options.now;
    const overflow = (label: string): void => this.#labelOverflow.inc({ label });
    this.users = new LabelCardinalityGuard('user', options.maxUsers ?? DEFAULT_MAX_USERS, overflow);
    this.budgetKeys = new LabelCardinalityGuard(
      'budget_key',
      options.maxUsers ?? DEFAULT_MAX_USERS,
      overflow,
    );
    this.models = new LabelCardinalityGuard(
      'model',
      options.maxModels ?? DEFAULT_MAX_MODELS,
      overflow,
    );
    this.userModels = new LabelPairGuard(
      'user_model',
      options.maxUserModels ?? DEFAULT_MAX_USER_MODELS,
      overflow,
    );
    if (options.defaultLabels) this.registry.setDefaultLabels(options.defaultLabels);
    if (options.collectDefaultMetrics ?? true) collectDefaultMetrics({ register: this.registry });
    // Pre-create both results so dashboards see 0 rather than "no data".
    for (const trigger of CONFIG_RELOAD_TRIGGERS) {
      this.#configReloads.inc({ result: 'success', trigger }, 0);
      this.#configReloads.inc({ result: 'failure', trigger }, 0);
    }
    this.#configLastReloadSuccessful.set(1);
  }

  static fromEnv(
    env: NodeJS.ProcessEnv = process.env,
    options: MetricsRegistryOptions = {},
  ): MetricsRegistry {
    return new MetricsRegistry({ ...metricsOptionsFromEnv(env), ...options });
  }

  /**
   * Model names that always keep their own series on the model labels (the config's, each
   * reload's replacing the last), whatever names clients sent first: only names beyond them
   * count against `maxModels`.
   */
  keepModelLabels(names: Iterable<string>): void {
    this.models.keep(names);
  }

  /**
   * Tokens of one request. `cached` (read from the prompt cache) and `cache_write` (written
   * to it) are parts of `input`, each reported on its own series.
   */
  recordTokens(
    labels: { user: string; model: string },
    counts: Partial<Record<TokenType, number>>,
  ): void {
    const model = this.models.admit(labels.model);
    const user = this.userModels.admitUser(this.users.admit(labels.user), model);
    for (const type of TOKEN_TYPES) {
      const count = counts[type];
      if (count !== undefined && count > 0) this.#tokens.inc([user, model, type], count);
    }
  }

  observeRequestDuration(labels: { provider: string; model: string }, seconds: number): void {
    this.#requestDuration.observe([labels.provider, this.models.admit(labels.model)], seconds);
  }

  /** `from`/`to` are provider names; `reason` in either spelling (`rateLimit` or `rate_limit`). */
  recordFallback(labels: { from: string; to: string; reason: string }): void {
    this.#fallback.inc({ from: labels.from, to: labels.to, reason: toSnakeCase(labels.reason) });
  }

  /** A model call the drain deadline ended, by where it was. */
  recordDrainCut(phase: 'waiting' | 'streaming'): void {
    this.#drainCuts.inc({ phase });
  }

  /** A backend the per-model budget gate passed over, by where it learned of no room. */
  recordModelBudgetSteer(source: 'view' | 'store'): void {
    this.#modelBudgetSteers.inc({ source });
  }

  /** One read of a model's per-model balances in the store, by what it came to. */
  recordModelBudgetStoreRead(outcome: 'room' | 'steered' | 'failed'): void {
    this.#modelBudgetStoreReads.inc({ outcome });
  }

  /** One override the router applied to a call (a call with two counts twice). */
  recordRequestOverride(override: 'timeout' | 'retries' | 'fallback', clamped: boolean): void {
    this.#requestOverrides.inc({ override, clamped: clamped ? 'true' : 'false' });
  }

  addCost(labels: { user: string; model: string }, dollars: number): void {
    if (!(dollars > 0)) return;
    const model = this.models.admit(labels.model);
    this.#cost.inc(
      [this.userModels.admitUser(this.users.admit(labels.user), model), model],
      dollars,
    );
  }

  /** A call whose model has no price: its cost is missing from the dollars, not zero. */
  recordUnpricedCall(model: string): void {
    this.#unpricedCalls.inc([this.models.admit(model)]);
  }

  /**
   * A call billed at the standard rates though the backend served it at `tier`, which its
   * price has no factor for; a tier outside the providers' known names is `other`.
   */
  recordUnpricedServiceTier(model: string, tier: string): void {
    const label = KNOWN_SERVICE_TIERS.has(tier) ? tier : 'other';
    this.#unpricedServiceTierCalls.inc([this.models.admit(model), label]);
  }

  /** One answer's server tool runs (web_search: 2), by the gateway's closed set of tools. */
  recordServerToolRequests(
    model: string,
    runs: Readonly<Partial<Record<'web_search' | 'web_fetch' | 'code_execution', number>>>,
  ): void {
    for (const [tool, count] of Object.entries(runs)) {
      if (count !== undefined && count > 0) {
        this.#serverToolRequests.inc([tool, this.models.admit(model)], count);
      }
    }
  }

  /**
   * `count` matches of `detector` masked in one request's prompt or answer on `route` (config
   * names), in an answer's content or its reasoning.
   */
  recordRedactions(
    detector: string,
    route: string,
    count: number,
    direction: 'prompt' | 'answer' = 'prompt',
    part: 'content' | 'reasoning' = 'content',
  ): void {
    this.#redactions.inc([detector, route, direction, part], count);
  }

  /** An answer's choice withheld by `rule` on `route` (config names, a bounded set), matching in `part`. */
  recordAnswerBlocked(rule: string, route: string, part: 'content' | 'reasoning'): void {
    this.#answersBlocked.inc([rule, route, part]);
  }

  /** A prompt's media URL refused by `security.mediaUrls` on `route` (a config name). */
  recordMediaUrlRefused(route: string, part: 'image' | 'file' | 'other'): void {
    this.#mediaUrlsRefused.inc([route, part]);
  }

  /** A request's payload logged on `route` (a config name); `truncated` if a body was cut. */
  recordPayloadLogged(route: string, truncated: boolean): void {
    this.#payloadsLogged.inc([route, truncated ? 'true' : 'false']);
  }

  /** A payload not logged on `route`, and why. */
  recordPayloadDropped(route: string, reason: 'sampled_out'): void {
    this.#payloadsDropped.inc([route, reason]);
  }

  recordCacheHit(model: string): void {
    this.#cacheHits.inc([this.models.admit(model)]);
  }

  recordCacheMiss(model: string): void {
    this.#cacheMisses.inc([this.models.admit(model)]);
  }

  /** A request joined an identical call in flight instead of making its own. */
  recordDedupFollower(model: string): void {
    this.#dedupFollowers.inc([this.models.admit(model)]);
  }

  /** A response cache or deduplication store command failed; the request went on without it. */
  recordReuseStoreFailure(operation: ReuseStoreOperation): void {
    this.#reuseStoreFailures.inc({ operation });
  }

  /** A deduplication leader's heartbeat could not renew its running call's lock. */
  recordDedupLockRenewalFailure(reason: DedupLockRenewalFailure): void {
    this.#dedupLockRenewalFailures.inc({ reason });
  }

  /** This replica gave up on a shared call whose leader stopped sending heartbeats. */
  recordDedupSilentLeader(): void {
    this.#dedupSilentLeaders.inc();
  }

  /** Response cache entries dropped before their TTL to make room, in one store. */
  recordCacheEvictions(
    store: 'memory' | 'redis',
    reason: CacheEvictionReason,
    count: number,
  ): void {
    if (count > 0) this.#cacheEvictions.inc({ store, reason }, count);
  }

  /** The source of `ai_gateway_cache_memory_bytes`: the process's in-memory cache. */
  watchCacheMemoryBytes(bytes: () => number): void {
    this.#cacheMemoryBytes = bytes;
  }

  /** A finished deduplicated answer left process memory early (the memory bound). */
  recordDedupEviction(): void {
    this.#dedupEvictions.inc();
  }

  /** An event of the Responses API's response store (a fixed set of names, no user data). */
  recordStoredResponse(event: string): void {
    this.#storedResponses.inc({ event });
  }

  /** A Realtime session opened (+1) or ended (-1). */
  trackRealtimeSession(change: 1 | -1): void {
    this.#realtimeSessionsOpen.inc(change);
  }

  /** How a Realtime session ended, or that it was refused (a fixed set of outcomes). */
  recordRealtimeSession(outcome: string): void {
    this.#realtimeSessions.inc({ outcome });
  }

  /** A WebRTC call-control request answered, by verb and result (fixed sets). */
  recordRealtimeCallControl(verb: string, result: string): void {
    this.#realtimeCallControls.inc({ verb, result });
  }

  /** A WebRTC call ended, by who ended it (a fixed set of outcomes). */
  recordRealtimeCallEnded(outcome: string): void {
    this.#realtimeCallsEnded.inc({ outcome });
  }

  /** A Realtime client secret minted, refused or presented (a fixed set of outcomes). */
  recordRealtimeClientSecret(outcome: string): void {
    this.#realtimeClientSecrets.inc({ outcome });
  }

  /** One frame relayed in a Realtime session. */
  recordRealtimeFrame(direction: 'client_to_backend' | 'backend_to_client', bytes: number): void {
    this.#realtimeFrames.inc([direction]);
    this.#realtimeBytes.inc([direction], bytes);
  }

  /** A Files or Batch API request (fixed sets of kinds, actions and outcomes). */
  recordFilesBatches(kind: string, action: string, outcome: string): void {
    this.#filesBatches.inc({ kind, action, outcome });
  }

  /** A Gemini Files API upload request's outcome (a fixed set). */
  recordGeminiFileUpload(outcome: string): void {
    this.#geminiFileUploads.inc({ outcome });
  }

  /** A Gemini file's token count not given by its backend (reason from a fixed set). */
  recordGeminiFileCountFailed(reason: string): void {
    this.#geminiFileCountFailed.inc({ reason });
  }

  /** A finished batch billed, and what found it finished. */
  recordBatchBilled(trigger: string): void {
    this.#batchesBilled.inc({ trigger });
  }

  /** A batch seen finished (status from a fixed set), and its completed and failed requests. */
  recordBatchFinished(status: string, completedRequests: number, failedRequests: number): void {
    this.#batchesFinished.inc({ status });
    if (completedRequests > 0) this.#batchRequests.inc({ outcome: 'completed' }, completedRequests);
    if (failedRequests > 0) this.#batchRequests.inc({ outcome: 'failed' }, failedRequests);
  }

  /** A batch file streamed from or to its backend (`use` and `outcome` from fixed sets): its bytes. */
  recordBatchFileBytes(use: string, outcome: string, bytes: number): void {
    this.#batchFileBytes.inc({ use, outcome }, bytes);
  }

  /** A PDF upload let go uncounted (`reason` from a fixed set: too_large, memory). */
  recordUploadPdfUncounted(reason: string): void {
    this.#uploadPdfUncounted.inc({ reason });
  }

  /** One check of the batch sweeper, or a round it could not run (`round_failed`). */
  recordBatchSweeperCheck(outcome: string): void {
    this.#batchSweeperChecks.inc({ outcome });
  }

  recordGenAiTokenUsage(labels: GenAiLabels, counts: { input?: number; output?: number }): void {
    const requestModel = this.models.admit(labels.requestModel);
    const responseModel = this.models.admit(labels.responseModel);
    const { operation, provider } = labels;
    if (counts.input !== undefined) {
      this.#genAiTokens.observe(
        [operation, requestModel, responseModel, provider, 'input'],
        counts.input,
      );
    }
    if (counts.output !== undefined) {
      this.#genAiTokens.observe(
        [operation, requestModel, responseModel, provider, 'output'],
        counts.output,
      );
    }
  }

  /** `errorType` (e.g. `timeout`, `429`) only for failed requests, as the convention says. */
  observeGenAiRequestDuration(labels: GenAiLabels, seconds: number, errorType?: string): void {
    // An absent (or empty) error type leaves the `error_type` label off the series.
    this.#genAiDuration.observe(
      [
        labels.operation,
        this.models.admit(labels.requestModel),
        this.models.admit(labels.responseModel),
        labels.provider,
        errorType || undefined,
      ],
      seconds,
    );
  }

  observeTimeToFirstToken(labels: GenAiLabels, seconds: number): void {
    this.#genAiTtft.observe(this.genAiLabelValues(labels), seconds);
  }

  observeTimePerOutputToken(labels: GenAiLabels, seconds: number): void {
    this.#genAiTpot.observe(this.genAiLabelValues(labels), seconds);
  }

  /** `route` is the route pattern (`/v1/chat/completions`), never the raw URL. */
  recordRequest(labels: { route: string; status: number | string }): void {
    this.#requests.inc([labels.route, String(labels.status)]);
  }

  /** A request on `route` started (+1) or finished being answered (-1). */
  trackRequestInFlight(route: string, change: 1 | -1): void {
    this.#inFlightCounts.set(route, (this.#inFlightCounts.get(route) ?? 0) + change);
  }

  /**
   * What is left of a limit in its current window; with `window`, the gauge reads the whole
   * `limit` once `windowEndsAt` has passed (until spend in the next window sets it again).
   */
  setBudgetRemaining(
    labels: { budgetKey: string; limit: string },
    remaining: number,
    window?: { readonly limit: number; readonly windowEndsAt: number },
  ): void {
    const series = { budget_key: this.budgetKeys.admit(labels.budgetKey), limit: labels.limit };
    const key = `${series.limit}|${series.budget_key}`;
    // An earlier window's remainder (its usage settled late) says nothing of the later one's.
    const later = this.#budgetWindows.get(key);
    if (window && later && later.endsAt > window.windowEndsAt) return;
    this.#budgetRemaining.set(series, remaining);
    if (window) {
      this.#budgetWindows.set(key, {
        labels: series,
        limit: window.limit,
        endsAt: window.windowEndsAt,
      });
    } else {
      this.#budgetWindows.delete(key);
    }
  }

  /** One usage event through the settler: applied once, or skipped as already applied. */
  recordUsageSettlement(result: 'applied' | 'duplicate'): void {
    this.#usageSettlements.inc([result]);
  }

  /**
   * One limit's balance given back by an operator, or an adjustment refused as it could give
   * nothing back (a fixed set of names: no user key).
   */
  recordBudgetAdjustment(labels: {
    action: string;
    limit: string;
    outcome: BudgetAdjustmentOutcome;
  }): void {
    this.#budgetAdjustments.inc(labels);
  }

  /** One budget alert's webhook call (outcome: delivered, refused, timeout, unreachable). */
  recordAlertWebhook(outcome: 'delivered' | 'refused' | 'timeout' | 'unreachable'): void {
    this.#alertWebhooks.inc({ outcome });
  }

  /** Holds a budget store found lapsed (kind: call or batch, never a user). */
  recordBudgetHoldsLapsed(kind: 'call' | 'batch', count: number): void {
    this.#holdsLapsed.inc({ kind }, count);
  }

  /** A usage settled after its hold had lapsed (kind: call or batch, never a user). */
  recordLateSettlement(kind: 'call' | 'batch'): void {
    this.#lateSettlements.inc({ kind });
  }

  /** A hold given back, and how (a fixed set of outcomes). */
  recordBudgetHoldRelease(outcome: BudgetHoldReleaseOutcome): void {
    this.#holdReleases.inc({ outcome });
  }

  /** Holds of running calls an ingress pushed on (a count, no labels). */
  recordBudgetHoldsRefreshed(count: number): void {
    this.#holdsRefreshed.inc(count);
  }

  recordBudgetStateCoalesced(): void {
    this.#budgetStatesCoalesced.inc();
  }

  recordReservationOvershoot(labels: { limit: string }, tokens: number): void {
    if (tokens > 0) this.#overshoot.inc({ limit: labels.limit }, tokens);
  }

  /** How long a budget state broadcast took to reach this replica's local view. */
  observeBudgetBroadcastLag(seconds: number): void {
    this.#broadcastLag.observe([], Math.max(0, seconds));
  }

  setSpoolDepth(events: number): void {
    this.#spoolDepth.set(events);
  }

  /** A spool file SQLite could not read was set aside at start. */
  recordEventSpoolSetAside(): void {
    this.#spoolSetAside.set(1);
  }

  setEventTransportConnected(transport: string, connected: boolean): void {
    this.#transportConnected.set({ transport }, connected ? 1 : 0);
  }

  recordEventTransportConnectionAttempt(transport: string, outcome: string): void {
    this.#transportConnectionAttempts.inc({ transport, outcome });
  }

  recordClientError(reason: string): void {
    this.#clientErrors.inc({ reason });
  }

  recordInternalAuthFailure(labels: { service: string; reason: string }): void {
    this.#internalAuthFailures.inc({ service: labels.service, reason: labels.reason });
  }

  recordInternalAuthPrevious(service: string): void {
    this.#internalAuthPrevious.inc([service]);
  }

  recordConsumerReplaced(labels: { group: string; reason: string }): void {
    this.#consumerReplacements.inc({ group: labels.group, reason: labels.reason });
  }

  setConsumerLag(labels: { group: string; topic: string; partition: number }, lag: number): void {
    this.#consumerLag.set(
      { group: labels.group, topic: labels.topic, partition: String(labels.partition) },
      lag,
    );
  }

  /**
   * A partition this process no longer consumes (a rebalance moved it, or the consumer
   * stopped): its series goes, so its last lag does not outlive the ownership.
   */
  clearConsumerLag(labels: { group: string; topic: string; partition: number }): void {
    this.#consumerLag.remove({
      group: labels.group,
      topic: labels.topic,
      partition: String(labels.partition),
    });
  }

  /**
   * An answer held for its usage record (AI_GATEWAY_ANSWER_AFTER_RECORD=on): `durable`, or
   * `failed` when the write failed and it went without waiting further.
   */
  observeAnswerRecordWait(outcome: 'durable' | 'failed', seconds: number): void {
    this.#answerRecordWait.observe([outcome], seconds);
  }

  /** One fdatasync of a SQLite store's WAL (the durable point positions and answers wait on). */
  observeSqliteSync(
    store: 'event_log' | 'analytics' | 'budget',
    outcome: 'synced' | 'failed',
    seconds: number,
  ): void {
    this.#sqliteSync.observe([store, outcome], seconds);
  }

  /** One pruning of the embedded event log: how many events it deleted, or that it failed. */
  recordEventLogPruned(outcome: { deleted: number } | { error: unknown }): void {
    if ('error' in outcome) this.#eventLogPruneFailures.inc();
    else this.#eventLogPruned.inc(outcome.deleted);
  }

  recordAnalyticsRetention(outcome: { expiredRows: number } | { error: unknown }): void {
    if ('error' in outcome) this.#analyticsRetentionFailures.inc();
    else this.#analyticsExpired.inc(outcome.expiredRows);
  }

  /** An event its handler kept failing on while the store worked: dead-lettered, by `rule`. */
  recordEventHandlerDeadLettered(labels: { group: string; topic: string; rule: string }): void {
    this.#eventHandlerDeadLettered.inc(labels);
  }

  /** A failed handler call, retried after a backoff. */
  recordEventHandlerRetry(labels: { group: string; topic: string }): void {
    this.#eventHandlerRetries.inc(labels);
  }

  /** Events dead-lettered, or refused by a full producer spool or event log backlog. */
  recordEventRejected(labels: { topic: string; code: string }, count = 1): void {
    this.#eventsRejected.inc(labels, count);
  }

  /** One call to a backend, by how it began (a stream cut later still began `ok`). */
  recordBackendCall(backend: string, result: BackendCallResult): void {
    this.#backendCalls.inc([backend, result]);
  }

  /** An answer the backend ended for its own content policy (finish_reason content_filter). */
  recordBackendPolicyStop(backend: string): void {
    this.#backendPolicyStops.inc([backend]);
  }

  recordBackendCooldown(labels: { backend: string; reason: string }): void {
    this.#backendCooldowns.inc(labels);
  }

  /** A started stream cut for going silent past its backend's streamIdleTimeout. */
  recordStreamIdleTimeout(backend: string): void {
    this.#streamIdleTimeouts.inc({ backend });
  }

  /** A started stream its backend broke off (not a stall, not the client leaving). */
  recordStreamBroken(backend: string): void {
    this.#streamsBroken.inc({ backend });
  }

  /** A shared dependency's state as /readyz last found it (reported, never gating). */
  setDependencyReachable(dependency: string, reachable: boolean): void {
    this.#dependencyReachable.set({ dependency }, reachable ? 1 : 0);
  }

  /**
   * The budget store Redis's `maxmemory-policy` as read at its last connection: one series,
   * 1 for `noeviction`, else 0. A policy Redis does not document folds into `other`.
   */
  setRedisEvictionPolicy(policy: string): void {
    const label = REDIS_MAXMEMORY_POLICIES.includes(policy) ? policy : 'other';
    this.#redisEvictionPolicySafe.reset();
    this.#redisEvictionPolicySafe.set({ policy: label }, policy === 'noeviction' ? 1 : 0);
  }

  /** The source of `ai_gateway_budget_exhaustion_marks`: the process's exhaustion view. */
  watchExhaustionMarks(count: () => number): void {
    this.#exhaustionMarks = count;
  }

  /** The source of `ai_gateway_budget_local_balances`: the embedded budget store. */
  watchLocalBudgetBalances(count: () => number): void {
    this.#localBudgetBalances = count;
  }

  /** The source of `ai_gateway_backend_drained`: the process's backend health. */
  watchDrainedBackends(backends: () => Iterable<string>): void {
    this.#drainedBackends = backends;
  }

  /** An operator's reset or drain of a backend (POST /admin/backends/...). */
  recordBackendAdminAction(action: 'reset' | 'drain'): void {
    this.#backendAdminActions.inc({ action });
  }

  /** The source of the upstream pool gauges: the process's shared upstream agent. */
  watchUpstreamPools(
    pools: () => Iterable<{ origin: string; open: number; busy: number; waiting: number }>,
  ): void {
    this.#upstreamPools = pools;
  }

  /** The source of `ai_gateway_client_send_timeouts_total`: the process's dropped readers. */
  watchClientSendTimeouts(read: () => number): void {
    this.#sendTimeoutsRead = read;
  }

  /** The source of the peer pool gauges: a split service's pool to its next service. */
  watchPeerPools(
    pools: () => Iterable<{ peer: string; open: number; busy: number; waiting: number }>,
  ): void {
    this.#peerPools = pools;
  }

  /** The source of `ai_gateway_backend_missing_key`: the process's configuration. */
  watchBackendsMissingKey(backends: () => Iterable<string>): void {
    this.#backendsMissingKey = backends;
  }

  /** The source of `ai_gateway_route_backends_available`: the process's router. */
  watchRouteBackends(routes: () => Iterable<RouteBackendsSample>): void {
    this.#routeBackends = routes;
  }

  /** A request refused because the budget store could not be reached (`route` as in recordRequest). */
  recordBudgetStoreUnavailable(route: string): void {
    this.#budgetStoreUnavailable.inc({ route });
  }

  /** A request a budget or rate limit refused, by route and the limit (a fixed set, or unknown). */
  /** The tracing SDK reported an error (a failed export: its spans are lost). */
  recordTracingError(): void {
    this.#tracingErrors.inc();
  }

  recordBudgetRefusal(route: string, limit: string): void {
    this.#budgetRefusals.inc({ route, limit });
  }

  /** A request refused because a JWT provider's keys could not be fetched. */
  recordIdentityKeysUnavailable(
    reason: 'timeout' | 'unreachable' | 'bad_response' | 'backoff',
  ): void {
    this.#identityKeysUnavailable.inc({ reason });
  }

  /** One fetch of a JWT provider's key set at `jwksHost` (a JWKS URI's host and port), by how it ended. */
  recordIdentityKeyFetch(
    result: 'ok' | 'timeout' | 'unreachable' | 'bad_response',
    jwksHost: string,
  ): void {
    this.#identityKeyFetches.inc({ jwks_host: jwksHost, result });
  }

  /**
   * A request the identity step refused (401, 403). `reason` is one of its fixed rejection
   * reasons (identity.errors.ts, `-` as `_`): a bounded set, never a token or user.
   */
  recordIdentityRefusal(reason: string): void {
    this.#identityRefusals.inc({ reason });
  }

  /** A batch write of the usage-sink that failed (retried on redelivery). */
  recordUsageSinkWriteFailure(store: 'clickhouse' | 'embedded'): void {
    this.#usageSinkWriteFailures.inc({ store });
  }

  /** An analytics API query the store failed (answered 503). */
  recordAnalyticsQueryFailure(store: 'clickhouse' | 'embedded'): void {
    this.#analyticsQueryFailures.inc({ store });
  }

  /** Events of a usage-sink batch a ClickHouse raw table already held (not inserted again). */
  recordUsageSinkAlreadyStored(table: string, events: number): void {
    this.#usageSinkAlreadyStored.inc({ table }, events);
  }

  /** The source of `ai_gateway_backend_cooling`: the process's router. */
  watchBackendStates(states: () => Iterable<{ backend: string; cooling: boolean }>): void {
    this.#backendStates = states;
  }

  /**
   * The source of `ai_gateway_backend_in_flight`, `ai_gateway_backend_latency_ewma_seconds`
   * and `ai_gateway_backend_latency_age_seconds`: the process's router.
   */
  watchBackendLoads(loads: () => Iterable<BackendLoadSample>): void {
    this.#backendLoads = loads;
  }

  /** One access-token refresh: a service-account exchange or a metadata-server request. */
  recordProviderTokenRefresh(backend: string, source: string, result: 'ok' | 'failed'): void {
    this.#providerTokenRefreshes.inc({ backend, source, result });
  }

  /**
   * One setting left out of a provider request (its name, never its value). Setting and
   * reason are of the closed sets of ServedBy's droppedSettings, never a client's string.
   */
  recordRequestSettingDropped(provider: string, setting: string, reason: string): void {
    this.#requestSettingsDropped.inc({ provider, setting, reason });
  }

  /**
   * A reload applied or rejected, the digest of the config in force after it, and whether
   * that config is the file on disk (a rejected edit may stay there past a key reload).
   */
  recordConfigReload(
    success: boolean,
    trigger: ConfigReloadTrigger,
    digestInForce: string,
    fileInForce: boolean,
  ): void {
    this.#configReloads.inc({ result: success ? 'success' : 'failure', trigger });
    this.#configLastReloadSuccessful.set(fileInForce ? 1 : 0);
    this.recordConfigInForce(digestInForce);
  }

  /** The digest (configTextDigest) of the config in force: its series alone is kept. */
  recordConfigInForce(digest: string): void {
    this.#configInfo.reset();
    this.#configInfo.set({ digest }, 1);
  }

  /** Prometheus text exposition of every metric in this registry. */
  metrics(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  /** Values for GEN_AI_LABELS, in that order. */
  private genAiLabelValues(labels: GenAiLabels): [string, string, string, string] {
    return [
      labels.operation,
      this.models.admit(labels.requestModel),
      this.models.admit(labels.responseModel),
      labels.provider,
    ];
  }
}
