import type { LimitKind } from '@aigw/contracts';
import { DataPlaneError, DataPlaneErrorCode } from '@aigw/contracts/data-plane';
import type { BoundLimit } from './budget-limits';
import { rateLimitHeaders } from './rate-limit-headers';

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
 * The 429 for a limit with `remaining` left until `resetAt`, whoever refuses (admission at
 * the edge, the router's per-model gate): Retry-After, and OpenAI's token headers.
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
    // x-ratelimit-*-tokens count tokens (OpenAI's definition); a dollar cap has no such
    // header, so it answers with Retry-After alone.
    headers:
      limit.unit === 'dollars'
        ? undefined
        : rateLimitHeaders(limit.limit, remaining, resetAt - now),
  });
}

function defaultMessage(limit: BoundLimit, resetAt: number): string {
  const unit = limit.unit === 'dollars' ? 'dollars' : 'tokens';
  return `Budget exceeded: ${limit.kind} allows ${limit.limit} ${unit} per window; try again after ${new Date(resetAt).toISOString()}`;
}
