import type { RouteConfig } from '@aigw/config';
import { DataPlaneError, DataPlaneErrorCode } from '@aigw/contracts/data-plane';
import { bindLimit, modelLimits } from './domain/budget-limits';
import { rateLimitHeaders } from './domain/rate-limit-headers';
import type { ExhaustionView } from './exhaustion-view';

/**
 * The router's check of `tokenRateLimit.perModel` before it calls a backend: answered
 * from the local exhaustion view, so it costs no network call.
 */
export function modelBudgetGate(view: ExhaustionView, now: () => number = Date.now) {
  return (route: RouteConfig, model: string): void => {
    const at = now();
    for (const limit of modelLimits(route, model)) {
      const bound = bindLimit(limit, at);
      const resetAt = view.exhaustedUntil(bound.subject, bound.kind, bound.windowRef.id, at);
      if (resetAt !== undefined) {
        throw new DataPlaneError(
          DataPlaneErrorCode.BudgetExceeded,
          `The model "${model}" has used its token budget for this minute`,
          {
            retryAfterMs: resetAt - at,
            // The same headers as any budget refusal: this limit, nothing left, when it opens.
            headers: rateLimitHeaders(bound.limit, 0, resetAt - at),
          },
        );
      }
    }
  };
}
