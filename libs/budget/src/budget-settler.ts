import {
  routeForModel,
  routeOfBackend,
  tierByName,
  type GatewayConfig,
  type RouteConfig,
  type UserTierConfig,
} from '@aigw/config';
import {
  admittedAtOf,
  balanceChangesOf,
  bindLimit,
  BoundLimitCache,
  modelLimits,
  userLimits,
  DAY,
  eventTime,
  impliedBudgetKey,
  holdKind,
  pacesCalls,
  type Balance,
  type BoundLimit,
  type BudgetLimit,
  type BudgetStore,
  type LimitUnit,
} from '@aigw/budget-core';
import {
  BudgetAdjustmentAction,
  BudgetState,
  BudgetUnit,
  createAlertRaised,
  createBudgetStateChanged,
  LimitKind,
  Topic,
  type BudgetAdjusted,
  type BudgetStateChanged,
  type EventPublisher,
  type EventSubscription,
  type GatewayEvent,
  type TokenUsageRecorded,
} from '@aigw/contracts';
import type { Logger, MetricsRegistry } from '@aigw/observability';
import { adjustableLimits } from './adjustable-limits';
import { RecentCallers } from './recent-callers';
import type { AlertNotifier } from './alert-notifier';
import { RemainingAnnouncer } from './remaining-announcer';

/** Limits read in one store call when a reload is checked. */
const RELOAD_CHECK_CHUNK = 256;

/** A dollar spend tracked only to raise an alert: it limits nothing. */
const UNCAPPED = Number.MAX_SAFE_INTEGER;

interface TrackedLimit extends BoundLimit {
  /** Alert when spend in the window crosses this. */
  readonly alertAt?: number;
}

/** A capped limit's balance after the last settlement of a batch that touched it. */
interface Settled {
  limit: TrackedLimit;
  used: number;
  reserved: number;
  requestId: string;
  /** When it last changed in the batch: announced in that order. */
  order: number;
}

/** The operation of a batch's billed usage (one bill for many calls, spent at once). */
const BATCH_OPERATION = 'batch';
/** Prefixes the served model for a batch's limits, which leave out the per-minute ones. */
const BATCH_KEY_PREFIX = 'batch\n';

/**
 * When a usage is charged: the windows its limits are bound in are those it was reported
 * in, which admissions still check. Charged to the windows its hold was taken in, a call
 * that ended after them (a stream crossing a minute; a reasoning model, a big stream or one
 * kept open for an hour and more) would spend a window nothing enforces any more, and past
 * that window's grace (KEY_GRACE_MS) the charge would be dropped at once: the per-minute
 * limits would never count it. The hold is given back in the windows it was taken in. A
 * window that calls crossed into never held for them, so they may spend it past its limit
 * (counted as reservation overshoot). The event's own time, not the settler's clock: every
 * delivery of an event binds the same windows (its marker refuses the repeats), and a
 * backlog replayed after an outage is not heaped onto the current minute. Never a window
 * before the admission's (the producer's clock may run behind the one that admitted it).
 */
function chargedAt(usage: TokenUsageRecorded, occurredAt: number): number {
  const admittedAt = admittedAtOf(usage.reservationId);
  return admittedAt !== undefined && admittedAt > occurredAt ? admittedAt : occurredAt;
}

/** Served models whose callers' limits are kept bound; past it the caches start over. */
const MAX_MODELS = 1_000;

/**
 * Callers bound over all models' caches before they all start over: one bound for the
 * whole settler, as when one cache was keyed by model and user (each cache's own cap alone
 * would let 1,000 models × 10,000 callers stay, far past the memory goal).
 */
const MAX_BOUND_CALLERS = 10_000;

/** Limits remembered as announced without room, for their Recovered; more are forgotten. */
const MAX_WITHOUT_ROOM = 100_000;

