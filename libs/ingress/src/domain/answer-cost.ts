import { dollarsAt, routeOfBackend, servedModelPrice, type GatewayConfig } from '@aigw/config';
import type { ServedBy, TokenUsage } from '@aigw/contracts/data-plane';

/** The response header that tells a client what its call cost, in US dollars. */
export const COST_HEADER = 'x-ai-gateway-cost-usd';

/**
 * What `usage` costs under the `costControl.modelPricing` of the route that served it, or
 * the built-in catalog's price for the backend's provider (the same price the call's
 * usage event records), or undefined when that model has no price: an unknown cost is not
 * a zero one.
 */
export function pricedDollars(
  config: GatewayConfig,
  servedBy: ServedBy,
  usage: TokenUsage,
): number | undefined {
  const route = routeOfBackend(config.routes, servedBy.backend, servedBy.route);
  const price = route && servedModelPrice(route, servedBy, usage);
  return price ? dollarsAt(price, usage) : undefined;
}

/** Dollars as plain decimal text (never exponent notation), to a tenth of a micro-dollar. */
export function dollarText(dollars: number): string {
  // Calls alike cost alike (one prompt, one model): the last text is kept, as toFixed was
  // still ~0.5 us an answer under load (profiled).
  if (Object.is(dollars, lastDollars)) return lastText;
  lastText = formatDollars(dollars);
  lastDollars = dollars;
  return lastText;
}

let lastDollars = NaN;
let lastText = 'NaN';

function formatDollars(dollars: number): string {
  const text = dollars.toFixed(7);
  if (!text.includes('.')) return text; // exponent notation (1e21 and up)
  // The trailing zeros, then a bare point, cut by hand: the regular expression that did it
  // was a third of this header's cost (bench/micro/policies.ts).
  let end = text.length;
  while (text.charCodeAt(end - 1) === ZERO) end--;
  if (text.charCodeAt(end - 1) === POINT) end--;
  return end === text.length ? text : text.slice(0, end);
}

const ZERO = 0x30;
const POINT = 0x2e;
