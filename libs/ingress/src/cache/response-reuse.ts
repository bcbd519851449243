import { servingModels } from '@aigw/budget-core';
import { routeForModel, type GatewayConfig, type RouteConfig } from '@aigw/config';
import type {
  GatewayAnswer,
  GatewayRequest,
  JsonObject,
  ServedBy,
  TokenUsage,
} from '@aigw/contracts/data-plane';
import { answerFromFlight, pumpIntoFlight, Flight } from '../dedup/domain/flight';
import type { FlightCoordinator } from '../dedup/domain/flight-coordinator';
import { cacheDirectives } from './domain/cache-control';
import {
  decodeCachedAnswer,
  encodeCachedAnswer,
  replayCachedAnswer,
  contentFiltered,
  streamCompleted,
  type CachedAnswer,
} from './domain/cached-answer';
import { requestKey } from './domain/request-key';
import type { ResponseCacheStore } from './domain/response-cache-store';
import { billedUsage, billsReuse, type ReuseBilling } from './domain/reuse-billing';
import type { ReusePublisher } from './reuse-publisher';

type IncomingHeaders = Readonly<Record<string, string | string[] | undefined>>;

/** What the cache and deduplication will do for one request. */
export interface ReusePlan {
  readonly cache?: {
    readonly store: ResponseCacheStore;
    readonly namespace: string;
    readonly key: string;
    readonly lookup: boolean;
    readonly keep: boolean;
    readonly ttlMs: number;
    readonly maxBytes?: number;
    /** The client's `max-age`: older entries are misses. */
    readonly maxAgeMs?: number;
  };
  readonly dedup?: {
    readonly key: string;
    /** The model the client asked for: a request joining a call is counted under it. */
    readonly model: string;
    readonly windowMs: number;
    /** False when this request said no-store: if it leads, its answer is not kept. */
    readonly retain: boolean;
  };
}

/** Where an answer came from: the cache, another caller's call, or this caller's own. */
export type ReuseSource = 'cache' | 'follower' | 'leader' | 'call';

export interface ServedAnswer {
  readonly source: ReuseSource;
  /** Settles after the caller was admitted; a failed shared call rejects it. */
  readonly answer: Promise<GatewayAnswer>;
  /** `x-ai-gateway-cache` and `x-ai-gateway-dedup`, for the route's enabled features. */
  readonly headers: Readonly<Record<string, string>>;
}

export interface ResponseReuseDeps {
  readonly config: () => GatewayConfig;
  /** The store for a route's `caching.backend`. */
  readonly cacheStore: (route: RouteConfig) => ResponseCacheStore;
  readonly flights: () => FlightCoordinator;
  readonly publisher: ReusePublisher;
  readonly billing: ReuseBilling;
  readonly onError?: (what: string, error: unknown) => void;
  /** The clock entries are dated by (tests move it). */
  readonly now?: () => number;
}

/** A rejection nobody has awaited yet is not an unhandled one: the edge awaits it later. */
function settled<T>(promise: Promise<T>): Promise<T> {
  promise.catch(() => undefined);
  return promise;
}

/**
 * The response cache and request deduplication at the edge, per route: answers from the
 * cache, joins an identical call in flight, or makes the call (alone, or as the leader
 * others join) and keeps its answer once it completed successfully.
 */
export class ResponseReuse {
  /** Never aborted: a leader's call outlives its own client for the callers sharing it. */
  private readonly detached = new AbortController().signal;

  private readonly now: () => number;

  constructor(private readonly deps: ResponseReuseDeps) {
    this.now = deps.now ?? Date.now;
  }

  /** Whether reused answers are billed, and so must be admitted against budgets first. */
  get billsReuse(): boolean {
    return billsReuse(this.deps.billing);
  }

  /** The tokens a reused answer bills its caller (none, all, or a share of them). */
  billedFor(usage: TokenUsage): TokenUsage {
    return billedUsage(this.deps.billing, usage);
  }

