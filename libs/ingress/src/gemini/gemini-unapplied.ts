import { Logger } from '@nestjs/common';
import type { DroppedSettingName, ServedBy } from '@aigw/contracts/data-plane';

// A Gemini client's settings (temperature, topK, safetySettings, an embedding's taskType
// and title...) reach backends that cannot apply them all, and clients send them
// routinely, so such a backend answers anyway. Which ones the backend that answered left
// out is what its adapter reported (`servedBy.droppedSettings`); they are logged (debug),
// by Google's names and never their values, so an operator can tell.

const logger = new Logger('GeminiEdge');

/** Google's names of the settings, as a Gemini client sent them. */
const GOOGLE_NAMES: Readonly<Record<DroppedSettingName, string>> = {
  temperature: 'temperature',
  top_p: 'topP',
  top_k: 'topK',
  seed: 'seed',
  presence_penalty: 'presencePenalty',
  frequency_penalty: 'frequencyPenalty',
  logit_bias: 'logitBias',
  safety_settings: 'safetySettings',
  task_type: 'taskType',
  title: 'title',
  // Not Gemini clients' fields: canonical ones' names, should one come to carry them.
  service_tier: 'serviceTier',
  parallel_tool_calls: 'parallelToolCalls',
  reasoning: 'thinkingConfig',
  // A Messages client's Claude features: a Gemini client never sends them.
  context_management: 'contextManagement',
  task_budget: 'taskBudget',
  strict: 'strict',
};

/** The settings (Google's names) the backend that answered reported left out. */
export function unappliedSettings(servedBy: ServedBy): string[] {
  return (servedBy.droppedSettings ?? []).map(({ setting }) => GOOGLE_NAMES[setting]);
}

/** Logs (debug) the settings an answer's backend left out; names only, never values. */
export function reportUnapplied(servedBy: ServedBy): void {
  const unapplied = unappliedSettings(servedBy);
  if (unapplied.length === 0) return;
  logger.debug(
    `Gemini settings not applied by backend "${servedBy.backend}" (${servedBy.provider}): ${unapplied.join(', ')}`,
  );
}
