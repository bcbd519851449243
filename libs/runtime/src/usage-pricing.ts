import { routeOfBackend, usageCost, type GatewayConfig } from '@aigw/config';
import type { ProviderCall, ServedBy, TokenUsage } from '@aigw/contracts/data-plane';

/** Prices a call's usage from the route that served it (budget weights and dollars). */
export function configUsagePricing(
  config: () => GatewayConfig,
): (
  call: ProviderCall,
  servedBy: ServedBy,
  usage: TokenUsage,
) => { weightedTokens: number; dollars: number } {
  return (_call, servedBy, usage) => {
    const route = routeOfBackend(config().routes, servedBy.backend);
    const cost = route ? usageCost(route, servedBy.model, usage) : undefined;
    return {
      weightedTokens: cost?.weightedTokens ?? usage.inputTokens + usage.outputTokens,
      dollars: cost?.dollars ?? 0,
    };
  };
}
