import { routeForModel, tierByName, type GatewayConfig, type RouteConfig } from '@aigw/config';
import {
  allowsNothing,
  amountShown,
  amountsFor,
  balanceChangesOf,
  bindLimit,
  BoundLimitCache,
  budgetRefusal,
  BudgetRefusal,
  closedLimitRefusal,
  heldFullRefusal,
  ExhaustionView,
  headerUnitOf,
  modelLimits,
  newReservationId,
  rateLimitHeaders,
  servingModels,
  unitName,
  userLimits,
  type Balance,
  type BalanceChange,
  type BoundLimit,
  type BudgetLimit,
  type BudgetStore,
  type LimitUnit,
  type ReserveResult,
  type TokenCounts,
} from '@aigw/budget-core';
import {
  DataPlaneError,
  DataPlaneErrorCode,
  estimatePromptTokensUpperBound,
  inferenceGeoAsked,
  promptMedia,
  type PromptMedia,
  AUDIO_OPERATIONS,
  IMAGE_OPERATIONS,
  MEDIA_OPERATIONS,
  SCORING_OPERATIONS,
  normalizedThinking,
  promptCount,
  REASONING_DEFAULT_MAX_OUTPUT_TOKENS,
  callerBudgetKey,
  type GatewayRequest,
  type Operation,
} from '@aigw/contracts/data-plane';
import { mediaHoldCounts } from './audio-hold';
import { chatAudioTokensUpperBound } from './chat-audio-hold';
import { webSearchHold } from './web-search-hold';
import { imageTokensPastEstimate, promptImagesOn } from './image-token-bound';
import { HoldReleases, type HoldReleaseOutcome, type HoldReleasesOptions } from './hold-releases';
import { LastBalances } from './last-balances';
import { RunningHolds } from './running-holds';
import { scoringHoldCounts } from '../scoring/scoring-hold';
import { promptTextOnce } from '../domain/prompt-text-once';

/** The operations held by their own counts (media, moderations, reranks), not chat's. */
const OWN_HOLD_OPERATIONS: ReadonlySet<Operation> = new Set([
  ...MEDIA_OPERATIONS,
  ...SCORING_OPERATIONS,
]);

function ownHoldCounts(request: GatewayRequest): TokenCounts {
  return SCORING_OPERATIONS.has(request.operation)
    ? scoringHoldCounts(request)
    : mediaHoldCounts(request);
}

export interface AdmissionOptions {
  /** Output tokens assumed for a request that sets no `max_tokens`. */
  readonly defaultMaxOutputTokens: number;
  /** How long a hold lasts if the request never settles or releases it. */
  readonly holdMs: number;
  readonly now?: () => number;
  /** Told how many holds of running calls a refresh round pushed on. */
  readonly onHoldsRefreshed?: (count: number) => void;
  /** Told what became of each hold given back (released, after retries, left to lapse). */
  readonly onHoldReleased?: (outcome: HoldReleaseOutcome) => void;
  /** How a release the store failed is tried again (defaults: 3 retries, 250 ms, x4). */
  readonly releaseRetries?: Pick<HoldReleasesOptions, 'retries' | 'firstDelayMs' | 'backoff'>;
}

/** What an admitted request carries: its hold, and the rate-limit headers to send. */
export interface Admission {
  readonly reservationId?: string;
  readonly headers: Readonly<Record<string, string>>;
  /**
   * Models passed over for this request alone (too small for it in a whole window), for
   * the router to turn away: `GatewayRequest.passedOverModels` (`admittedRequest`).
   */
  readonly passedOverModels?: readonly string[];
  /**
   * The default output held for each choice of a request without `max_tokens`
   * (`GatewayRequest.defaultMaxOutputTokens`): what an adapter of an older build reckons
   * its cap from.
   */
  readonly defaultMaxOutputTokens?: number;
  /**
   * The output held for each choice of this request, which sets no `max_tokens`, reasoning
   * room included (`unboundedOutputTokens`), for the adapter whose provider requires a cap
   * to send as it is: `GatewayRequest.heldOutputTokens`. Absent when the request sets one.
   */
  readonly heldOutputTokens?: number;
}

/**
 * `request` as the router gets it once admitted: with its hold, its passed-over models and
 * the output held (the cap a Claude adapter sends when the client set none), with the
 * default it came from for an adapter of an older build.
 */
