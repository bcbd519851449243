import {
  Equals,
  IsIn,
  IsOptional,
  IsString,
  Matches,
  MaxLength,
  ValidateBy,
} from 'class-validator';
import { LimitKind } from './event-enums';
import { EventEnvelope } from './event-envelope';
import { Name } from './event-fields';

export const BUDGET_ADJUSTED = { type: 'budget.adjusted', version: 1 } as const;

/** What an operator does to a user's balance in the current window. */
export enum BudgetAdjustmentAction {
  /** The window's spend back to 0. */
  Reset = 'reset',
  /** `amount` less spend, in the limit's own unit (tokens, dollars or requests), never below 0. */
  Credit = 'credit',
}

/**
 * The limit kinds a user has (per-model limits belong to a model, and cost tracking
 * without a cap limits nothing): what an adjustment may name.
 */
export const USER_LIMIT_KINDS: readonly LimitKind[] = [
  LimitKind.TokenBudgetPerUser,
  LimitKind.TokenBudgetPerMinute,
  LimitKind.UserInputTokensPerMinute,
  LimitKind.UserOutputTokensPerMinute,
  LimitKind.UserTotalTokensPerDay,
  LimitKind.UserRequestsPerMinute,
  LimitKind.TierDailyTokens,
  LimitKind.MaxDailyCostPerUser,
];

/** Longest reason an operator may give (it is logged and kept in the event log). */
export const MAX_ADJUSTMENT_REASON_LENGTH = 500;

/** Longest operator name: a login or a short handle, not a sentence (that is `reason`). */
export const MAX_OPERATOR_LENGTH = 64;

/** An operator name: printable, no control characters (it is logged and shown on a page). */
export const OPERATOR_PATTERN = /^[^\u0000-\u001f\u007f]+$/;

/**
 * An operator gave a user budget back: the budget service applies it once to the
 * balances of the user's limits in the window they are in at `occurredAt`, and
 * announces them. Keyed by the user (`partitionKey` is `userKey`), on a topic of its own:
 * consumers of the usage topic refuse any type but usage.
 */
export class BudgetAdjusted extends EventEnvelope {
  @Equals(BUDGET_ADJUSTED.type)
  override type: typeof BUDGET_ADJUSTED.type = BUDGET_ADJUSTED.type;

  @Equals(BUDGET_ADJUSTED.version)
  override version: typeof BUDGET_ADJUSTED.version = BUDGET_ADJUSTED.version;

  @Name()
  userKey!: string;

  /** The one limit adjusted; absent: every limit of the user (a reset only). */
  @ValidateBy({
    name: 'adjustedLimit',
    validator: {
      validate: (value: unknown, args) =>
        value === undefined
          ? (args?.object as BudgetAdjusted).action !== BudgetAdjustmentAction.Credit
          : (USER_LIMIT_KINDS as readonly unknown[]).includes(value),
      defaultMessage: () =>
        `limitKind must be one of ${USER_LIMIT_KINDS.join(', ')} (a credit names one: its amount is in that limit's unit)`,
    },
  })
  limitKind?: LimitKind;

  @IsIn(Object.values(BudgetAdjustmentAction))
  action!: BudgetAdjustmentAction;

  /** A credit's amount, in the limit's unit; a reset has none. */
  @ValidateBy({
    name: 'adjustmentAmount',
    validator: {
      validate: (value: unknown, args) =>
        (args?.object as BudgetAdjusted).action === BudgetAdjustmentAction.Credit
          ? typeof value === 'number' && Number.isFinite(value) && value > 0
          : value === undefined,
      defaultMessage: () =>
        'amount must be a finite number greater than 0 for a credit, and absent for a reset',
    },
  })
  amount?: number;

  /** Why, in the operator's words. */
  @IsOptional()
  @IsString()
  @MaxLength(MAX_ADJUSTMENT_REASON_LENGTH)
  reason?: string;

  /**
   * Who made it, as the operator named themselves (the admin route's `operator`). Optional
   * and added within version 1: events without it stay valid, and consumers built before
   * it drop it (they ignore unknown fields).
   */
  @IsOptional()
  @Name(MAX_OPERATOR_LENGTH)
  @Matches(OPERATOR_PATTERN, { message: 'operator must be printable characters' })
  operator?: string;
}
