import type { JsonObject } from '@aigw/contracts/data-plane';

// A Messages client's context editing (`context_management`) for Anthropic's own API. Its
// thinking edits (`clear_thinking_*`) need thinking on, or Anthropic refuses the whole
// request; where the gateway sends the request without thinking (a JSON answer through the
// forced answer tool, which Anthropic takes only without it), they have nothing to clear.

function isThinkingEdit(edit: unknown): boolean {
  return (
    typeof edit === 'object' &&
    edit !== null &&
    typeof (edit as JsonObject).type === 'string' &&
    ((edit as JsonObject).type as string).startsWith('clear_thinking_')
  );
}

/**
 * The `context_management` to send beside the Messages body `body`: the client's as sent,
 * less its thinking edits when `body` does not think; undefined when none is left.
 */
export function claudeContextManagement(
  asked: JsonObject | undefined,
  body: JsonObject,
): JsonObject | undefined {
  if (!asked) return undefined;
  const edits = asked.edits;
  if (body.thinking !== undefined || !Array.isArray(edits) || !edits.some(isThinkingEdit)) {
    return { ...asked };
  }
  const kept = edits.filter((edit) => !isThinkingEdit(edit));
  return kept.length > 0 ? { ...asked, edits: kept } : undefined;
}
