import { Logger } from '@nestjs/common';
import type { JsonObject, ServedBy } from '@aigw/contracts/data-plane';

// A Gemini client's own settings (topK, safetySettings, an embedding's taskType and title)
// ride in the canonical request's `provider_extras`; only some backends apply them, and
// clients send them routinely, so a backend without them answers anyway. Which ones the
// backend that answered left unapplied is logged (debug), so an operator can tell.

const logger = new Logger('GeminiEdge');

/** Google's names of the provider_extras fields, as the client sent them. */
const GOOGLE_NAMES: Readonly<Record<string, string>> = {
  top_k: 'topK',
  safety_settings: 'safetySettings',
  task_type: 'taskType',
  title: 'title',
};

/** Whether a provider and model take a Gemini request's own fields (Gemini on either API). */
function speaksGemini(servedBy: ServedBy): boolean {
  if (servedBy.provider === 'google-gemini') return true;
  return servedBy.provider === 'vertex' && !/claude/i.test(servedBy.model);
}

/** Whether the backend is Claude, which takes top_k (not with thinking on). */
function isClaude(servedBy: ServedBy): boolean {
  switch (servedBy.provider) {
    case 'anthropic':
      return true;
    case 'vertex':
    case 'bedrock':
      return /claude|anthropic\./i.test(servedBy.model);
    default:
      return false;
  }
}

/** The settings asked for (Google's names) that the backend which answered does not apply. */
export function unappliedSettings(extras: unknown, servedBy: ServedBy): string[] {
  if (typeof extras !== 'object' || extras === null || speaksGemini(servedBy)) return [];
  return Object.keys(extras as JsonObject)
    .filter((field) => !(field === 'top_k' && isClaude(servedBy)))
    .map((field) => GOOGLE_NAMES[field] ?? field);
}

/** Logs (debug) the settings a JSON answer's backend left unapplied; names only, never values. */
export function reportUnapplied(extras: unknown, servedBy: ServedBy): void {
  if (extras === undefined) return;
  const unapplied = unappliedSettings(extras, servedBy);
  if (unapplied.length === 0) return;
  logger.debug(
    `Gemini settings not applied by backend "${servedBy.backend}" (${servedBy.provider}): ${unapplied.join(', ')}`,
  );
}
