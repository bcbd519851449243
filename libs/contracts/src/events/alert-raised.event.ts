import { Equals, IsEnum, IsOptional, IsString, MaxLength } from 'class-validator';
import { BudgetUnit, LimitKind } from './event-enums';
import { StateEventEnvelope } from './event-envelope';
import { Amount, Name } from './event-fields';

export const ALERT_RAISED = { type: 'alert.raised', version: 1 } as const;

/** Spend crossed a configured alert threshold (`alertThreshold`) within a window. */
export class AlertRaised extends StateEventEnvelope {
  @Equals(ALERT_RAISED.type)
  override type: typeof ALERT_RAISED.type = ALERT_RAISED.type;

  @Equals(ALERT_RAISED.version)
  override version: typeof ALERT_RAISED.version = ALERT_RAISED.version;

  @Name()
  budgetKey!: string;

  @IsEnum(LimitKind)
  limitKind!: LimitKind;

  @Name(64)
  windowId!: string;

  /** The configured threshold that was crossed, in `unit`. */
  @Amount()
  threshold!: number;

  /** Spend in the window when the threshold was crossed, in `unit`. */
  @Amount()
  used!: number;

  /** The cap the threshold warns about; absent for unlimited tiers with cost tracking. */
  @IsOptional()
  @Amount()
  limit?: number;

  @IsEnum(BudgetUnit)
  unit!: BudgetUnit;

  @IsOptional()
  @Name()
  tier?: string;

  /** Human-readable summary for webhooks. */
  @IsString()
  @MaxLength(1024)
  message!: string;
}