export interface BudgetSettlerOptions {
  /**
   * At most one `remaining` per limit this often, in ms (`RemainingAnnouncer`); 0 (the
   * default here; the services take `AI_GATEWAY_BUDGET_STATE_INTERVAL_MS`) announces
   * one per limit per settled batch.
   */
  readonly remainingIntervalMs?: number;
}

/**
 * The budget service's core: applies each usage event to the authoritative balances
 * once (idempotent per event id), settles the request's hold, and announces what
 * changed on the compacted state topic (every ingress keeps a local view of it), and
 * threshold crossings as alerts. Per limit the topic carries:
 * - `exhausted` as soon as a settlement spends it to its limit;
 * - else, once per batch that settled against it, `remaining`: what new reservations may
 *   still take (limit - used - held); with room left, paced to one per limit per interval
 *   (`remainingIntervalMs`), the latest of a busy spell going out at its end;
 * - or `recovered` instead when this settler last announced it with no room (exhausted,
 *   or held full): its first settlement in a new window, or a settlement whose release of
 *   its hold brought it back under. An ingress clears its mark on it.
 * A limit spent to its limit gets nothing more in that window, so the topic's latest
 * value for it (it is compacted per budget key and limit kind) stays `exhausted`, unless
 * an operator gives budget back (`budget.adjusted`): then each limit adjusted gets
 * `recovered` at once (with `remaining` 0 if holds in flight still fill it).
 */
export class BudgetSettler implements EventSubscription {
  readonly group = 'budget';
  // Adjustments have a topic of their own (consumers of the usage topic read only usage),
  // so their order with a user's usage is by time, not by offset; they are rare.
  readonly topics = [Topic.UsageRecorded, Topic.BudgetAdjusted] as const;

  /**
   * By served model, then route and user (BoundLimitCache): a `model\nuser` key was a new
   * string to build and hash per event (bench/micro/policies.ts).
   */
  private readonly limitsByModel = new Map<string, BoundLimitCache<TrackedLimit>>();
  /** Callers the caches in `limitsByModel` added since they last started over. */
  private boundCallers = 0;
  /**
   * Capped limits this batch settled against, by balance key (callers of one model share
   * its key through limits bound for each): their gauge and state, once per batch.
   */
  private readonly settled = new Map<string, Settled>();
  /** Counts the batch's balance changes, for their order in `settled`. */
  private changeCount = 0;
  /** `kind|subject` of limits last announced with no room left (exhausted or held full). */
  private readonly withoutRoom = new Set<string>();
  /**
   * `kind|subject` of limits this settler announced `exhausted`, with the window and the
   * limit it was spent under: one seen spent under another (a limit lowered by a config
   * reload below what was spent) is announced again, though no settlement crossed it.
   */
  private readonly spentAnnounced = new Map<string, string>();
  /** The config whose per-model limits were last checked for spend past them. */
  private checkedConfig: GatewayConfig | undefined;
  /**
   * Adjustments this settler announced: one delivered again (a batch retried after a lost
   * reply, a rebalance) is announced only by a settler that has not (see `adjust`).
   */
  private readonly adjustmentsAnnounced = new Set<string>();
  /** Callers settled lately: their own limits are checked at a reload too. */
  private readonly recentCallers = new RecentCallers();
  /** Paces `remaining` with room, per `kind|subject` (the compacted topic's key). */
  private readonly remaining: RemainingAnnouncer<BudgetStateChanged>;

  constructor(
    private readonly config: () => GatewayConfig,
    private readonly store: BudgetStore,
    private readonly events: EventPublisher,
    private readonly metrics: MetricsRegistry,
    private readonly alerts?: AlertNotifier,
    private readonly logger?: Pick<Logger, 'info' | 'warn'>,
    options: BudgetSettlerOptions = {},
  ) {
    this.remaining = new RemainingAnnouncer(
      options.remainingIntervalMs ?? 0,
      (state) => this.events.publish(state),
      () => this.metrics.recordBudgetStateCoalesced(),
    );
  }

