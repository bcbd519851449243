import { configureBuiltinPrices, type PriceLog } from '@aigw/config';
import { StartupError } from './listen';
import type { Env } from './service-settings';

/**
 * AI_GATEWAY_BUILTIN_PRICES: whether a model no route prices gets the built-in catalog's
 * list price (default) or costs $0. Anything but true or false stops the start.
 */
export function builtinPricesEnabled(env: Env): boolean {
  const raw = env.AI_GATEWAY_BUILTIN_PRICES?.trim().toLowerCase();
  if (raw === undefined || raw === '' || raw === 'true') return true;
  if (raw === 'false') return false;
  throw new StartupError(
    `AI_GATEWAY_BUILTIN_PRICES must be "true" or "false", got "${env.AI_GATEWAY_BUILTIN_PRICES}"`,
  );
}

/** Sets up this process's price catalog from the environment, logging what it prices. */
export function configurePricesFromEnv(env: Env, log: PriceLog): void {
  configureBuiltinPrices({ enabled: builtinPricesEnabled(env), log });
}
