import type { RequestSetting } from '@aigw/contracts/data-plane';
import { OPENAI_SETTINGS, type SettingsTaken } from '../core/settings-left-out';

// Where a provider of the OpenAI-compatible family defines fewer of OpenAI's chat fields
// than OpenAI, by provider, from each one's API reference. Self-hosted kinds (vllm, kserve,
// openai-compatible) are taken to follow OpenAI's.

/**
 * Chat APIs that define `max_tokens` and not OpenAI's newer `max_completion_tokens`: Mistral
 * refuses the unknown name (422); DeepSeek and Together do not cap an answer by it, while
 * the budget hold assumed the cap. Groq and vLLM define both.
 */
const MAX_TOKENS_ONLY: ReadonlySet<string> = new Set(['mistral', 'deepseek', 'together']);

/** Chat APIs that define no `service_tier` (Mistral refuses it, 422). OpenAI and Groq define it. */
const NO_SERVICE_TIER: ReadonlySet<string> = new Set(['mistral', 'deepseek', 'together']);

export function takesMaxTokensOnly(provider: string): boolean {
  return MAX_TOKENS_ONLY.has(provider);
}

export function definesServiceTier(provider: string): boolean {
  return !NO_SERVICE_TIER.has(provider);
}

const OPENAI_SETTINGS_WITHOUT_TIER: ReadonlySet<RequestSetting> = new Set(
  [...OPENAI_SETTINGS].filter((setting) => setting !== 'service_tier'),
);

/** The settings a call of this family takes: OpenAI's, less a tier its provider lacks. */
export const openAiCompatibleSettings: SettingsTaken = (call) =>
  definesServiceTier(call.target.provider) ? OPENAI_SETTINGS : OPENAI_SETTINGS_WITHOUT_TIER;