export function admittedRequest(request: GatewayRequest, admission: Admission): GatewayRequest {
  const { reservationId, passedOverModels, defaultMaxOutputTokens, heldOutputTokens } = admission;
  // Per request: one copy, with no key (nor a spread object) for what the admission lacks.
  const admitted: Writable<GatewayRequest> = { ...request, reservationId, defaultMaxOutputTokens };
  if (passedOverModels !== undefined) admitted.passedOverModels = passedOverModels;
  if (heldOutputTokens !== undefined) admitted.heldOutputTokens = heldOutputTokens;
  return admitted;
}

type Writable<T> = { -readonly [K in keyof T]: T[K] };

/** A limit as admission checks it: with its entry in the exhaustion view. */
interface AdmissionLimit extends BoundLimit {
  readonly exhaustionKey: string;
  /** `limit` as its rate-limit header says it, made once per window, not per answer. */
  readonly limitText: string;
}

function forAdmission(limit: BudgetLimit, at: number): AdmissionLimit {
  const bound = bindLimit(limit, at);
  const exhaustionKey = ExhaustionView.keyOf(bound.subject, bound.kind, bound.windowRef.id);
  return { ...bound, exhaustionKey, limitText: String(bound.limit) };
}

/**
 * Admits a request against every budget that binds it, before any provider is called:
 * its worst-case cost (prompt estimate plus the output it may produce, priced on the
 * dearest model that may serve it), and one request for request-count limits, is held
 * atomically in the store against the caller's limits and the `tokenRateLimit.perModel`
 * limits of the model it is expected to be served by, and settled to the real cost when
 * its usage event arrives. A burst of parallel calls therefore cannot spend past a limit;
 * it can only be refused. An exhausted limit known from the broadcast, or a limit of 0, is
 * refused with no network call.
 */
export class BudgetAdmission {
  private readonly now: () => number;
  private readonly limits = new BoundLimitCache<AdmissionLimit>();
  /** Per-model limits, by route and model (their caller). */
  private readonly modelLimits = new BoundLimitCache<AdmissionLimit>();
  /** What callers were last told, for answers reused on routes that cache or share calls. */
  private readonly lastBalances: LastBalances<AdmissionLimit>;
  /** Holds of calls still running, kept from lapsing under them. */
  private readonly running: RunningHolds;
  /** Holds given back, tried again off the request path when the store fails. */
  private readonly releases: HoldReleases;
  /** An admission that holds nothing: no limit binds (its default output still goes on). */
  private readonly noLimits: Admission;

  constructor(
    private readonly config: () => GatewayConfig,
    private readonly store: BudgetStore,
    private readonly exhausted: ExhaustionView,
    private readonly options: AdmissionOptions,
  ) {
    this.now = options.now ?? Date.now;
    this.noLimits = { headers: {}, defaultMaxOutputTokens: options.defaultMaxOutputTokens };
    this.lastBalances = new LastBalances<AdmissionLimit>(this.now);
    this.running = new RunningHolds(store, {
      holdMs: options.holdMs,
      now: this.now,
      onRefreshed: options.onHoldsRefreshed,
    });
    this.releases = new HoldReleases(store, {
      ...options.releaseRetries,
      holdMs: options.holdMs,
      now: this.now,
      onOutcome: options.onHoldReleased,
    });
  }

