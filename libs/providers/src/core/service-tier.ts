// A client's `service_tier`, kept in the canonical body in OpenAI's terms (auto, default,
// flex, scale, priority), as each provider that has tiers takes it. Only values that mean
// the same travel: OpenAI's `auto` (the account's configured tier) is Anthropic's `auto`
// (priority where the account has it, else standard), and `default` (standard pricing and
// performance) is Anthropic's `standard_only` and Bedrock's `default`. A value with no
// counterpart is left out and reported (settings-left-out), never sent as something else.

import { isJsonObject } from './json-shape';

/** Anthropic's request `service_tier` for a canonical one; undefined when it has none. */
export function anthropicServiceTier(tier: string): 'auto' | 'standard_only' | undefined {
  if (tier === 'auto') return 'auto';
  if (tier === 'default') return 'standard_only';
  return undefined;
}

/**
 * Converse's `serviceTier` for a canonical one: null where sending none is the same (auto:
 * Bedrock serves the account's standard tier), undefined when it has no counterpart.
 */
export function converseServiceTier(tier: string): { type: string } | null | undefined {
  if (tier === 'auto') return null;
  if (tier === 'default' || tier === 'flex' || tier === 'priority') return { type: tier };
  return undefined;
}

/** The tier an Anthropic answer was served at (usage.service_tier), in OpenAI's terms. */
export function servedTierOfAnthropic(tier: unknown): string | undefined {
  if (tier === 'standard') return 'default';
  if (tier === 'priority') return 'priority';
  return undefined;
}

/**
 * The tier a Converse answer was served at (its `serviceTier.type`), in OpenAI's terms:
 * Bedrock's default, priority and flex are OpenAI's; `reserved` has no OpenAI name.
 */
export function servedTierOfConverse(tier: unknown): string | undefined {
  const type = isJsonObject(tier) ? tier.type : undefined;
  if (type === 'default' || type === 'priority' || type === 'flex') return type;
  return undefined;
}
