import { randomUUID } from 'node:crypto';
import {
  dollarsAt,
  modelPrice,
  ratesForPrompt,
  routeForModel,
  tierByName,
  type GatewayConfig,
  type ModelPricing,
} from '@aigw/config';
import {
  allowsNothing,
  amountShown,
  amountsFor,
  BATCH_HOLD_PREFIX,
  bindLimit,
  budgetRefusal,
  closedLimitRefusal,
  unitName,
  userLimits,
  type BalanceChange,
  type BoundLimit,
  type BudgetLimit,
  type BudgetStore,
  pacesCalls,
} from '@aigw/budget-core';
import { DataPlaneError, DataPlaneErrorCode } from '@aigw/contracts/data-plane';
import { imageTokensPastEstimate } from '../admission/image-token-bound';
import { recordBudgetKey } from './batch-budget-key';
import type { BatchEstimate } from './batch-estimate';
import { BATCH_WINDOW_MS, DEFAULT_GIVE_UP_MARGIN_MS } from './batch-sweeper';

/** As long as the sweeper looks for a batch: a hold nothing settles or releases lapses then. */
export const BATCH_HOLD_MS = BATCH_WINDOW_MS + DEFAULT_GIVE_UP_MARGIN_MS;
/** How soon a batch refused for an unreachable budget store is retried (admission's). */
const STORE_RETRY_AFTER_MS = 5_000;

export interface BatchHoldsOptions {
  readonly config: () => GatewayConfig;
  /** The balances chat admission reserves in (shared by the replicas with Redis). */
  readonly store: BudgetStore;
  /** The batch price as a share of the synchronous one: dollars are held at it. */
  readonly priceFactor: number;
  readonly holdMs?: number;
  readonly now?: () => number;
}

/** Whose batch, on which model: what its hold is priced and counted for. */
export interface BatchOwner {
  readonly owner: string;
  /** The user id its bill names, where it is not `owner` (HeldRecord.userId). */
  readonly userId?: string;
  readonly model: string;
  readonly upstreamModel: string;
  /** The provider of the backend running it: its model's price, as billing reads it. */
  readonly provider?: string;
  readonly tier?: string;
}

/**
 * Holds a batch's estimated cost against its owner's budgets from creation until it is
 * billed (its usage event names the hold, and settling the event drops it), ends with
 * nothing to bill, or its window and the sweeper's margin pass (the hold lapses). The
 * hold is priced as the batch is billed: dollars at the batch price, tokens as they
 * are. Per-minute limits are left out: they pace synchronous calls, and a batch runs
 * over a day at the backend.
 */
export class BatchHolds {
  private readonly now: () => number;

  constructor(private readonly options: BatchHoldsOptions) {
    this.now = options.now ?? Date.now;
  }