  /**
   * A usage partition may move to another budget replica: what waits goes out now, so the
   * next owner's `exhausted` for the same limit cannot be followed by this one's stale
   * `remaining` on the compacted topic.
   */
  onRebalance(): void {
    this.remaining.flush();
  }

  /**
   * Sends the `remaining` announcements still waiting for their interval to end; those
   * of settlements after it (the log's last delivery at shutdown) go out at once.
   */
  close(): void {
    this.remaining.close();
  }

  /**
   * After a config reload (and at start): announces `exhausted` for each per-model limit
   * already spent past its (new) limit in its current window, and sets each one's
   * remaining gauge under its (new) limit. A lowered limit is crossed by
   * no settlement, so nothing else would say so, and in the split deployment the router
   * diverts from a full model only on the broadcast. Per-model limits are few and named by
   * the config, so they are read at once. A caller's own limits cannot be listed (any user
   * key): those of the callers settled lately (RecentCallers) are read with them, as a
   * caller refused at admission under a lowered limit brings no usage to correct its gauge;
   * any other caller's are announced the next time the settler sees its usage (announce).
   * Cheap to call often: a config already checked is one comparison.
   */
  async checkReloadedLimits(now = Date.now()): Promise<void> {
    const config = this.config();
    if (config === this.checkedConfig) return;
    this.checkedConfig = config;
    const limits: BoundLimit[] = [];
    for (const route of config.routes) {
      const perModel = route.tokenRateLimit?.perModel;
      if (!perModel) continue;
      for (const model of Object.keys(perModel)) {
        for (const limit of modelLimits(route, model)) limits.push(bindLimit(limit, now));
      }
    }
    limits.push(...this.recentCallers.limitsUnder(config, now));
    if (limits.length === 0) return;
    let balances;
    try {
      balances = await this.balancesOf(limits, now);
    } catch (error) {
      this.checkedConfig = undefined; // the store is away: tried again at the next check
      throw error;
    }
    limits.forEach((limit, index) => {
      // The gauge too: a model lowered past its spend is diverted from (a caller refused),
      // so no settlement of it would correct the room it showed under the old limit.
      this.metrics.setBudgetRemaining(
        { budgetKey: limit.subject, limit: limit.kind },
        Math.max(0, limit.limit - balances[index].used),
        { limit: limit.limit, windowEndsAt: limit.windowRef.endsAt },
      );
      if (balances[index].used < limit.limit) {
        // Raised above its spend: every view drops its mark for it (a mark under a lower
        // limit does not refuse), so lowered back it must be announced again.
        this.spentAnnounced.delete(`${limit.kind}|${limit.subject}`);
      } else if (!this.announcedSpent(limit)) this.announceExhausted(limit, null);
    });
  }

  /**
   * Read a few hundred limits a store call: each call is one script that Redis runs
   * alone, so a reload's thousands of limits must not hold every other client up at once.
   */
  private async balancesOf(limits: readonly BoundLimit[], now: number): Promise<Balance[]> {
    const balances: Balance[] = [];
    for (let from = 0; from < limits.length; from += RELOAD_CHECK_CHUNK) {
      balances.push(
        ...(await this.store.balances(limits.slice(from, from + RELOAD_CHECK_CHUNK), now)),
      );
    }
    return balances;
  }

  // Sequential on purpose: one user's events arrive in order and must apply in order.
  async handle(events: readonly GatewayEvent[]): Promise<void> {
    // A reload since the last batch: its lowered per-model limits go out before this usage.
    await this.checkReloadedLimits().catch(() => undefined);
    let wrote = false;
    try {
      for (const event of events) {
        if (event.type === 'usage.recorded') wrote = (await this.apply(event)) || wrote;
        else if (event.type === 'budget.adjusted') wrote = (await this.adjust(event)) || wrote;
      }
    } finally {
      this.announceSettled();
    }
    // A batch the store had no part in (usage no limit watches, an adjustment of no limit)
    // still fails while the store refuses writes: the buses take a handled batch as proof
    // the store works before they dead-letter an event that keeps failing, and capped usage
    // that Redis refused (full, a read-only replica, away) went unbilled to the dead letters.
    if (!wrote) await this.store.confirmWritable?.();
    // Durable before the consumer commits the batch: a crash replays, never loses.
    await this.store.flush?.();
  }

