import type { JsonObject } from '@aigw/contracts/data-plane';

/**
 * Whether a chat answer or stream chunk says its backend ended it for the backend's own
 * content policy (finish_reason `content_filter`: a Bedrock guardrail's
 * `guardrail_intervened` or `content_filtered`, a Gemini safety stop, Azure OpenAI's
 * filter). Such an answer is finished and billed like any other, so only a count shows an
 * operator a guardrail blocking a backend's answers.
 */
export function stoppedForPolicy(body: JsonObject): boolean {
  const choices = body.choices;
  if (!Array.isArray(choices)) return false;
  for (const choice of choices) {
    if (typeof choice === 'object' && choice !== null && 'finish_reason' in choice) {
      if ((choice as JsonObject).finish_reason === 'content_filter') return true;
    }
  }
  return false;
}
