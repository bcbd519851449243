import type { RouteConfig } from '@aigw/config';
import type { ModelBalanceReader } from './model-budget-gate-store';
import {
  allowsNothing,
  balanceKeyEnd,
  bindLimit,
  modelLimits,
  type BoundLimit,
} from './domain/budget-limits';
import {
  budgetRefusal,
  closedLimitRefusal,
  passOverRefusal,
  unitName,
} from './domain/budget-refusal';
import { ExhaustionView } from './exhaustion-view';

/**
 * Where the gate learned that a model has no room: `view` is this replica's exhaustion
 * view (the budget service's broadcast, or an earlier store read it kept) or a limit of 0
 * in the config, `store` the authoritative balances read for this call.
 */
export type ModelSteerSource = 'view' | 'store';

/** Told of every model the gate turned away, by where it learned there was no room. */
export type ModelSteerListener = (source: ModelSteerSource) => void;

/**
 * What the gate needs of a request: the hold its admission made, if any, and the models
 * admission passed over for it alone, which the gate turns away for it (with no store read).
 */
export interface GatedRequest {
  readonly reservationId?: string;
  readonly passedOverModels?: readonly string[];
}

/**
 * Throws a `budgetExceeded` refusal for a model with no room; a promise only when it
 * reads the store (the split deployment's router), so the all-in-one's check stays plain.
 */
export type ModelBudgetGate = (
  route: RouteConfig,
  model: string,
  request: GatedRequest,
) => void | Promise<void>;

/**
 * The router's check of `tokenRateLimit.perModel` before it calls a backend: answered
 * from the local exhaustion view, so it costs no network call.
 */
export function modelBudgetGate(
  view: ExhaustionView,
  now: () => number = Date.now,
  onSteered?: ModelSteerListener,
) {
  return (route: RouteConfig, model: string, request?: GatedRequest): void => {
    const at = now();
    refuseFromView(view, boundModelLimits(route, model, at), model, at, onSteered, request);
  };
}

/** The model's per-model limits, bound in the windows they are in at `at`. */
function boundModelLimits(route: RouteConfig, model: string, at: number): BoundLimit[] {
  return modelLimits(route, model).map((limit) => bindLimit(limit, at));
}

/** Throws admission's 429 for the first limit the view has no room left on. */
function refuseFromView(
  view: ExhaustionView,
  limits: readonly BoundLimit[],
  model: string,
  at: number,
  onSteered: ModelSteerListener | undefined,
  request: GatedRequest | undefined,
): void {
  // Too small for this request alone: admission held a later model for it.
  if (request?.passedOverModels?.includes(model)) {
    // Its token limit, the one a request can be too large for (a request count never is).
    const bound = limits.find((limit) => limit.unit !== 'requests') ?? limits[0];
    if (bound) {
      onSteered?.('view');
      throw passOverRefusal(bound, model, at);
    }
  }
  for (const bound of limits) {
    // Turned away from the config (admission held no room on it).
    if (allowsNothing(bound)) {
      onSteered?.('view');
      throw closedLimitRefusal(bound, at);
    }
    const key = ExhaustionView.keyOf(bound.subject, bound.kind, bound.windowRef.id);
    const resetAt = view.exhaustedUntilByKey(key, at, bound.limit);
    if (resetAt !== undefined) {
      onSteered?.('view');
      // The same 429 as admission's: this limit, nothing left, when it opens.
      throw budgetRefusal(
        bound,
        0,
        resetAt,
        at,
        `The model "${model}" has used its ${bound.limit} ${unitName(bound.unit)} of ${bound.kind} for this minute`,
      );
    }
  }
}

/**
 * What a read of the store came to: room for the call, none (`steered`), or `failed` (the
 * call goes on as the view alone decides).
 */
export type ModelStoreReadOutcome = 'room' | 'steered' | 'failed';