  async settle(usage: TokenUsageRecorded): Promise<void> {
    try {
      await this.apply(usage);
    } finally {
      this.announceSettled();
    }
  }

  /** Whether it wrote to the store (settled a hold or a usage, or found it applied). */
  private async apply(usage: TokenUsageRecorded): Promise<boolean> {
    const config = this.config();
    const route =
      routeOfBackend(config.routes, usage.backend, usage.route) ??
      routeForModel(config, usage.modelRequested);
    if (!route) {
      // No route serves it any more: nothing binds this usage, but a hold it names (a call
      // or a batch admitted before the route went) is given back now rather than lapsing.
      if (usage.reservationId) {
        await this.store.settle(
          usage.eventId,
          usage.reservationId,
          [],
          eventTime(usage.occurredAt),
        );
        return true;
      }
      return false;
    }
    const tier = tierByName(config, route, usage.tier);
    const occurredAt = eventTime(usage.occurredAt);
    const at = chargedAt(usage, occurredAt);
    // A batch's bill is spent at once, not paced: it skips the per-minute limits (pacesCalls),
    // so its limits are kept apart from the model's synchronous calls'.
    const batch = usage.operation === BATCH_OPERATION;
    const cache = this.limitsOf(batch ? BATCH_KEY_PREFIX + usage.modelServed : usage.modelServed);
    const addedBefore = cache.added;
    const budgetKey = usage.budgetKey ?? impliedBudgetKey(config, route, usage.userId);
    let limits = cache.get(route, budgetKey, tier, at, (bindAt) =>
      trackedLimits(route, tier, usage, budgetKey, bindAt, batch),
    );
    if (cache.added !== addedBefore && ++this.boundCallers >= MAX_BOUND_CALLERS) {
      this.limitsByModel.clear();
      this.boundCallers = 0;
    }
    if (usage.tier !== undefined && !tier) {
      // Its tier was renamed or removed by a reload while it ran: the config no longer
      // names the tier's daily limit, but its hold may be on it (the balance is the user's,
      // whatever the tier is called), and the spend belongs where the hold was.
      limits = [...limits, ...(await this.heldTierLimits(usage, budgetKey, limits, at))];
    }
    // Nothing limits or watches this usage: no balance to keep, no hold to settle.
    if (limits.length === 0 && !usage.reservationId) return false;
    if (limits.length > 0) this.recentCallers.remember(route.name, tier?.name, budgetKey);
    // The producer priced it with the config in force when it ran: its weighted tokens and
    // dollars, not amountsFor's, which priced it again only to be overwritten (~0.5 us a
    // request, bench/micro/policies.ts).
    const amounts: Record<LimitUnit, number> = {
      tokens: usage.weightedTokenCost,
      inputTokens: usage.inputTokens,
      outputTokens: usage.outputTokens,
      totalTokens: usage.inputTokens + usage.outputTokens,
      dollars: usage.costDollars,
      requests: requestsCounted(usage),
    };
    const changes = balanceChangesOf(limits, amounts);
    // The embedded store settles with a plain result: not awaited, a tick less an event.
    const settled = this.store.settle(usage.eventId, usage.reservationId, changes, occurredAt);
    const result = settled instanceof Promise ? await settled : settled;
    this.metrics.recordUsageSettlement(result.applied ? 'applied' : 'duplicate');
    if (!result.applied) {
      // Applied before: by this settler with its reply lost (a command timeout) and the batch
      // delivered again, or by one that stopped before its announcement went out. A limit it
      // spent is announced now (once per settler), or never: no later settlement crosses a
      // spent limit. Its alert, if it crossed one, is not raised again (it may have gone out).
      this.announceSpentBefore(limits, result.balances, usage.requestId);
      return true;
    }
    // Its hold lapsed before it was settled: its room was free for others while it ran.
    if (result.holdLapsed) this.metrics.recordLateSettlement(holdKind(usage.reservationId ?? ''));

    for (let index = 0; index < limits.length; index++) {
      const { used, reserved } = result.balances[index];
      const limit = limits[index];
      // A window that ended before the usage occurred is no limit's state any more:
      // announced, its room would end the current window's spent mark.
      const current = limit.windowRef.endsAt > occurredAt;
      // The spend before as the store held it: recomputed as `used - amount`, spend sitting
      // exactly on a threshold would read as just under it and cross it again.
      this.announce(usage, limit, result.spentBefore[index], used, reserved, current);
    }
    return true;
  }

