// For the budget specs: one route serving gpt-4-turbo, the usage and credit events a
// settler is handed, and a settler over an in-memory store whose announcements are recorded.
import { ExhaustionView, LocalBudgetStore, type BoundLimit } from '@aigw/budget-core';
import type { GatewayConfig } from '@aigw/config';
import {
  BudgetAdjustmentAction,
  BudgetState,
  createBudgetAdjusted,
  createTokenUsageRecorded,
  UsageSource,
  type BudgetStateChanged,
  type GatewayEvent,
  type LimitKind,
} from '@aigw/contracts';
import { MetricsRegistry, type Logger } from '@aigw/observability';
import { configFromYaml, RecordingPublisher } from '@aigw/testing';
import type { AlertNotifier } from '../alert-notifier';
import { BudgetSettler, type BudgetSettlerOptions } from '../budget-settler';

/** Route `r`, backend `primary` serving gpt-4-turbo; `spec`: the rest of its spec, indented under `spec:`. */
export function gpt4TurboRoute(spec = ''): GatewayConfig {
  return configFromYaml(`
kind: AIGatewayRoute
metadata: {name: r}
spec:
  backends:
  - {name: primary, provider: openai, model: gpt-4-turbo}
${spec}`);
}

export interface UsageInit {
  readonly user: string;
  /** The event's budget key (a qualified one); absent as in events of older builds. */
  readonly budgetKey?: string;
  /** Split evenly between input and output; also the weighted cost. */
  readonly tokens: number;
  readonly dollars?: number;
  /** Now when absent. */
  readonly occurredAt?: Date;
  readonly reservationId?: string;
  readonly tier?: string;
  readonly cacheHit?: boolean;
  readonly requestId?: string;
  /** The operation served (`chat` when absent). */
  readonly operation?: string;
}

/** A reported gpt-4-turbo usage of `user`, served by `primary`. */
export function usageOf(init: UsageInit) {
  const { user, tokens } = init;
  return createTokenUsageRecorded(
    {
      ...(init.tier ? { tier: init.tier } : {}),
      ...(init.reservationId ? { reservationId: init.reservationId } : {}),
      ...(init.budgetKey ? { budgetKey: init.budgetKey } : {}),
      requestId: init.requestId ?? 'r',
      partitionKey: init.budgetKey ?? user,
      userId: user,
      inputTokens: tokens / 2,
      outputTokens: tokens / 2,
      cachedInputTokens: 0,
      usageSource: UsageSource.Reported,
      modelRequested: 'gpt-4-turbo',
      modelServed: 'gpt-4-turbo',
      provider: 'openai',
      backend: 'primary',
      costDollars: init.dollars ?? 0,
      weightedTokenCost: tokens,
      cacheHit: init.cacheHit ?? false,
      operation: init.operation ?? 'chat',
    },
    { occurredAt: init.occurredAt },
  );
}

/** An operator's credit of `amount` to `user`'s limit of `limitKind`. */
export function creditOf(
  user: string,
  limitKind: LimitKind,
  amount: number,
  occurredAt = new Date(),
) {
  return createBudgetAdjusted(
    { partitionKey: user, userKey: user, action: BudgetAdjustmentAction.Credit, limitKind, amount },
    { occurredAt },
  );
}

export interface SettlerParts {
  /** Shared by several settlers (replicas) when given. */
  readonly store?: LocalBudgetStore;
  readonly published?: RecordingPublisher;
  readonly alerts?: AlertNotifier;
  readonly logger?: Logger;
  readonly options?: BudgetSettlerOptions;
}

/** A settler of `config` (a function: read at each use, as a reload does), with what it writes to. */
export function settlerOf(config: GatewayConfig | (() => GatewayConfig), parts: SettlerParts = {}) {
  const store = parts.store ?? new LocalBudgetStore(':memory:');
  const published = parts.published ?? new RecordingPublisher();
  const metrics = new MetricsRegistry({ collectDefaultMetrics: false });
  const settler = new BudgetSettler(
    typeof config === 'function' ? config : () => config,
    store,
    published,
    metrics,
    parts.alerts,
    parts.logger,
    parts.options,
  );
  return { store, published, metrics, settler };
}

// Recent windows: the embedded store drops balances whose window ended an hour ago.
export const thisMinute = () => Math.floor(Date.now() / 60_000) * 60_000;

export const budgetStates = (events: readonly GatewayEvent[]) =>
  events.filter((e): e is BudgetStateChanged => e.type === 'budget.state');

export const exhaustions = (events: readonly GatewayEvent[]) =>
  budgetStates(events).filter((e) => e.state === BudgetState.Exhausted);

/** Each announcement as `kind key state remaining`, sorted. */
export const stateSummary = (events: readonly GatewayEvent[]) =>
  budgetStates(events)
    .map((e) => `${e.limitKind} ${e.budgetKey} ${e.state} ${e.remaining}`)
    .sort();

/**
 * When `view` says `limit` opens again (its mark in the limit's window), asked at `now`;
 * `configured`: the limit's value now, a mark under a lower one being stale.
 */
export const exhaustedUntil = (
  view: ExhaustionView,
  limit: Pick<BoundLimit, 'subject' | 'kind' | 'windowRef'>,
  now: number,
  configured?: number,
) =>
  view.exhaustedUntilByKey(
    ExhaustionView.keyOf(limit.subject, limit.kind, limit.windowRef.id),
    now,
    configured,
  );