  plan(request: GatewayRequest, headers: IncomingHeaders): ReusePlan | undefined {
    const route = routeForModel(this.deps.config(), request.requestedModel);
    if (!route || (!route.caching.enabled && !route.deduplication.enabled)) return undefined;
    // An uploaded file is in no cache key: two recordings must never share an answer.
    // Speech is audio, which the cache does not keep; images come as short-lived URLs.
    if (request.uploads || request.operation === 'speech' || request.operation === 'images') {
      return undefined;
    }
    // A model the caller's plan does not allow is refused by the router, never reused.
    const allowed = request.allowedModels;
    if (allowed.length > 0 && !allowed.includes(request.requestedModel)) return undefined;
    const chain = chainScope(route, request);
    const directives = cacheDirectives(headers['cache-control'], headers.pragma);
    let cache: ReusePlan['cache'];
    if (route.caching.enabled) {
      cache = {
        store: this.deps.cacheStore(route),
        namespace: route.name,
        key: requestKey(`cache${chain}`, request, route.caching.keyComponents),
        // x-ai-gateway-fallback: none asks for the first backend's answer; a stored one may
        // have come from any backend of the chain. Its own answer is stored as any other.
        lookup: directives.lookup && request.overrides?.fallback !== false,
        keep: directives.store,
        ttlMs: route.caching.ttlMs,
        ...(route.caching.maxSizeBytes === undefined
          ? {}
          : { maxBytes: route.caching.maxSizeBytes }),
        ...(directives.maxAgeMs === undefined ? {} : { maxAgeMs: directives.maxAgeMs }),
      };
    }
    // A call a client narrowed (x-ai-gateway-* overrides) is its own: joining another, its
    // deadline or fallback would not bind; leading, other callers would inherit them.
    // only-if-cached: a call in flight is no stored answer, and this request makes none.
    const dedup =
      route.deduplication.enabled &&
      request.overrides === undefined &&
      directives.onlyIfCached !== true
        ? {
            key: requestKey(
              `dedup:${route.name}${chain}`,
              request,
              route.deduplication.keyComponents,
            ),
            model: request.requestedModel,
            windowMs: route.deduplication.windowMs,
            // RFC 9111 no-store: nothing of this request's answer outlives its delivery. A
            // follower's no-store does not bind the leader: the answer is the leader's.
            retain: directives.store,
          }
        : undefined;
    if (!cache && !dedup) return undefined;
    return { ...(cache ? { cache } : {}), ...(dedup ? { dedup } : {}) };
  }

  /** An answer that needs no call of this caller's own: a cache hit, or a call to join. */
  async find(plan: ReusePlan, request: GatewayRequest): Promise<ServedAnswer | undefined> {
    if (plan.cache?.lookup) {
      const entry = await this.lookup(plan.cache);
      this.deps.publisher.lookedUp(request, entry !== undefined);
      if (entry) {
        return {
          source: 'cache',
          answer: Promise.resolve(replayCachedAnswer(entry)),
          headers: headersFor(plan, 'cache'),
        };
      }
    }
    if (plan.dedup) {
      const flight = await this.deps.flights().join(plan.dedup.key);
      if (flight) return this.following(plan, flight);
    }
    return undefined;
  }

  /**
   * Makes the call for this (admitted) request: as the leader of identical requests when
   * the route deduplicates (the call then survives this client's disconnect), or alone,
   * cancelled with its client. Either way its answer is kept if it completes.
   */
  async call(
    plan: ReusePlan,
    invoke: (signal: AbortSignal) => Promise<GatewayAnswer>,
    clientSignal: AbortSignal,
  ): Promise<ServedAnswer> {
    if (plan.dedup) {
      const { key, windowMs, retain } = plan.dedup;
      const outcome = await this.deps.flights().lead(key, windowMs, retain);
      if ('follower' in outcome) return this.following(plan, outcome.follower);
      const { flight, run } = outcome.leader;
      void run(callSafely(invoke, this.detached)).then(() => this.keep(plan, flight));
      return {
        source: 'leader',
        answer: settled(answerFromFlight(flight)),
        headers: headersFor(plan, 'leader'),
      };
    }
    const flight = new Flight();
    void pumpIntoFlight(callSafely(invoke, clientSignal), flight).then(() =>
      this.keep(plan, flight),
    );
    return {
      source: 'call',
      answer: settled(answerFromFlight(flight)),
      headers: headersFor(plan, 'call'),
    };
  }

  /**
   * AI_GATEWAY_ANSWER_AFTER_RECORD=on: a reused answer (its JSON body, its stream's end) is
   * sent only after `reusedAndRecorded`; otherwise its usage event follows it (`reused`).
   */
  get holdsAnswers(): boolean {
    return this.deps.publisher.holdsAnswers;
  }