  /**
   * The tier's daily limit of a usage whose tier the config no longer has, if its hold
   * was placed on it: charged (its value is unknown now, so it is tracked uncapped and
   * announced by the next call admitted under the caller's current tier, which shares
   * the balance). Nothing when the hold is gone (settled, lapsed) or held no tier limit.
   */
  private async heldTierLimits(
    usage: TokenUsageRecorded,
    budgetKey: string,
    limits: readonly TrackedLimit[],
    at: number,
  ): Promise<TrackedLimit[]> {
    if (!usage.reservationId || !this.store.heldKeys) return [];
    const tierLimit = bindLimit(
      {
        kind: LimitKind.TierDailyTokens,
        subject: budgetKey,
        unit: 'tokens',
        limit: UNCAPPED,
        window: DAY,
      },
      at,
    );
    if (limits.some((limit) => limit.key === tierLimit.key)) return [];
    const held = await this.store.heldKeys(usage.reservationId);
    const tierKeyStart = tierLimit.key.slice(0, tierLimit.key.lastIndexOf(':') + 1);
    return held.some((key) => key.startsWith(tierKeyStart)) ? [tierLimit] : [];
  }

  /**
   * `exhausted` for each capped limit spent in a window still current that this settler
   * has not announced so (a replay's old windows are no limit's state any more).
   */
  private announceSpentBefore(
    limits: readonly TrackedLimit[],
    balances: readonly Balance[],
    requestId: string,
  ): void {
    const now = Date.now();
    for (let index = 0; index < limits.length; index++) {
      const limit = limits[index];
      if (limit.limit === UNCAPPED || limit.windowRef.endsAt <= now) continue;
      if (balances[index].used >= limit.limit && !this.announcedSpent(limit)) {
        this.announceExhausted(limit, requestId);
      }
    }
  }

  private limitsOf(model: string): BoundLimitCache<TrackedLimit> {
    let cache = this.limitsByModel.get(model);
    if (!cache) {
      // Wildcard backends serve clients' model names: bounded, as the caches are per model.
      if (this.limitsByModel.size >= MAX_MODELS) {
        this.limitsByModel.clear();
        this.boundCallers = 0;
      }
      cache = new BoundLimitCache<TrackedLimit>();
      this.limitsByModel.set(model, cache);
    }
    return cache;
  }