  async admit(request: GatewayRequest): Promise<Admission> {
    const own = this.callerLimits(request);
    if (!own) return this.noLimits; // the router answers "model not found"
    const { route, now, limits } = own;
    // Known spent from the broadcast, or a limit of 0: refused with no network call, so a
    // caller hammering an exhausted limit costs the store nothing (its headers only).
    if (own.spent) throw own.spent;
    // The output held for each choice of a request without max_tokens, reckoned here alone:
    // it goes on with the request for a Claude adapter to send as it is, held or not.
    const heldOutputTokens = this.heldOutputOf(request);
    const defaultMaxOutputTokens = this.options.defaultMaxOutputTokens;

    const served = servingModels(route, request.requestedModel, request.allowedModels);
    const models = served.length > 0 ? served : [request.requestedModel];

    const perModel = route.tokenRateLimit?.perModel;
    if (limits.length === 0 && !(perModel && models.some((m) => Object.hasOwn(perModel, m)))) {
      return this.unheld(heldOutputTokens);
    }
    // Read once (an inline PDF's pages are a decode): the estimate counts the prompt's
    // images and PDF pages, and the dearest model's bound for them adds to it.
    const media = promptMedia(request.body);
    const amounts = worstCase(
      route,
      models,
      OWN_HOLD_OPERATIONS.has(request.operation)
        ? ownHoldCounts(request)
        : this.modelCallHoldCounts(request, heldOutputTokens, media),
      request.operation === 'chat' ? promptImagesOn(request, media) : 0,
    );
    // A worst case above a whole window of one of the caller's limits is refused whenever
    // it is retried: say so (400), not "try again after the reset" (429).
    const tooSmall = limitTooSmall(limits, amounts);
    if (tooSmall) throw largerThanLimit(tooSmall, amounts[tooSmall.unit], request.operation);
    const changes = balanceChangesOf(limits, amounts);

    // The per-model limit held is that of the first model of the chain with room. With
    // `budgetExceeded` in `failover.on`, a model passed over for lack of room is marked in
    // the exhaustion view the router's gate reads, so the router skips its backends as it
    // would an exhausted model's and reaches the one held for: the request carries no
    // word of which model was held, and the mark needs none. Its cost: a request that
    // held that model just before is diverted too (over-refusal; what it then spends on
    // an unheld model counts as overshoot), and in the split deployment the router, with
    // its own view, sees only the broadcast. A mark ends with the minute, or when the
    // budget service reports room. Without the trigger the first refusal is the answer.
    // A model too small for this request in a whole window (not full) is passed over for
    // this request alone (told with it: `passedOverModels`): other callers still reach it.
    const failover = route.failover.on.includes('budgetExceeded');
    // The first refusal, the limits the request would have held with it, and whether the
    // store made it (a refusal from the exhaustion view stays without a network call).
    let refusal:
      { error: BudgetRefusal; held: readonly AdmissionLimit[]; byStore: boolean } | undefined;
    // The models too small for this request, told to the router with the request (its gate
    // turns them away for it, with no store read), so it never calls one with nothing held.
    let passedOver: string[] | undefined;
    // A worst case above a whole window of the limit of every model that may serve it (the
    // primary alone without budgetExceeded failover) is refused whenever it is retried: a
    // 400, as for the caller's own limits, and before any model is held or marked. A model
    // whose limit allows nothing serves none either. Only a primary too small or closed can
    // start such a chain, so most requests look no further.
    const primaryLimits = this.modelLimitsOf(route, models[0], now);
    if (limitTooSmall(primaryLimits, amounts) || primaryLimits.some(allowsNothing)) {
      const count = failover ? models.length : 1;
      const misfit = this.modelLimitTooSmall(route, models, count, amounts, now);
      if (misfit) throw largerThanLimit(misfit, amounts[misfit.unit], request.operation);
    }
    models: for (let index = 0; index < models.length; index++) {
      // The model's token and request limits, held together: either full passes it over.
      const ownLimits = index === 0 ? primaryLimits : this.modelLimitsOf(route, models[index], now);
      const held = ownLimits.length > 0 ? [...limits, ...ownLimits] : limits;
      for (const modelLimit of ownLimits) {
        if (allowsNothing(modelLimit)) {
          // Refused from the config, passed over like a spent one.
          refusal ??= { error: closedLimitRefusal(modelLimit, now), held, byStore: false };
          if (failover) continue models;
          throw refusal.error;
        }
        if (amounts[modelLimit.unit] > modelLimit.limit) {
          // Too small in a whole window for this request, not spent: passed over for it
          // alone (the router's gate skips it for this request), never marked for other
          // callers, and never the refusal told (a model that fits comes before it, or the
          // check above found one after it). Only with failover: without it only the primary
          // is reached, and the check above refused it too small (the 400).
          (passedOver ??= []).push(models[index]);
          continue models;
        }
        const resetAt = this.exhausted.exhaustedUntilByKey(
          modelLimit.exhaustionKey,
          now,
          modelLimit.limit,
        );
        if (resetAt !== undefined) {
          refusal ??= { error: budgetRefusal(modelLimit, 0, resetAt, now), held, byStore: false };
          if (failover) continue models;
          throw refusal.error; // known spent: no network call, as for the caller's own
        }
      }
      if (held.length === 0) {
        return passedOver
          ? { headers: {}, passedOverModels: passedOver, defaultMaxOutputTokens, heldOutputTokens }
          : this.unheld(heldOutputTokens);
      }
      const reservationId = newReservationId(now);
      const holds =
        ownLimits.length > 0 ? [...changes, ...balanceChangesOf(ownLimits, amounts)] : changes;
      let result: ReserveResult;
      // Awaited here, not in a helper: one promise less a request (the store's is enough).
      // The embedded store answers with a plain result: not awaited, a tick less.
      try {
        const reserved = this.store.reserve(reservationId, holds, this.options.holdMs, now);
        result = reserved instanceof Promise ? await reserved : reserved;
      } catch (error) {
        // The script may have run and held with its reply lost (a command timeout, a
        // dropped connection): give it back, or it would hold room until it lapses.
        void this.releases.release(reservationId);
        throw unreachableStore(error);
      }
      if (result.ok) {
        if (route.caching.enabled || route.deduplication.enabled) {
          this.lastBalances.remember(lastBalancesKey(request), held, result.balances, now);
        }
        const headers = tightestLimitHeaders(held, result.balances, now);
        return passedOver
          ? {
              reservationId,
              headers,
              passedOverModels: passedOver,
              defaultMaxOutputTokens,
              heldOutputTokens,
            }
          : { reservationId, headers, defaultMaxOutputTokens, heldOutputTokens };
      }
      const { used, reserved } = result.blocked;
      const limit = held.find((l) => l.key === result.blocked.key)!;
      const modelLimit = ownLimits.includes(limit);
      const spent = used >= limit.limit;
      // Spent (not merely held) to the limit: remember it, so the next refusal is local.
      // Held full, a model is marked only to divert to a later one.
      const diverting = failover && modelLimit && index < models.length - 1;
      if (spent || diverting) this.mark(limit, spent);
      const remaining = Math.max(0, limit.limit - used - reserved);
      const error = fitsOnceHoldsEnd(limit, used, holds)
        ? heldFullRefusal(limit, remaining, now)
        : budgetRefusal(limit, remaining, limit.windowRef.endsAt, now);
      // A caller's own limit binds whichever model serves: no other model helps.
      if (!modelLimit || !failover) throw await this.withEveryFamily(error, held, now);
      refusal ??= { error, held, byStore: true };
    }
    // Every model that may serve has its limit full: the first one's refusal.
    const first = refusal!;
    throw first.byStore ? await this.withEveryFamily(first.error, first.held, now) : first.error;
  }