  /** Records a reused answer's usage event, once the caller got it. */
  reused(request: GatewayRequest, servedBy: ServedBy, usage: TokenUsage): void {
    this.deps.publisher.reused(request, servedBy, usage);
  }

  /**
   * Records a reused answer's usage event before the caller gets it (`holdsAnswers`):
   * resolves once the event is durable, or its write failed (counted; the answer goes).
   */
  reusedAndRecorded(request: GatewayRequest, servedBy: ServedBy, usage: TokenUsage): Promise<void> {
    return this.deps.publisher.reusedAndRecorded(request, servedBy, usage);
  }

  private following(plan: ReusePlan, flight: Flight): ServedAnswer {
    if (plan.dedup) this.deps.publisher.joined(plan.dedup.model);
    return {
      source: 'follower',
      answer: settled(answerFromFlight(flight)),
      headers: headersFor(plan, 'follower'),
    };
  }

  private async lookup(cache: NonNullable<ReusePlan['cache']>): Promise<CachedAnswer | undefined> {
    try {
      const text = await cache.store.get(cache.namespace, cache.key);
      const entry = text === undefined ? undefined : decodeCachedAnswer(text);
      if (entry && cache.maxAgeMs !== undefined) {
        // Undated (stored by an earlier version): its age is unknown, so not fresh enough.
        const age = entry.storedAt === undefined ? Infinity : this.now() - entry.storedAt;
        if (age > cache.maxAgeMs) return undefined;
      }
      return entry;
    } catch (error) {
      this.deps.onError?.('cache lookup', error); // an unreachable cache is a miss
      return undefined;
    }
  }

  /** Stores a call's answer if it completed: errors and broken streams are never kept. */
  private async keep(plan: ReusePlan, flight: Flight): Promise<void> {
    const cache = plan.cache;
    if (!cache?.keep) return;
    const answer = cachedFromFlight(flight);
    if (!answer) return;
    const entry: CachedAnswer = { ...answer, storedAt: this.now() };
    try {
      await cache.store.set(
        cache.namespace,
        cache.key,
        encodeCachedAnswer(entry),
        cache.ttlMs,
        cache.maxBytes,
      );
    } catch (error) {
      this.deps.onError?.('cache store', error);
    }
  }
}

/** A synchronous throw becomes a rejection, so the flight always hears how the call ended. */
async function callSafely(
  invoke: (signal: AbortSignal) => Promise<GatewayAnswer>,
  signal: AbortSignal,
): Promise<GatewayAnswer> {
  return invoke(signal);
}

/**
 * With `retry.fallbackStrategy: cheaperModel`, the models that may answer depend on the
 * caller's tier (its chain leaves out the fallback models it may not use): callers share
 * answers only with callers of the same chain, so none gets a model its tier forbids.
 */
function chainScope(route: RouteConfig, request: GatewayRequest): string {
  if (route.retry?.fallbackStrategy !== 'cheaperModel') return '';
  return `\0${servingModels(route, request.requestedModel, request.allowedModels).join('\n')}`;
}

function headersFor(plan: ReusePlan, source: ReuseSource): Record<string, string> {
  const headers: Record<string, string> = {};
  if (plan.cache) headers['x-ai-gateway-cache'] = source === 'cache' ? 'hit' : 'miss';
  if (plan.dedup && (source === 'leader' || source === 'follower')) {
    headers['x-ai-gateway-dedup'] = source;
  }
  return headers;
}

function choicesOf(body: JsonObject): readonly unknown[] {
  return Array.isArray(body.choices) ? body.choices : [];
}

function cachedFromFlight(flight: Flight): CachedAnswer | undefined {
  const events = flight.snapshot();
  const head = events[0];
  if (head?.t !== 'head' || head.status !== 200) return undefined;
  const last = events[events.length - 1];
  if (head.kind === 'json') {
    return last?.t === 'json' && !contentFiltered(choicesOf(last.body), false)
      ? {
          v: 1,
          kind: 'json',
          status: head.status,
          body: last.body,
          usage: last.usage,
          servedBy: head.servedBy,
        }
      : undefined;
  }
  if (last?.t !== 'end') return undefined;
  const chunks = events.flatMap((event) => (event.t === 'chunk' ? [event.data] : []));
  if (!streamCompleted(chunks) || contentFiltered(chunks, true)) return undefined;
  return {
    v: 1,
    kind: 'stream',
    status: head.status,
    chunks,
    usage: last.usage,
    servedBy: head.servedBy,
  };
}