  /**
   * An operator's reset or credit, once per event id, on the user's limits in the window
   * each was in when it was made (as usage binds them): the state of each goes out at
   * once, so every ingress drops its exhaustion mark without waiting for more usage.
   * Whether it wrote to the store (applied it, or found it applied).
   */
  private async adjust(event: BudgetAdjusted): Promise<boolean> {
    const at = Date.parse(event.occurredAt);
    const limits = adjustableLimits(this.config(), event.userKey, event.limitKind, at);
    const fields = {
      eventId: event.eventId,
      userKey: event.userKey,
      action: event.action,
      limits: limits.map((limit) => limit.kind),
      ...(event.amount === undefined ? {} : { amount: event.amount }),
      ...(event.reason ? { reason: event.reason } : {}),
      ...(event.operator ? { operator: event.operator } : {}),
    };
    if (limits.length === 0) {
      this.logger?.warn('budget adjustment matched no configured limit of the user', {
        ...fields,
        limits: event.limitKind ?? 'all',
      });
      return false;
    }
    const credit = event.action === BudgetAdjustmentAction.Reset ? 'reset' : (event.amount ?? 0);
    const result = await this.store.adjust(
      event.eventId,
      limits.map((limit) => ({
        key: limit.key,
        limit: limit.limit,
        windowEndsAt: limit.windowRef.endsAt,
        credit,
      })),
      at,
    );
    if (!result.applied) {
      // Applied before: by this settler with its reply lost (a command timeout) and the batch
      // delivered again, or by one that stopped before its announcement went out. Only a
      // `recovered` ends the spent marks every ingress keeps (no settlement announces one),
      // so each limit it reopened that is still open is announced now, once per settler.
      if (!this.adjustmentsAnnounced.has(event.eventId)) {
        this.announceAdjusted(event, limits, result.balances, Date.now());
      }
      return true;
    }
    limits.forEach((limit) =>
      this.metrics.recordBudgetAdjustment({
        action: event.action,
        limit: limit.kind,
        outcome: 'applied',
      }),
    );
    this.announceAdjusted(event, limits, result.balances);
    this.logger?.info('budget adjusted', fields);
    return true;
  }

  /**
   * The gauge and state of each limit an adjustment reopened, from its balance: `recovered`
   * unless it is still spent (a credit short of the overspend, or spent again since). With
   * `now`, a redelivery's: limits whose window has ended are left out, as no limit's state.
   */
  private announceAdjusted(
    event: BudgetAdjusted,
    limits: readonly BoundLimit[],
    balances: readonly Balance[],
    now?: number,
  ): void {
    if (this.adjustmentsAnnounced.size >= MAX_WITHOUT_ROOM) this.adjustmentsAnnounced.clear();
    this.adjustmentsAnnounced.add(event.eventId);
    limits.forEach((limit, index) => {
      if (now !== undefined && limit.windowRef.endsAt <= now) return;
      const { used, reserved } = balances[index];
      // Whatever the batch settled against it before is stale now.
      this.settled.delete(limit.key);
      this.metrics.setBudgetRemaining(
        { budgetKey: limit.subject, limit: limit.kind },
        Math.max(0, limit.limit - used),
        { limit: limit.limit, windowEndsAt: limit.windowRef.endsAt },
      );
      // Still spent (a credit short of the overspend): its `exhausted` stands.
      if (used >= limit.limit) return;
      const room = Math.max(0, limit.limit - used - reserved);
      const id = `${limit.kind}|${limit.subject}`;
      if (room > 0) this.withoutRoom.delete(id);
      else this.rememberWithoutRoom(id);
      // `recovered` even with no room yet (holds in flight fill it): the limit is no longer
      // spent, and only a `recovered` ends a spent mark in an ingress's view; the replica
      // that settles those holds may not know this one announced it (withoutRoom is local).
      this.remaining.supersede(id);
      this.events.publish(stateChanged(limit, BudgetState.Recovered, room, null));
    });
  }

