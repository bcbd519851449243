import { Equals, IsEnum } from 'class-validator';
import { BudgetState, BudgetUnit, LimitKind } from './event-enums';
import { StateEventEnvelope } from './event-envelope';
import { Amount, EventTime, Name } from './event-fields';

export const BUDGET_STATE_CHANGED = { type: 'budget.state', version: 1 } as const;

/**
 * The budget service's verdict on one limit of one budget key, on a compacted topic:
 * the latest value per (budgetKey, limitKind) is every ingress replica's local view.
 */
export class BudgetStateChanged extends StateEventEnvelope {
  @Equals(BUDGET_STATE_CHANGED.type)
  override type: typeof BUDGET_STATE_CHANGED.type = BUDGET_STATE_CHANGED.type;

  @Equals(BUDGET_STATE_CHANGED.version)
  override version: typeof BUDGET_STATE_CHANGED.version = BUDGET_STATE_CHANGED.version;

  /** What the limit is counted against: a user key, or a model for per-model limits. */
  @Name()
  budgetKey!: string;

  @IsEnum(LimitKind)
  limitKind!: LimitKind;

  /** The period bucket the numbers belong to, e.g. `2025-06-01` or `2025-06-01T10:42`. */
  @Name(64)
  windowId!: string;

  @IsEnum(BudgetState)
  state!: BudgetState;

  @Amount()
  remaining!: number;

  @Amount()
  limit!: number;

  @IsEnum(BudgetUnit)
  unit!: BudgetUnit;

  /** When the current window ends and the limit is available again. */
  @EventTime()
  resetAt!: string;
}