  /**
   * The rate-limit headers of an answer admitted without a hold (a cache hit or a shared
   * call's answer when reuse is not billed): the caller's tightest limits as its last
   * admitted call for the model was told them, with no store call (a cache hit stays as
   * cheap as it was). With nothing remembered (the caller's first call is a hit on an answer
   * another caller cached, or its windows have ended) one balances read of the store tells
   * them, remembered as an admitted call's are, so the caller's next hits ask nothing.
   * A promise only then; none when the store fails or the caller has no such limits.
   */
  limitHeaders(
    request: GatewayRequest,
  ): Readonly<Record<string, string>> | Promise<Readonly<Record<string, string>>> {
    const now = this.now();
    const key = lastBalancesKey(request);
    const told = this.lastBalances.get(key, now);
    if (told) return tightestLimitHeaders(told.limits, told.balances, now);
    const limits = this.limitsToTell(request, now);
    return limits ? this.readLimitHeaders(key, limits, now) : {};
  }

  /**
   * What an admitted call of `request` would hold and be told of: the caller's limits and
   * those of the first model that may serve it; undefined without a token or request limit.
   */
  private limitsToTell(
    request: GatewayRequest,
    now: number,
  ): readonly AdmissionLimit[] | undefined {
    const own = this.callerLimits(request);
    if (!own) return undefined;
    const served = servingModels(own.route, request.requestedModel, request.allowedModels);
    const modelLimits = this.modelLimitsOf(own.route, served[0] ?? request.requestedModel, now);
    const limits = modelLimits.length > 0 ? [...own.limits, ...modelLimits] : own.limits;
    return limits.some((limit) => limit.unit !== 'dollars') ? limits : undefined;
  }

  private async readLimitHeaders(
    key: string,
    limits: readonly AdmissionLimit[],
    now: number,
  ): Promise<Readonly<Record<string, string>>> {
    let balances: readonly Balance[];
    try {
      balances = await this.store.balances(limits, now);
    } catch {
      return {}; // the answer goes out all the same, without headers
    }
    this.lastBalances.remember(key, limits, balances, now);
    return tightestLimitHeaders(limits, balances, now);
  }

  /** The tightest-limit headers of `limits` from the store's balances; undefined if it fails. */
  private async currentHeaders(
    limits: readonly AdmissionLimit[],
    now: number,
  ): Promise<Record<string, string> | undefined> {
    try {
      const balances = await this.store.balances(limits, now);
      return tightestLimitHeaders(limits, balances, now);
    } catch {
      return undefined; // the refusal goes out all the same, with its own headers
    }
  }

