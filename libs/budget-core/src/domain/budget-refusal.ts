import type { LimitKind } from '@aigw/contracts';
import { DataPlaneError, DataPlaneErrorCode } from '@aigw/contracts/data-plane';
import type { BoundLimit, LimitUnit } from './budget-limits';
import { dollarsShown } from './dollars-shown';
import { rateLimitHeaders, type RateLimitHeaderUnit } from './rate-limit-headers';

/** A budget refusal that knows which limit refused, for the `request.rejected` event. */
export class BudgetRefusal extends DataPlaneError {
  constructor(
    readonly limitKind: LimitKind,
    message: string,
    options: ConstructorParameters<typeof DataPlaneError>[2],
  ) {
    super(DataPlaneErrorCode.BudgetExceeded, message, options);
  }
}

/**
 * The router's gate turning a model away for one request alone: its limit is smaller than
 * that request may cost in a whole window (admission held a later model for it). It says
 * nothing of the backend, which has room for other calls: no cooldown, no failure counted.
 */
export class PassOverRefusal extends BudgetRefusal {}

/** The refusal of `model`, whose `limit` is too small for this request (`PassOverRefusal`). */
export function passOverRefusal(limit: BoundLimit, model: string, now: number): PassOverRefusal {
  const resetAt = limit.windowRef.endsAt;
  return new PassOverRefusal(
    limit.kind,
    `The model "${model}" allows ${limit.limit} ${unitName(limit.unit)} of ${limit.kind} a minute, less than this request may cost`,
    {
      retryAfterMs: Math.max(0, resetAt - now),
      headers:
        limit.unit === 'dollars'
          ? undefined
          : rateLimitHeaders(limit.limit, 0, resetAt - now, headerUnitOf(limit.unit)),
    },
  );
}

/**
 * The 429 for a limit with `remaining` left until `resetAt`, whoever refuses (admission at
 * the edge, the router's per-model gate): Retry-After, and OpenAI's token or request headers.
 */
export function budgetRefusal(
  limit: BoundLimit,
  remaining: number,
  resetAt: number,
  now: number,
  message = defaultMessage(limit, resetAt),
): BudgetRefusal {
  return new BudgetRefusal(limit.kind, message, {
    retryAfterMs: Math.max(0, resetAt - now),
    // x-ratelimit-*-tokens count tokens and -requests calls (OpenAI's definitions); a
    // dollar cap has no such header, so it answers with Retry-After alone.
    headers: limitHeaders(limit, remaining, resetAt - now),
  });
}

/** OpenAI's headers of a token or request limit; a dollar cap has none. */
function limitHeaders(
  limit: BoundLimit,
  remaining: number,
  resetInMs: number,
): Record<string, string> | undefined {
  return limit.unit === 'dollars'
    ? undefined
    : rateLimitHeaders(limit.limit, remaining, resetInMs, headerUnitOf(limit.unit));
}

/**
 * How soon a caller refused by a limit that calls in flight hold full (not spent) is asked to
 * retry: the room comes back as those calls end, which may be any moment, not when the window
 * does. Short enough for the SDKs' own retries to wait it out.
 */
export const HELD_FULL_RETRY_AFTER_MS = 5_000;

/**
 * The 429 for a limit whose spend leaves room for the call but whose holds (calls in flight)
 * fill it: Retry-After in a few seconds (never past the window's end), where the window's end
 * would send a caller that has spent nothing away until tomorrow (and, past a minute, tell the
 * SDKs not to retry at all). The x-ratelimit-* headers still tell the limit's window.
 */
export function heldFullRefusal(limit: BoundLimit, remaining: number, now: number): BudgetRefusal {
  const resetAt = limit.windowRef.endsAt;
  const retryAfterMs = Math.max(0, Math.min(HELD_FULL_RETRY_AFTER_MS, resetAt - now));
  const retryAt = new Date(now + retryAfterMs).toISOString();
  return new BudgetRefusal(
    limit.kind,
    `Budget exceeded: ${limit.kind} allows ${limit.limit} ${unitName(limit.unit)} per window and calls in progress hold the rest; try again after ${retryAt}`,
    { retryAfterMs, headers: limitHeaders(limit, remaining, resetAt - now) },
  );
}

/**
 * The 429 for a limit of 0, which allows nothing (`maxDailyCostPerUser: 0` freezes spend):
 * refused from the config, with no store call and nothing held, even for a call that
 * would cost nothing. It names the limit and is told as a spent one (0 left until the
 * window ends).
 */
export function closedLimitRefusal(limit: BoundLimit, now: number): BudgetRefusal {
  return budgetRefusal(
    limit,
    0,
    limit.windowRef.endsAt,
    now,
    `Budget exceeded: ${limit.kind} is 0, so it allows no ${unitName(limit.unit)}`,
  );
}

/** The OpenAI header family a limit's unit belongs to (`dollars` has none). */
export function headerUnitOf(unit: LimitUnit): RateLimitHeaderUnit {
  return unit === 'requests' ? 'requests' : 'tokens';
}

/** A limit's unit as messages say it. */
export function unitName(unit: LimitUnit): 'dollars' | 'requests' | 'tokens' {
  return unit === 'dollars' || unit === 'requests' ? unit : 'tokens';
}

/**
 * An amount of a limit's unit as messages show it. Dollars are float sums of per-token
 * prices (2.4589499999999997): shown to the micro-dollar, rounded up so an amount said to
 * exceed a limit never reads as below it, at any magnitude (`dollarsShown`).
 */
export function amountShown(amount: number, unit: LimitUnit): string {
  return unitName(unit) === 'dollars' ? dollarsShown(amount) : String(amount);
}

function defaultMessage(limit: BoundLimit, resetAt: number): string {
  return `Budget exceeded: ${limit.kind} allows ${limit.limit} ${unitName(limit.unit)} per window; try again after ${new Date(resetAt).toISOString()}`;
}