  /**
   * The hold's id, or undefined when no limit binds the owner. Refused as a chat call
   * is: a 429 when the limit lacks room now, a 400 when the batch is larger than a whole
   * window, a 503 when the store cannot be reached.
   */
  async hold(batch: BatchOwner, estimate: BatchEstimate | undefined): Promise<string | undefined> {
    const config = this.options.config();
    const route = routeForModel(config, batch.model);
    if (!route) return undefined;
    const tier = tierByName(config, route, batch.tier);
    const now = this.now();
    // Where its bill is charged: the owner's budget key, not the bare id.
    const userKey = recordBudgetKey(config, batch);
    const limits = boundWhereBilled(
      userLimits({ route, userKey, tier }).filter((limit) => !pacesCalls(limit.window)),
      now,
    );
    if (limits.length === 0) return undefined;
    // A limit of 0 allows nothing: the batch is refused as a call is, with nothing held.
    const closed = limits.find(allowsNothing);
    if (closed) throw closedLimitRefusal(closed, now);
    // A file uploaded before uploads were estimated: holding nothing would run it unheld.
    if (!estimate) throw unestimated();
    const counts = {
      inputTokens:
        estimate.inputTokens + imageTokensPastEstimate(batch.upstreamModel, estimate.images ?? 0),
      outputTokens: estimate.outputTokens,
    };
    const amounts = amountsFor(route, batch.upstreamModel, counts);
    const price = modelPrice(route, batch.upstreamModel, batch.provider);
    amounts.dollars = price ? heldDollars(price, estimate, counts) * this.options.priceFactor : 0;
    const unfit = limits.find((limit) => amounts[limit.unit] > limit.limit);
    if (unfit) throw largerThanLimit(unfit, amounts[unfit.unit]);
    const changes: BalanceChange[] = limits.map((limit) => ({
      key: limit.key,
      amount: amounts[limit.unit],
      limit: limit.limit,
      windowEndsAt: limit.windowRef.endsAt,
    }));
    // Prefixed: a store that finds the hold lapsed counts it as a batch's, not a call's.
    const id = BATCH_HOLD_PREFIX + randomUUID();
    let result;
    try {
      result = await this.options.store.reserve(
        id,
        changes,
        this.options.holdMs ?? BATCH_HOLD_MS,
        now,
      );
    } catch (error) {
      // The script may have run and held with its reply lost (a command timeout, a dropped
      // connection): give it back, or it would hold the batch's estimate for BATCH_HOLD_MS.
      void this.options.store.release(id).catch(() => undefined);
      throw new DataPlaneError(
        DataPlaneErrorCode.BudgetUnavailable,
        'The budget store is unreachable, so the batch cannot be admitted; try again shortly',
        { retryAfterMs: STORE_RETRY_AFTER_MS, cause: error },
      );
    }
    if (result.ok) return id;
    const { used, reserved } = result.blocked;
    const limit = limits.find((l) => l.key === result.blocked.key)!;
    const remaining = Math.max(0, limit.limit - used - reserved);
    throw budgetRefusal(limit, remaining, limit.windowRef.endsAt, now);
  }

  /** Gives a hold back (the batch was not created, or ended with nothing to bill). */
  async release(id: string): Promise<void> {
    await this.options.store.release(id);
  }
}

/**
 * Each limit bound in the window the batch is created in and in the one its completion
 * window ends in, where its bill lands when it runs late: usage is spent when billed, so
 * a daily budget's hold on the creation day alone would stop holding at midnight while
 * the batch still runs. The hold is one reservation: billing settles both.
 */
function boundWhereBilled(limits: readonly BudgetLimit[], now: number): BoundLimit[] {
  const bound: BoundLimit[] = [];
  for (const limit of limits) {
    const first = bindLimit(limit, now);
    bound.push(first);
    // A window shorter than a day is one of many the bill may land in: its own only.
    if (limit.window.unit === 'fixed' && limit.window.ms < BATCH_WINDOW_MS) continue;
    const last = bindLimit(limit, now + BATCH_WINDOW_MS);
    if (last.key !== first.key) bound.push(last);
  }
  return bound;
}

/**
 * The estimate's dollars at the price, every line at the long-prompt tier its largest
 * line may reach (billing prices each line by its own prompt): the file's summed input
 * would put every line past the threshold.
 */
function heldDollars(
  price: ModelPricing,
  estimate: BatchEstimate,
  counts: { inputTokens: number; outputTokens: number },
): number {
  if (!price.tiers || price.tiers.length === 0) return dollarsAt(price, counts);
  const largest = estimate.largestPromptTokens ?? estimate.inputTokens;
  // The rates at that prompt, without the tiers that would price the sum again.
  const { tiers: _tiers, ...flat } = { ...price, ...ratesForPrompt(price, largest) };
  return dollarsAt(flat, counts);
}

function unestimated(): DataPlaneError {
  return new DataPlaneError(
    DataPlaneErrorCode.InvalidRequest,
    "This batch's input file was uploaded before the gateway estimated batch costs, so its " +
      'cost cannot be held against your budgets: upload it again and create the batch from the new file',
    { param: 'input_file_id' },
  );
}

function largerThanLimit(limit: BoundLimit, amount: number): DataPlaneError {
  return new DataPlaneError(
    DataPlaneErrorCode.InvalidRequest,
    `This batch may cost up to ${amountShown(amount, limit.unit)} ${unitName(limit.unit)} (its lines' prompt estimates ` +
      `plus their max_tokens, at the batch price), more than ${limit.kind} allows in a whole ` +
      `window (${limit.limit}): split it, or lower max_tokens`,
    { param: 'input_file_id' },
  );
}