export interface StoreCheckedGateOptions {
  readonly now?: () => number;
  readonly onSteered?: ModelSteerListener;
  readonly onStoreRead?: (outcome: ModelStoreReadOutcome, error?: unknown) => void;
}

/**
 * The gate of a router that does not share the ingress's process (the split deployment):
 * the view first, as the fast path, then one read of the model's balances in the store,
 * so a model spent or held full is passed over before the broadcast reaches this replica
 * (the budget service announces a spent limit only after it settled it, and a limit held
 * full never). The read also gives what the request's own reservation holds: a model the
 * ingress held this request's room on is called, even when that hold filled it; one it
 * passed over (no room for what the request would hold) is turned away, as admission did.
 * A spent limit is kept in the view until its window ends, so the next calls ask nothing.
 * A store that fails leaves the decision to the view: admission has held already.
 */
export function storeCheckedModelBudgetGate(
  view: ExhaustionView,
  store: ModelBalanceReader,
  options: StoreCheckedGateOptions = {},
): ModelBudgetGate {
  const now = options.now ?? Date.now;
  return (route, model, request) => {
    const at = now();
    const limits = boundModelLimits(route, model, at);
    refuseFromView(view, limits, model, at, options.onSteered, request);
    if (limits.length === 0) return undefined; // nothing to read
    return checkStore(store, limits, model, request, at).then(
      (blocked) => {
        options.onStoreRead?.(blocked ? 'steered' : 'room');
        if (!blocked) return;
        options.onSteered?.('store');
        if (blocked.spent) {
          view.markExhausted(
            blocked.limit.subject,
            blocked.limit.kind,
            blocked.limit.windowRef.id,
            blocked.limit.windowRef.endsAt,
            blocked.limit.limit,
            true,
          );
        }
        throw blocked.refusal;
      },
      (error: unknown) => {
        options.onStoreRead?.('failed', error);
      },
    );
  };
}

interface Blocked {
  readonly limit: BoundLimit;
  readonly spent: boolean;
  readonly refusal: Error;
}

/** The first of the model's limits that leaves this request no room, as the store says. */
async function checkStore(
  store: ModelBalanceReader,
  limits: readonly BoundLimit[],
  model: string,
  request: GatedRequest,
  at: number,
): Promise<Blocked | undefined> {
  const { balances, hold } = await store.read(request.reservationId, limits, at);
  for (let index = 0; index < limits.length; index++) {
    const limit = limits[index];
    const { used, reserved } = balances[index];
    const taken = used + reserved;
    const spent = used >= limit.limit;
    // Held by this request (and not spent since): admission picked this model.
    if (!spent && (hold.get(limit.key) ?? 0) > 0) continue;
    const needed = neededOn(limit, hold);
    const full = needed === undefined ? taken >= limit.limit : taken + needed > limit.limit;
    if (!spent && !full) continue;
    const what = `${limit.limit} ${unitName(limit.unit)} of ${limit.kind}`;
    const refusal = budgetRefusal(
      limit,
      Math.max(0, limit.limit - taken),
      limit.windowRef.endsAt,
      at,
      spent
        ? `The model "${model}" has used its ${what} for this minute`
        : `The model "${model}" has no room left in its ${what} for this minute`,
    );
    return { limit, spent, refusal };
  }
  return undefined;
}

/**
 * What the request would hold on `limit`: one for a request count; for tokens, what its
 * reservation holds on the same limit of the model admission picked instead (the amount
 * is the same on every model); undefined when it holds none, so any room lets it through.
 */
function neededOn(limit: BoundLimit, hold: ReadonlyMap<string, number>): number | undefined {
  if (limit.unit === 'requests') return 1;
  // Another model's same limit ends alike (bindLimit).
  const sameLimit = balanceKeyEnd(limit.kind, limit.windowRef.id);
  for (const [key, amount] of hold) {
    if (key !== limit.key && key.endsWith(sameLimit)) return amount;
  }
  return undefined;
}
