import {
  dollarsAt,
  routeOfBackend,
  servedModelPrice,
  serviceTierPriced,
  weightedTokens,
  type GatewayConfig,
} from '@aigw/config';
import type { ProviderCall, ServedBy, TokenUsage } from '@aigw/contracts/data-plane';
import type { MetricsRegistry } from '@aigw/observability';

/** A call's usage priced: budget-weighted tokens and dollars. */
type PriceUsage = (
  call: ProviderCall,
  servedBy: ServedBy,
  usage: TokenUsage,
) => { weightedTokens: number; dollars: number };

/**
 * Prices a call's usage from the route that served it, found by route and backend name
 * (budget weights and dollars, the model's `modelPricing` entry, else the built-in
 * catalog's price for its provider; for a model with neither, the model the provider
 * answered as: `servedModelPrice`), and counts the calls whose model has no price at all
 * in `ai_gateway_unpriced_calls_total`, and those served at a service tier their price has no
 * factor for in `ai_gateway_unpriced_service_tier_calls_total`. `forCall` holds the config in force as a call
 * starts, so its usage (a stream's, known at its end) is priced by it even after a reload
 * removed or repriced its route: a removed route would price it at nothing.
 */
export function configUsagePricing(
  config: () => GatewayConfig,
  metrics: Pick<MetricsRegistry, 'recordUnpricedCall' | 'recordUnpricedServiceTier'>,
): PriceUsage & { readonly forCall: (call: ProviderCall) => PriceUsage } {
  const pricedIn =
    (pinned: GatewayConfig | undefined): PriceUsage =>
    (_call, servedBy, usage) => {
      const route = routeOfBackend((pinned ?? config()).routes, servedBy.backend, servedBy.route);
      const price = route ? servedModelPrice(route, servedBy, usage) : undefined;
      if (!price) metrics.recordUnpricedCall(servedBy.model);
      else if (!serviceTierPriced(price, usage.serviceTier)) {
        // Billed at the standard rates: below what a priority call costs.
        metrics.recordUnpricedServiceTier(servedBy.model, usage.serviceTier ?? '');
      }
      return {
        weightedTokens: route
          ? weightedTokens(route, servedBy.model, usage)
          : usage.inputTokens + usage.outputTokens,
        dollars: price ? dollarsAt(price, usage) : 0,
      };
    };
  // One priced-in function per config object, not per call: calls starting under the same
  // config share it, and a reload makes the next one.
  let pinned: { readonly config: GatewayConfig; readonly price: PriceUsage } | undefined;
  const forCall = (): PriceUsage => {
    const current = config();
    if (pinned?.config !== current) pinned = { config: current, price: pricedIn(current) };
    return pinned.price;
  };
  return Object.assign(pricedIn(undefined), { forCall });
}