  /**
   * A refusal with the headers of every family the caller is limited in: the refusing
   * limit's own, and the tightest limit's of the other (tokens beside requests, say), read
   * from the store as it stands. Only refusals the store made pay for the read; one from
   * the broadcast's exhausted view stays without a network call.
   */
  private async withEveryFamily(
    refusal: BudgetRefusal,
    held: readonly AdmissionLimit[],
    now: number,
  ): Promise<BudgetRefusal> {
    const own = refusal.headers ?? {};
    const others = held.filter(
      (limit) =>
        limit.unit !== 'dollars' &&
        own[`x-ratelimit-limit-${headerUnitOf(limit.unit)}`] === undefined,
    );
    const extra = others.length > 0 ? await this.currentHeaders(others, now) : undefined;
    if (!extra) return refusal;
    return new BudgetRefusal(refusal.limitKind, refusal.message, {
      retryAfterMs: refusal.retryAfterMs,
      headers: { ...extra, ...own },
    });
  }

  /**
   * The refusal of one of the caller's own limits that is spent now, as this replica's view
   * of the broadcast says, or is 0 (no network call); undefined while every one has room. A session
   * that outlives its admission (Realtime) asks as it runs, to end once its caller's budget
   * is gone.
   */
  spentLimit(request: GatewayRequest): DataPlaneError | undefined {
    return this.callerLimits(request)?.spent;
  }

  /**
   * The caller's own limits on the route of the requested model (undefined without one),
   * and the refusal of the first one that is 0 or this replica's view says is spent now.
   */
  private callerLimits(request: GatewayRequest):
    | {
        readonly route: RouteConfig;
        readonly now: number;
        readonly limits: readonly AdmissionLimit[];
        readonly spent?: BudgetRefusal;
      }
    | undefined {
    const config = this.config();
    const route = routeForModel(config, request.requestedModel);
    if (!route) return undefined;
    const tier = tierByName(config, route, request.caller.tier);
    const now = this.now();
    // Its budget key, not its user key: one id named two ways is two budgets.
    const userKey = callerBudgetKey(request.caller);
    const limits = this.limits.get(route, userKey, tier, now, (at) =>
      userLimits({ route, userKey, tier }).map((limit) => forAdmission(limit, at)),
    );
    for (const limit of limits) {
      if (allowsNothing(limit)) {
        return { route, now, limits, spent: closedLimitRefusal(limit, now) }; // nothing held
      }
      const resetAt = this.exhausted.exhaustedUntilByKey(limit.exhaustionKey, now, limit.limit);
      if (resetAt !== undefined) {
        return { route, now, limits, spent: budgetRefusal(limit, 0, resetAt, now) };
      }
    }
    return { route, now, limits };
  }

  /**
   * The admitted call is running (a stream relaying, a Realtime session open): its hold
   * is pushed on while it does, so it cannot lapse under the call. `ended` stops that.
   */
  started(admission: Admission): void {
    if (admission.reservationId) this.running.started(admission.reservationId);
  }

  /** The call is over: its hold waits for its usage (or lapses) from here. */
  ended(admission: Admission): void {
    if (admission.reservationId) this.running.ended(admission.reservationId);
  }

  /**
   * Gives the hold back (no usage will settle it). Resolves after the first try and never
   * rejects: a store failure is retried in the background (HoldReleases), as the answer
   * does not wait on it.
   */
  async release(admission: Admission): Promise<void> {
    if (!admission.reservationId) return;
    this.running.ended(admission.reservationId);
    await this.releases.release(admission.reservationId);
  }

  /**
   * When each of the first `count` models has a per-model limit smaller than `amounts` in a
   * whole window or one that allows nothing, and one at least is too small, the roomiest of
   * the limits too small (what the refusal names); else undefined (a chain closed
   * everywhere is refused as closed, a 429).
   */
  private modelLimitTooSmall(
    route: RouteConfig,
    models: readonly string[],
    count: number,
    amounts: Readonly<Record<BoundLimit['unit'], number>>,
    now: number,
  ): AdmissionLimit | undefined {
    let roomiest: AdmissionLimit | undefined;
    for (let index = 0; index < count; index++) {
      const limits = this.modelLimitsOf(route, models[index], now);
      const misfit = limitTooSmall(limits, amounts);
      if (misfit) {
        if (!roomiest || misfit.limit > roomiest.limit) roomiest = misfit;
      } else if (!limits.some(allowsNothing)) {
        return undefined; // this model may serve it
      }
    }
    return roomiest;
  }

