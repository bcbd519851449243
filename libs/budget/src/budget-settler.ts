import {
  routeForModel,
  routeOfBackend,
  tierByName,
  type GatewayConfig,
  type RouteConfig,
  type UserTierConfig,
} from '@aigw/config';
import {
  amountsFor,
  bindLimit,
  BoundLimitCache,
  modelLimits,
  userLimits,
  DAY,
  type BalanceChange,
  type BoundLimit,
  type BudgetLimit,
  type BudgetStore,
} from '@aigw/budget-core';
import {
  BudgetState,
  BudgetUnit,
  createAlertRaised,
  createBudgetStateChanged,
  LimitKind,
  Topic,
  type EventPublisher,
  type EventSubscription,
  type GatewayEvent,
  type TokenUsageRecorded,
} from '@aigw/contracts';
import type { MetricsRegistry } from '@aigw/observability';
import type { AlertNotifier } from './alert-notifier';

/** A dollar spend tracked only to raise an alert: it limits nothing. */
const UNCAPPED = Number.MAX_SAFE_INTEGER;

interface TrackedLimit extends BoundLimit {
  /** Alert when spend in the window crosses this. */
  readonly alertAt?: number;
}

/**
 * The budget service's core: applies each usage event to the authoritative balances
 * once (idempotent per event id), settles the request's hold, and announces what
 * changed: exhaustion on the compacted state topic (every ingress keeps a local view of
 * it) and threshold crossings as alerts.
 */
export class BudgetSettler implements EventSubscription {
  readonly group = 'budget';
  readonly topics = [Topic.UsageRecorded] as const;

  private readonly limits = new BoundLimitCache<TrackedLimit>();
  /** The latest remaining amount per limit, set on the gauge once per batch. */
  private readonly remaining = new Map<TrackedLimit, number>();

  constructor(
    private readonly config: () => GatewayConfig,
    private readonly store: BudgetStore,
    private readonly events: EventPublisher,
    private readonly metrics: MetricsRegistry,
    private readonly alerts?: AlertNotifier,
  ) {}

  // Sequential on purpose: one user's events arrive in order and must apply in order.
  async handle(events: readonly GatewayEvent[]): Promise<void> {
    try {
      for (const event of events) {
        if (event.type === 'usage.recorded') await this.apply(event);
      }
    } finally {
      this.setRemainingGauges();
    }
    // Durable before the consumer commits the batch: a crash replays, never loses.
    await this.store.flush?.();
  }

  async settle(usage: TokenUsageRecorded): Promise<void> {
    try {
      await this.apply(usage);
    } finally {
      this.setRemainingGauges();
    }
  }

  private async apply(usage: TokenUsageRecorded): Promise<void> {
    const config = this.config();
    const route =
      routeOfBackend(config.routes, usage.backend) ?? routeForModel(config, usage.modelRequested);
    if (!route) return; // no route serves it any more: nothing binds this usage
    const tier = tierByName(config, route, usage.tier);
    const at = Date.parse(usage.occurredAt);
    const limits = this.limits.get(
      route,
      `${usage.modelServed}\n${usage.userId}`,
      tier,
      at,
      (bindAt) => trackedLimits(route, tier, usage, bindAt),
    );
    // Nothing limits or watches this usage: no balance to keep, no hold to settle.
    if (limits.length === 0 && !usage.reservationId) return;
    const amounts = {
      ...amountsFor(route, usage.modelServed, usage),
      // The producer priced it with the config in force when it ran.
      tokens: usage.weightedTokenCost,
      dollars: usage.costDollars,
    };
    const changes = limits.map((limit): BalanceChange => ({
      key: limit.key,
      amount: amounts[limit.unit],
      limit: limit.limit,
      windowEndsAt: limit.windowRef.endsAt,
    }));
    const result = await this.store.settle(usage.eventId, usage.reservationId, changes, at);
    if (!result.applied) return;

    for (let index = 0; index < limits.length; index++) {
      const used = result.balances[index].used;
      this.announce(usage, limits[index], used - changes[index].amount, used);
    }
  }

  /** A gauge keeps only its last value: one set per limit and batch shows the same. */
  private setRemainingGauges(): void {
    for (const [limit, remaining] of this.remaining) {
      this.metrics.setBudgetRemaining({ budgetKey: limit.subject, limit: limit.kind }, remaining);
    }
    this.remaining.clear();
  }

  private announce(
    usage: TokenUsageRecorded,
    limit: TrackedLimit,
    before: number,
    used: number,
  ): void {
    const unit = limit.unit === 'dollars' ? BudgetUnit.Dollars : BudgetUnit.Tokens;
    if (limit.limit !== UNCAPPED) {
      // Re-inserted so the gauges are set in the order of their last change.
      this.remaining.delete(limit);
      this.remaining.set(limit, Math.max(0, limit.limit - used));
      // Spend past a limit that admission held for is the overshoot we promise to bound.
      if (used > limit.limit && limit.kind !== LimitKind.ModelTokensPerMinute) {
        this.metrics.recordReservationOvershoot(
          { limit: limit.kind },
          used - Math.max(limit.limit, before),
        );
      }
      if (before < limit.limit && used >= limit.limit) {
        this.events.publish(
          createBudgetStateChanged({
            requestId: usage.requestId,
            partitionKey: limit.subject,
            budgetKey: limit.subject,
            limitKind: limit.kind,
            windowId: limit.windowRef.id,
            state: BudgetState.Exhausted,
            remaining: 0,
            limit: limit.limit,
            unit,
            resetAt: new Date(limit.windowRef.endsAt).toISOString(),
          }),
        );
      }
    }
    if (limit.alertAt !== undefined && before < limit.alertAt && used >= limit.alertAt) {
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
 * Every balance this usage counts against: the caller's limits, the served model's
 * limit, and the daily dollar spend wherever an alert threshold watches it. One key
 * appears once even if two rules name it (a cap and its alert).
 */
function trackedLimits(
  route: RouteConfig,
  tier: UserTierConfig | undefined,
  usage: TokenUsageRecorded,
  at: number,
): TrackedLimit[] {
  const limits: BudgetLimit[] = [
    ...userLimits({ route, userKey: usage.userId, tier }),
    ...modelLimits(route, usage.modelServed),
  ];
  const dailyCost = (kind: LimitKind): BudgetLimit => ({
    kind,
    subject: usage.userId,
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
