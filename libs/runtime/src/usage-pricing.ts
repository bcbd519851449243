import {
  dollarsAt,
  modelPrice,
  routeOfBackend,
  weightedTokens,
  type GatewayConfig,
} from '@aigw/config';
import type { ProviderCall, ServedBy, TokenUsage } from '@aigw/contracts/data-plane';
import type { MetricsRegistry } from '@aigw/observability';

/**
 * Prices a call's usage from the route that served it, found by route and backend name
 * (budget weights and dollars, the model's `modelPricing` entry, else the built-in
 * catalog's price for its provider), and counts the calls whose model has no price at all
 * in `ai_gateway_unpriced_calls_total`.
 */
export function configUsagePricing(
  config: () => GatewayConfig,
  metrics: Pick<MetricsRegistry, 'recordUnpricedCall'>,
): (
  call: ProviderCall,
  servedBy: ServedBy,
  usage: TokenUsage,
) => { weightedTokens: number; dollars: number } {
  return (_call, servedBy, usage) => {
    const route = routeOfBackend(config().routes, servedBy.backend, servedBy.route);
    const price = route ? modelPrice(route, servedBy.model, servedBy.provider) : undefined;
    if (!price) metrics.recordUnpricedCall(servedBy.model);
    return {
      weightedTokens: route
        ? weightedTokens(route, servedBy.model, usage)
        : usage.inputTokens + usage.outputTokens,
      dollars: price ? dollarsAt(price, usage) : 0,
    };
  };
}