  /** The model's `tokenRateLimit.perModel` limits (tokens, requests) in their current window. */
  private modelLimitsOf(route: RouteConfig, model: string, now: number): readonly AdmissionLimit[] {
    const perModel = route.tokenRateLimit?.perModel;
    if (!perModel || !Object.hasOwn(perModel, model)) return [];
    return this.modelLimits.get(route, model, undefined, now, (at) =>
      modelLimits(route, model).map((limit) => forAdmission(limit, at)),
    );
  }

  private mark(limit: AdmissionLimit, spent: boolean): void {
    this.exhausted.markExhausted(
      limit.subject,
      limit.kind,
      limit.windowRef.id,
      limit.windowRef.endsAt,
      limit.limit,
      spent,
    );
  }

  /** An admission that holds nothing, with the output the request would be held. */
  private unheld(heldOutputTokens: number | undefined): Admission {
    if (heldOutputTokens === undefined) return this.noLimits;
    return {
      headers: {},
      defaultMaxOutputTokens: this.options.defaultMaxOutputTokens,
      heldOutputTokens,
    };
  }

  /**
   * The output held for each choice of a request that sets no `max_tokens`
   * (unboundedOutputTokens); undefined when it sets one, or makes no such output (an
   * embedding, an operation held by its own counts).
   */
  private heldOutputOf(request: GatewayRequest): number | undefined {
    const operation = request.operation;
    if (operation === 'embeddings' || OWN_HOLD_OPERATIONS.has(operation)) return undefined;
    if (askedOutputTokens(request.body) !== undefined) return undefined;
    return this.unboundedOutputTokens(request.body);
  }

  /**
   * What a chat, completion or embeddings call may cost at most: its prompt (its audio
   * apart, priced at the audio rate) and the output it may be billed for.
   */
  private modelCallHoldCounts(
    request: GatewayRequest,
    heldOutputTokens: number | undefined,
    media: PromptMedia,
  ): TokenCounts {
    const audioInputTokens =
      request.operation === 'chat' ? chatAudioTokensUpperBound(request.body) : 0;
    return {
      inputTokens:
        estimatePromptTokensUpperBound(request.body, promptTextOnce(request.body), media) +
        audioInputTokens +
        (request.heldFileTokens ?? 0),
      ...(audioInputTokens > 0 ? { audioInputTokens } : {}),
      outputTokens:
        request.operation === 'embeddings'
          ? 0
          : this.maxOutputTokens(request.operation, request.body, heldOutputTokens),
      ...askedServiceTier(request.body),
      ...webSearchHold(request.body),
      ...askedInferenceGeo(request.body),
    };
  }

  /**
   * The output the request may be billed for: for each choice it asks for, its
   * `max_tokens`, or the output `held` for it without one (heldOutputOf).
   */
  private maxOutputTokens(
    operation: Operation,
    body: GatewayRequest['body'],
    held: number | undefined,
  ): number {
    const perChoice = held ?? askedOutputTokens(body) ?? this.unboundedOutputTokens(body);
    return perChoice * choicesOf(operation, body);
  }

  /**
   * A choice's output when the request sets no bound: the default, after the `thinking`
   * budget when it gives one (reasoning is billed as output, and Claude's adapters leave
   * the answer that room past the budget). A request that asks for reasoning is given a
   * default of at least REASONING_DEFAULT_MAX_OUTPUT_TOKENS: a long think would otherwise
   * cut its answer short, and an OpenAI reasoning model, sent no cap, is held nearer what
   * it spends. Claude's adapters send this (`GatewayRequest.heldOutputTokens`) as it is;
   * only for a request of an older ingress without it do they reckon the same
   * (anthropic-thinking.ts).
   */
  private unboundedOutputTokens(body: GatewayRequest['body']): number {
    const thinking = normalizedThinking(body.thinking);
    const fallback = this.options.defaultMaxOutputTokens;
    if (!asksForReasoning(body, thinking)) return fallback;
    const reasoningDefault = Math.max(fallback, REASONING_DEFAULT_MAX_OUTPUT_TOKENS);
    return thinking?.type === 'enabled'
      ? thinking.budget_tokens + reasoningDefault
      : reasoningDefault;
  }
}

/**
 * The service tier the request asks for (`service_tier`), held at that tier's price: a
 * `priority` call costs up to twice the standard price (OpenAI), and must not be held at
 * the standard one. `auto` is held at the standard price: the project's default decides.
 */
