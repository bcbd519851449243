import { randomUUID } from 'node:crypto';
import { routeForModel, tierByName, type GatewayConfig, type RouteConfig } from '@aigw/config';
import {
  amountsFor,
  bindLimit,
  BoundLimitCache,
  ExhaustionView,
  rateLimitHeaders,
  servingModels,
  userLimits,
  type Balance,
  type BalanceChange,
  type BoundLimit,
  type BudgetStore,
  type LimitUnit,
  type TokenCounts,
} from '@aigw/budget-core';
import {
  DataPlaneError,
  DataPlaneErrorCode,
  estimatePromptTokensUpperBound,
  type GatewayRequest,
} from '@aigw/contracts/data-plane';

export interface AdmissionOptions {
  /** Output tokens assumed for a request that sets no `max_tokens`. */
  readonly defaultMaxOutputTokens: number;
  /** How long a hold lasts if the request never settles or releases it. */
  readonly holdMs: number;
  readonly now?: () => number;
}

/** What an admitted request carries: its hold, and the rate-limit headers to send. */
export interface Admission {
  readonly reservationId?: string;
  readonly headers: Readonly<Record<string, string>>;
}

const NO_LIMITS: Admission = { headers: {} };

/** A caller's limit as admission checks it: with its entry in the exhaustion view. */
interface AdmissionLimit extends BoundLimit {
  readonly exhaustionKey: string;
}

/**
 * Admits a request against every budget that binds its caller, before any provider is
 * called: its worst-case cost (prompt estimate plus the output it may produce) is held
 * atomically in the store, and settled to the real cost when its usage event arrives.
 * A burst of parallel calls therefore cannot spend past a limit; it can only be refused.
 * An exhausted limit known from the broadcast is refused with no network call.
 */
export class BudgetAdmission {
  private readonly now: () => number;
  private readonly limits = new BoundLimitCache<AdmissionLimit>();

  constructor(
    private readonly config: () => GatewayConfig,
    private readonly store: BudgetStore,
    private readonly exhausted: ExhaustionView,
    private readonly options: AdmissionOptions,
  ) {
    this.now = options.now ?? Date.now;
  }

  async admit(request: GatewayRequest): Promise<Admission> {
    const config = this.config();
    const route = routeForModel(config, request.requestedModel);
    if (!route) return NO_LIMITS; // the router answers "model not found"
    const tier = tierByName(config, route, request.caller.tier);
    const now = this.now();
    const userKey = request.caller.userKey;
    const limits = this.limits.get(route, userKey, tier, now, (at) =>
      userLimits({ route, userKey, tier }).map((limit) => {
        const bound = bindLimit(limit, at);
        const exhaustionKey = ExhaustionView.keyOf(bound.subject, bound.kind, bound.windowRef.id);
        return { ...bound, exhaustionKey };
      }),
    );
    if (limits.length === 0) return NO_LIMITS;

    for (const limit of limits) {
      const resetAt = this.exhausted.exhaustedUntilByKey(limit.exhaustionKey, now);
      if (resetAt !== undefined) throw budgetExceeded(limit, limit.limit, 0, resetAt, now);
    }

    const models = servingModels(route, request.requestedModel, request.allowedModels);
    const amounts = worstCase(route, models.length > 0 ? models : [request.requestedModel], {
      inputTokens: estimatePromptTokensUpperBound(request.body),
      outputTokens: request.operation === 'embeddings' ? 0 : this.maxOutputTokens(request),
    });
    const changes = limits.map((limit): BalanceChange => ({
      key: limit.key,
      amount: amounts[limit.unit],
      limit: limit.limit,
      windowEndsAt: limit.windowRef.endsAt,
    }));

    const reservationId = randomUUID();
    const result = await this.store.reserve(reservationId, changes, this.options.holdMs, now);
    if (!result.ok) {
      const limit = limits.find((l) => l.key === result.blocked.key)!;
      // Spent (not merely held) to the limit: remember it, so the next refusal is local.
      if (result.blocked.used >= limit.limit) {
        this.exhausted.markExhausted(
          limit.subject,
          limit.kind,
          limit.windowRef.id,
          limit.windowRef.endsAt,
        );
      }
      const remaining = Math.max(0, limit.limit - result.blocked.used - result.blocked.reserved);
      throw budgetExceeded(limit, limit.limit, remaining, limit.windowRef.endsAt, now);
    }
    return { reservationId, headers: tightestLimitHeaders(limits, result.balances, now) };
  }

  async release(admission: Admission): Promise<void> {
    if (admission.reservationId) await this.store.release(admission.reservationId);
  }

  private maxOutputTokens(request: GatewayRequest): number {
    const asked = Number(request.body.max_completion_tokens ?? request.body.max_tokens);
    return Number.isFinite(asked) && asked > 0 ? asked : this.options.defaultMaxOutputTokens;
  }
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
): Record<LimitUnit, number> {
  const worst = amountsFor(route, models[0], counts);
  for (let index = 1; index < models.length; index++) {
    const amounts = amountsFor(route, models[index], counts);
    for (const unit of Object.keys(worst) as LimitUnit[]) {
      if (amounts[unit] > worst[unit]) worst[unit] = amounts[unit];
    }
  }
  return worst;
}

function budgetExceeded(
  limit: BoundLimit,
  total: number,
  remaining: number,
  resetAt: number,
  now: number,
): DataPlaneError {
  const unit = limit.unit === 'dollars' ? 'dollars' : 'tokens';
  return new DataPlaneError(
    DataPlaneErrorCode.BudgetExceeded,
    `Budget exceeded: ${limit.kind} allows ${total} ${unit} per window; try again after ${new Date(resetAt).toISOString()}`,
    {
      retryAfterMs: Math.max(0, resetAt - now),
      headers: rateLimitHeaders(total, remaining, resetAt - now),
    },
  );
}

/** The tightest token limit, in OpenAI's header names. */
function tightestLimitHeaders(
  limits: readonly BoundLimit[],
  balances: readonly Balance[],
  now: number,
): Record<string, string> {
  let tightest: BoundLimit | undefined;
  let least = Infinity;
  for (let index = 0; index < limits.length; index++) {
    const limit = limits[index];
    if (limit.unit === 'dollars') continue;
    const { used, reserved } = balances[index];
    const remaining = Math.max(0, limit.limit - used - reserved);
    if (remaining < least || !tightest) {
      tightest = limit;
      least = remaining;
    }
  }
  if (!tightest) return {};
  return rateLimitHeaders(tightest.limit, least, tightest.windowRef.endsAt - now);
}