  /**
   * The gauge and the state of each capped limit the batch settled against, from its
   * last balance: a gauge keeps only its last value, and the state topic only the latest
   * per limit, so once per batch says the same as once per event.
   */
  private announceSettled(): void {
    // In the order of each limit's last change, as a re-insertion per change kept them.
    const settled = [...this.settled.values()].sort((a, b) => a.order - b.order);
    for (const { limit, used, reserved, requestId } of settled) {
      this.metrics.setBudgetRemaining(
        { budgetKey: limit.subject, limit: limit.kind },
        Math.max(0, limit.limit - used),
        { limit: limit.limit, windowEndsAt: limit.windowRef.endsAt },
      );
      // Spent: `exhausted` was announced when it got there, and stands until the window ends.
      if (used >= limit.limit) continue;
      const room = Math.max(0, limit.limit - used - reserved);
      const id = `${limit.kind}|${limit.subject}`;
      if (room > 0 && !this.withoutRoom.delete(id)) {
        // Room before and after: only the amount changed, and the next one replaces it.
        this.remaining.offer(id, () => stateChanged(limit, BudgetState.Remaining, room, requestId));
        continue;
      }
      // A change of state (room again, or none left): out at once, ahead of any waiting.
      if (room === 0) this.rememberWithoutRoom(id);
      this.remaining.supersede(id);
      const state = room > 0 ? BudgetState.Recovered : BudgetState.Remaining;
      this.events.publish(stateChanged(limit, state, room, requestId));
    }
    this.settled.clear();
    this.changeCount = 0;
  }

  private announceExhausted(limit: BoundLimit, requestId: string | null): void {
    const id = `${limit.kind}|${limit.subject}`;
    this.remaining.supersede(id);
    this.events.publish(stateChanged(limit, BudgetState.Exhausted, 0, requestId));
    this.rememberWithoutRoom(id);
    if (this.spentAnnounced.size >= MAX_WITHOUT_ROOM) this.spentAnnounced.clear();
    this.spentAnnounced.set(id, spentMark(limit));
  }

  /** Whether this settler announced the limit spent in this window under this limit. */
  private announcedSpent(limit: BoundLimit): boolean {
    return this.spentAnnounced.get(`${limit.kind}|${limit.subject}`) === spentMark(limit);
  }

  private rememberWithoutRoom(id: string): void {
    // Forgetting one costs only its `recovered`: an ingress's mark also ends with its window.
    if (this.withoutRoom.size >= MAX_WITHOUT_ROOM) this.withoutRoom.clear();
    this.withoutRoom.add(id);
  }

  private announce(
    usage: TokenUsageRecorded,
    limit: TrackedLimit,
    before: number,
    used: number,
    reserved: number,
    /** The limit's window is still the current one (not ended before the usage occurred). */
    current: boolean,
  ): void {
    if (limit.limit !== UNCAPPED) {
      // Updated in place, with the order of its last change for the gauges and states to
      // go out in: a delete and re-insert per limit and event cost more (~0.3 us a request).
      // An ended window's balance is no limit's state any more: it is not announced.
      if (current) {
        const order = ++this.changeCount;
        const settled = this.settled.get(limit.key);
        if (settled) {
          settled.limit = limit;
          settled.used = used;
          settled.reserved = reserved;
          settled.requestId = usage.requestId;
          settled.order = order;
        } else {
          this.settled.set(limit.key, { limit, used, reserved, requestId: usage.requestId, order });
        }
      }
      // Spend past a limit that admission held for is the overshoot we promise to bound
      // (per-model limits included: admission holds the one of the model it expects).
      if (used > limit.limit) {
        this.metrics.recordReservationOvershoot(
          { limit: limit.kind },
          used - Math.max(limit.limit, before),
        );
      }
      // Announced at once, not at the end of the batch: every ingress should stop sending.
      // Also when it was spent before this usage but not announced under this limit (one
      // lowered by a reload below what was spent): nothing else would announce it.
      if (current && used >= limit.limit && (before < limit.limit || !this.announcedSpent(limit))) {
        this.announceExhausted(limit, usage.requestId);
      }
    }
    if (limit.alertAt !== undefined && crossesAlert(limit.alertAt, before, used)) {
      const unit = budgetUnitOf(limit);
      const alert = createAlertRaised({
        requestId: usage.requestId,
        partitionKey: limit.subject,
        budgetKey: limit.subject,
        limitKind: limit.kind,
        windowId: limit.windowRef.id,
        threshold: limit.alertAt,
        used,
        limit: limit.limit === UNCAPPED ? undefined : limit.limit,
        unit,
        tier: usage.tier,
        message: `${limit.subject} spent ${used.toFixed(2)} ${unit} today, past the alert threshold of ${limit.alertAt}`,
      });
      this.events.publish(alert);
      void this.alerts?.notify(alert);
    }
  }
}

