import {
  IsIn,
  IsNumber,
  IsPositive,
  IsString,
  Matches,
  MaxLength,
  MinLength,
  ValidateIf,
} from 'class-validator';
import {
  BudgetAdjustmentAction,
  LimitKind,
  MAX_ADJUSTMENT_REASON_LENGTH,
  MAX_NAME_LENGTH,
  MAX_OPERATOR_LENGTH,
  OPERATOR_PATTERN,
  STRICT_VALIDATION,
  USER_LIMIT_KINDS,
  validatePlain,
  type ValidationIssue,
} from '@aigw/contracts';

const OPERATOR_MESSAGE = `operator must be 1 to ${MAX_OPERATOR_LENGTH} printable characters`;

/** Absent may be left out; `null` is a value, and refused (IsOptional would let it by). */
const Optional = (): PropertyDecorator => ValidateIf((_, value) => value !== undefined);

/** The JSON body of `POST /admin/budgets/{userKey}/reset` and `.../credit`. */
export class BudgetAdjustmentBody {
  /** One limit kind; absent: every limit of the user (reset only). */
  @Optional()
  @IsIn(USER_LIMIT_KINDS, { message: `limit must be one of ${USER_LIMIT_KINDS.join(', ')}` })
  limit?: LimitKind;

  /** A credit's amount, in the limit's unit (tokens; dollars for cost limits; requests for request limits). */
  @Optional()
  @IsNumber(
    { allowNaN: false, allowInfinity: false },
    { message: 'amount must be a finite number' },
  )
  @IsPositive({ message: 'amount must be greater than 0' })
  amount?: number;

  @Optional()
  @IsString({ message: 'reason must be a string' })
  @MaxLength(MAX_ADJUSTMENT_REASON_LENGTH, {
    message: `reason must be at most ${MAX_ADJUSTMENT_REASON_LENGTH} characters`,
  })
  reason?: string;

  /**
   * Who is making it (a login or handle), kept on the event, logged and listed by the
   * analytics API. Said by the caller: the admin port trusts whoever reaches it.
   */
  @Optional()
  @IsString({ message: OPERATOR_MESSAGE })
  @MinLength(1, { message: OPERATOR_MESSAGE })
  @MaxLength(MAX_OPERATOR_LENGTH, { message: OPERATOR_MESSAGE })
  @Matches(OPERATOR_PATTERN, { message: OPERATOR_MESSAGE })
  operator?: string;
}

/** A valid adjustment request, ready to become a `budget.adjusted` event. */
export interface BudgetAdjustmentRequest {
  readonly userKey: string;
  readonly action: BudgetAdjustmentAction;
  readonly limitKind?: LimitKind;
  readonly amount?: number;
  readonly reason?: string;
  readonly operator?: string;
}

export type ParsedAdjustment =
  | { readonly ok: true; readonly value: BudgetAdjustmentRequest }
  | { readonly ok: false; readonly issues: readonly ValidationIssue[] };

// A user key as events carry it: printable, 1 to MAX_NAME_LENGTH characters.
const PRINTABLE = /^[^\u0000-\u001f\u007f]+$/;

/** Checks an adjustment request: every problem, each named by its field. */
export function parseBudgetAdjustment(
  userKey: string,
  action: BudgetAdjustmentAction,
  body: unknown,
): ParsedAdjustment {
  const issues: ValidationIssue[] = [];
  if (userKey.length > MAX_NAME_LENGTH || !PRINTABLE.test(userKey)) {
    issues.push({
      path: 'userKey',
      message: `userKey must be 1 to ${MAX_NAME_LENGTH} printable characters`,
    });
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    return {
      ok: false,
      issues: [...issues, { path: '', message: 'the body must be a JSON object' }],
    };
  }
  // What the action needs, by which fields were given at all: said beside the fields' own problems.
  const given = body as Record<string, unknown>;
  if (action === BudgetAdjustmentAction.Credit) {
    if (given.amount === undefined) {
      issues.push({ path: 'amount', message: "a credit needs an amount, in the limit's unit" });
    }
    if (given.limit === undefined) {
      issues.push({
        path: 'limit',
        message:
          "a credit needs a limit: its amount is in that limit's unit (tokens, dollars or requests)",
      });
    }
    // A request limit counts whole calls.
    if (
      given.limit === LimitKind.UserRequestsPerMinute &&
      typeof given.amount === 'number' &&
      !Number.isInteger(given.amount)
    ) {
      issues.push({
        path: 'amount',
        message: `a credit of ${given.limit} is a whole number of requests`,
      });
    }
  } else if (given.amount !== undefined) {
    issues.push({
      path: 'amount',
      message: 'a reset takes no amount (it gives back all the spend)',
    });
  }
  const validated = validatePlain(BudgetAdjustmentBody, { ...body }, STRICT_VALIDATION);
  if (!validated.ok) issues.push(...validated.error);
  if (!validated.ok || issues.length > 0) return { ok: false, issues };
  const { limit, amount, reason, operator } = validated.value;
  return {
    ok: true,
    value: {
      userKey,
      action,
      ...(limit === undefined ? {} : { limitKind: limit }),
      ...(amount === undefined ? {} : { amount }),
      ...(reason ? { reason } : {}),
      ...(operator === undefined ? {} : { operator }),
    },
  };
}
