// Gemini's finish reasons for an answer withheld by policy besides SAFETY (recitation,
// blocklists, PII, unsupported language, their image twins, and Vertex's Model Armor).
// OpenAI's one `content_filter` stands for all of them, so a Gemini adapter carries the
// name it got to the Gemini edge, which gives it back to a Gemini client: both read this
// one list, so a name the adapter carries is one the edge takes.

export const GEMINI_POLICY_STOPS: ReadonlySet<string> = new Set([
  'RECITATION',
  'LANGUAGE',
  'BLOCKLIST',
  'PROHIBITED_CONTENT',
  'SPII',
  'IMAGE_SAFETY',
  'IMAGE_PROHIBITED_CONTENT',
  'IMAGE_RECITATION',
  // Vertex AI only: the project's Model Armor screening blocked the answer.
  'MODEL_ARMOR',
]);

/** Whether `reason` is one of Gemini's policy stops other than SAFETY. */
export function isGeminiPolicyStop(reason: unknown): reason is string {
  return typeof reason === 'string' && GEMINI_POLICY_STOPS.has(reason);
}