/**
 * Whether spend went from `before` to `used` across the alert threshold: once per window.
 * A threshold of 0 fires at the window's first spend (above $0), not never (spend starts
 * at 0, so "below the threshold before" would never hold).
 */
function crossesAlert(alertAt: number, before: number, used: number): boolean {
  return alertAt > 0 ? before < alertAt && used >= alertAt : before <= 0 && used > 0;
}

/** A limit's window and value, as an `exhausted` announcement was made for them. */
function spentMark(limit: BoundLimit): string {
  return `${limit.windowRef.id}|${limit.limit}`;
}

function stateChanged(
  limit: BoundLimit,
  state: BudgetState,
  remaining: number,
  requestId: string | null,
): BudgetStateChanged {
  return createBudgetStateChanged({
    requestId,
    partitionKey: limit.subject,
    budgetKey: limit.subject,
    limitKind: limit.kind,
    windowId: limit.windowRef.id,
    state,
    remaining,
    limit: limit.limit,
    unit: budgetUnitOf(limit),
    resetAt: new Date(limit.windowRef.endsAt).toISOString(),
  });
}

/** The unit a limit's announcements and alerts name. */
function budgetUnitOf(limit: BoundLimit): BudgetUnit {
  if (limit.unit === 'dollars') return BudgetUnit.Dollars;
  if (limit.unit === 'requests') return BudgetUnit.Requests;
  return BudgetUnit.Tokens;
}

/**
 * What a usage event counts against request limits: one call, unless it is an answer
 * reused without a provider call (a cache hit, a deduplicated follower) that its billing
 * rule charges nothing for (`AI_GATEWAY_REUSE_BILLING: none`, the default). Such an answer
 * is not admitted against budgets either; one that is billed counts as a call.
 */
function requestsCounted(usage: TokenUsageRecorded): number {
  return usage.cacheHit && usage.inputTokens + usage.outputTokens === 0 ? 0 : 1;
}

/**
 * Every balance this usage counts against: the caller's limits, the served model's
 * limit, and the daily dollar spend wherever an alert threshold watches it. One key
 * appears once even if two rules name it (a cap and its alert).
 */
function trackedLimits(
  route: RouteConfig,
  tier: UserTierConfig | undefined,
  usage: TokenUsageRecorded,
  /** The event's, else impliedBudgetKey's (the user id where users are identified one way). */
  budgetKey: string,
  at: number,
  spentAtOnce: boolean,
): TrackedLimit[] {
  const all: BudgetLimit[] = [
    ...userLimits({ route, userKey: budgetKey, tier }),
    ...modelLimits(route, usage.modelServed),
  ];
  const limits = spentAtOnce ? all.filter((limit) => !pacesCalls(limit.window)) : all;
  const dailyCost = (kind: LimitKind): BudgetLimit => ({
    kind,
    subject: budgetKey,
    unit: 'dollars',
    limit: UNCAPPED,
    window: DAY,
  });
  const bound: TrackedLimit[] = limits.map((limit) => bindLimit(limit, at));
  const costAlert = route.costControl?.alertThreshold;
  if (costAlert !== undefined) {
    const existing = bound.findIndex((l) => l.kind === LimitKind.MaxDailyCostPerUser);
    if (existing >= 0) bound[existing] = { ...bound[existing], alertAt: costAlert };
    else
      bound.push({
        ...bindLimit(dailyCost(LimitKind.MaxDailyCostPerUser), at),
        alertAt: costAlert,
      });
  }
  const tierAlert = tier?.costTracking.enabled ? tier.costTracking.alertThreshold : undefined;
  if (tierAlert !== undefined) {
    bound.push({ ...bindLimit(dailyCost(LimitKind.TierCostTracking), at), alertAt: tierAlert });
  }
  return bound;
}