function askedServiceTier(body: GatewayRequest['body']): Pick<TokenCounts, 'serviceTier'> {
  const tier = body.service_tier;
  return typeof tier === 'string' ? { serviceTier: tier } : {};
}

/**
 * Where a Messages request asks Claude to run (`inference_geo`), held at that geography's
 * price: US-only inference bills 1.1 times the tokens, and settles so.
 */
function askedInferenceGeo(body: GatewayRequest['body']): Pick<TokenCounts, 'inferenceGeo'> {
  const geo = inferenceGeoAsked(body);
  return geo === undefined ? {} : { inferenceGeo: geo };
}

/** The output per choice the client bounded the request to; undefined when it set none. */
function askedOutputTokens(body: GatewayRequest['body']): number | undefined {
  const asked = Number(body.max_completion_tokens ?? body.max_tokens);
  return Number.isFinite(asked) && asked > 0 ? asked : undefined;
}

/**
 * Whether the request asks for reasoning, read as the adapters read it (chat-request.ts
 * parseReasoning): a `thinking` budget or adaptive thinking (not at effort "none"), else
 * an effort other than "none" (`reasoning_effort`, which the Responses and Gemini edges
 * write too, or the Messages edge's `output_config.effort`). A plain request pays two
 * property reads here, and only when it sets no max_tokens.
 */
function asksForReasoning(
  body: GatewayRequest['body'],
  thinking: ReturnType<typeof normalizedThinking>,
): boolean {
  const effort = body.reasoning_effort ?? outputEffort(body.output_config);
  if (thinking !== undefined) {
    if (thinking.type === 'disabled') return false;
    return thinking.type === 'enabled' || effort !== 'none';
  }
  return effort !== undefined && effort !== null && effort !== 'none';
}

function outputEffort(outputConfig: unknown): unknown {
  return typeof outputConfig === 'object' && outputConfig !== null
    ? (outputConfig as { effort?: unknown }).effort
    : undefined;
}

/** How soon a client refused for an unreachable budget store is told to try again. */
export const BUDGET_STORE_RETRY_AFTER_MS = 5_000;

/**
 * What a failed reservation answers: a 503 when the store cannot be reached (a refusal
 * of its own passes as it is). Nothing is admitted that the budgets cannot account for
 * (fail closed), and the client is told to come back soon rather than handed an internal
 * error.
 */
function unreachableStore(error: unknown): DataPlaneError {
  if (error instanceof DataPlaneError) return error;
  return new DataPlaneError(
    DataPlaneErrorCode.BudgetUnavailable,
    'The budget store is unreachable, so the request cannot be admitted; try again shortly',
    { retryAfterMs: BUDGET_STORE_RETRY_AFTER_MS, cause: error },
  );
}

/**
 * How many completions the provider generates and bills: `n`, or the legacy completions'
 * `best_of` (generated server-side, all billed) when larger, for each prompt of a legacy
 * completion's list (OpenAI completes every one: a list of 20 held as one prompt let a
 * caller spend 20 times its hold, past any limit).
 */
function choicesOf(operation: Operation, body: Readonly<Record<string, unknown>>): number {
  const perPrompt = moreChoices(moreChoices(1, body.n), body.best_of);
  return operation === 'completions' ? perPrompt * promptCount(body.prompt) : perPrompt;
}

function moreChoices(choices: number, value: unknown): number {
  return typeof value === 'number' && Number.isInteger(value) && value > choices ? value : choices;
}

/**
 * The first of `limits` that a request of `amounts` exceeds in a whole window (a limit of
 * 0 is no such limit: it is refused as spent, a 429, not as a request too large).
 */
function limitTooSmall<L extends BoundLimit>(
  limits: readonly L[],
  amounts: Readonly<Record<BoundLimit['unit'], number>>,
): L | undefined {
  for (const limit of limits)
    if (!allowsNothing(limit) && amounts[limit.unit] > limit.limit) return limit;
  return undefined;
}

function largerThanLimit(limit: BoundLimit, amount: number, operation: Operation): DataPlaneError {
  const unit = unitName(limit.unit);
  const { estimate, advice, param } = shrinkAdvice(operation);
  return new DataPlaneError(
    DataPlaneErrorCode.InvalidRequest,
    `This request may cost up to ${amountShown(amount, limit.unit)} ${unit} (${estimate}, on the dearest model that ` +
      `may serve it), more than ${limit.kind} allows in a whole window (${limit.limit}): ${advice}`,
    { param },
  );
}

