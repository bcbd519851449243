import type { RouteConfig } from '@aigw/config';
import { bindLimit, modelLimits } from './domain/budget-limits';
import { budgetRefusal, unitName } from './domain/budget-refusal';
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
      const resetAt = view.exhaustedUntil(
        bound.subject,
        bound.kind,
        bound.windowRef.id,
        at,
        bound.limit,
      );
      if (resetAt !== undefined) {
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
  };
}
