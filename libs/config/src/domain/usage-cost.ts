// What a call costs under a route's rules: `llmRequestCosts` weights and `modelCosts`
// multipliers give budget tokens; `costControl.modelPricing` gives dollars.
import { type ModelPricing, type RouteConfig } from './gateway-config';

export interface TokenCounts {
  readonly inputTokens: number;
  readonly outputTokens: number;
}

export interface UsageCost {
  /** Tokens as budgets count them. */
  readonly weightedTokens: number;
  /** US dollars; 0 when the model has no price. */
  readonly dollars: number;
}

/** Weighted budget tokens. With no `llmRequestCosts`, a token is a token. */
export function weightedTokens(route: RouteConfig, model: string, counts: TokenCounts): number {
  const costs = route.llmRequestCosts.length > 0 ? route.llmRequestCosts : undefined;
  let base = counts.inputTokens + counts.outputTokens;
  if (costs) {
    base = 0;
    for (const cost of costs) {
      switch (cost.type) {
        case 'InputToken':
          base += cost.weight * counts.inputTokens;
          break;
        case 'OutputToken':
          base += cost.weight * counts.outputTokens;
          break;
        case 'TotalToken':
          base += cost.weight * (counts.inputTokens + counts.outputTokens);
          break;
      }
    }
  }
  const multiplier = route.modelCosts.find((entry) => entry.model === model)?.multiplier ?? 1;
  return base * multiplier;
}

/** The route's `costControl.modelPricing` entry for a model, if it has one. */
export function modelPrice(route: RouteConfig, model: string): ModelPricing | undefined {
  // Own keys only: the model name comes from the client, and `constructor` would hit Object's.
  const pricing = route.costControl?.modelPricing;
  return pricing && Object.hasOwn(pricing, model) ? pricing[model] : undefined;
}

export function dollarCost(route: RouteConfig, model: string, counts: TokenCounts): number {
  const price = modelPrice(route, model);
  if (!price) return 0;
  return (
    (counts.inputTokens / 1000) * price.inputPer1k +
    (counts.outputTokens / 1000) * price.outputPer1k
  );
}

export function usageCost(route: RouteConfig, model: string, counts: TokenCounts): UsageCost {
  return {
    weightedTokens: weightedTokens(route, model, counts),
    dollars: dollarCost(route, model, counts),
  };
}

/** The route a backend belongs to, by name. */
export function routeOfBackend(
  routes: readonly RouteConfig[],
  backendName: string,
): RouteConfig | undefined {
  return routes.find((route) => route.backends.some((backend) => backend.name === backendName));
}