/** How a request too large for a whole window was sized, and what the caller can shrink. */
function shrinkAdvice(operation: Operation): { estimate: string; advice: string; param: string } {
  if (IMAGE_OPERATIONS.has(operation)) {
    return {
      estimate: 'the images it asks for at their size and quality, with the prompt',
      advice: 'ask for fewer, smaller or lower-quality images',
      param: 'n',
    };
  }
  if (AUDIO_OPERATIONS.has(operation)) {
    return {
      estimate: "the audio file's length and its transcript",
      advice: 'send a shorter file',
      param: 'file',
    };
  }
  if (operation === 'speech') {
    return { estimate: 'the text to speak', advice: 'send a shorter input', param: 'input' };
  }
  if (operation === 'embeddings' || operation === 'moderations' || operation === 'rerank') {
    return {
      estimate: 'its input estimate',
      advice: 'send less input',
      param: operation === 'rerank' ? 'documents' : 'input',
    };
  }
  return {
    estimate: 'its prompt estimate plus max_tokens',
    advice: 'lower max_tokens or shorten the prompt',
    param: 'max_tokens',
  };
}

/**
 * What the request may cost in each unit on whichever of `models` serves it: failover, or
 * a `fallbackOrder` model, may land on a pricier one than the first, and settlement
 * prices the model that served.
 */
function worstCase(
  route: RouteConfig,
  models: readonly string[],
  counts: TokenCounts,
  /** The prompt's images, held in `counts` at TOKENS_PER_IMAGE each. */
  images = 0,
): Record<LimitUnit, number> {
  const worst = amountsFor(route, models[0], withImagesOn(models[0], counts, images));
  for (let index = 1; index < models.length; index++) {
    const amounts = amountsFor(route, models[index], withImagesOn(models[index], counts, images));
    for (const unit of Object.keys(amounts) as LimitUnit[]) {
      if (amounts[unit] > worst[unit]) worst[unit] = amounts[unit];
    }
  }
  return worst;
}

/** `counts` with its images held at what `model` may bill for each, where that is more. */
function withImagesOn(model: string, counts: TokenCounts, images: number): TokenCounts {
  const extra = imageTokensPastEstimate(model, images);
  return extra > 0 ? { ...counts, inputTokens: counts.inputTokens + extra } : counts;
}

/** Whose last admitted call a reused answer is told about: the caller's, for this model. */
function lastBalancesKey(request: GatewayRequest): string {
  return `${callerBudgetKey(request.caller)}\u0000${request.requestedModel}`;
}

/**
 * Whether the refused call fits `limit` once the calls in flight end: their token and dollar
 * holds are worst cases (max_tokens), most of which comes back when they settle, so the
 * room returns within seconds. A request count's hold is spent in full by a call that
 * answers: held full, it is as good as spent until the window ends.
 */
function fitsOnceHoldsEnd(
  limit: AdmissionLimit,
  used: number,
  holds: readonly BalanceChange[],
): boolean {
  if (limit.unit === 'requests') return false;
  const amount = holds.find((change) => change.key === limit.key)?.amount ?? 0;
  return used + amount <= limit.limit;
}

/**
 * The tightest token limit and the tightest request limit, each in OpenAI's header names
 * (`x-ratelimit-*-tokens`, `x-ratelimit-*-requests`): the one with the least room left.
 */
function tightestLimitHeaders(
  limits: readonly AdmissionLimit[],
  balances: readonly Balance[],
  now: number,
): Record<string, string> {
  // Two running minimums rather than a map of them: this runs on every admitted request.
  let tokens: AdmissionLimit | undefined;
  let tokensLeft = Infinity;
  let requests: AdmissionLimit | undefined;
  let requestsLeft = Infinity;
  for (let index = 0; index < limits.length; index++) {
    const limit = limits[index];
    if (limit.unit === 'dollars') continue;
    const { used, reserved } = balances[index];
    const remaining = Math.max(0, limit.limit - used - reserved);
    if (headerUnitOf(limit.unit) === 'requests') {
      if (remaining < requestsLeft) {
        requests = limit;
        requestsLeft = remaining;
      }
    } else if (remaining < tokensLeft) {
      tokens = limit;
      tokensLeft = remaining;
    }
  }
  const headers = tokens
    ? rateLimitHeaders(tokens.limitText, tokensLeft, tokens.windowRef.endsAt - now)
    : {};
  if (!requests) return headers;
  const reset = requests.windowRef.endsAt - now;
  return Object.assign(
    headers,
    rateLimitHeaders(requests.limitText, requestsLeft, reset, 'requests'),
  );
}
