import type { JsonObject } from '@aigw/contracts/data-plane';
import { isJsonObject } from '../core/json-shape';
import { reportedTokens } from '../core/usage';

// What Gemini's built-in tools (googleSearch, codeExecution, urlContext) add to an answer,
// carried in the canonical answer the way Google's OpenAI-compatible endpoint carries its
// own fields (`extra_content.google`), so that the Gemini edge returns them unchanged:
// - the code the model ran and its result (executableCode and codeExecutionResult parts),
//   each with `at`, the length of the answer's text before it, so the edge puts it back
//   between the text parts where Gemini had it (the text itself is the message's content);
// - a candidate's groundingMetadata and urlContextMetadata, as they came;
// - usageMetadata.toolUsePromptTokenCount, part of the input tokens already billed.

/** Parts only a built-in tool makes. */
const TOOL_PARTS = ['executableCode', 'codeExecutionResult'] as const;

/** A candidate's fields the built-in tools fill in, and their canonical names. */
const CANDIDATE_METADATA = [
  ['groundingMetadata', 'grounding_metadata'],
  ['urlContextMetadata', 'url_context_metadata'],
] as const;

/** A part of a built-in tool, and where in the answer's text it stood. */
export interface ToolPart {
  readonly at: number;
  readonly part: JsonObject;
}

/** Whether a candidate's part is a built-in tool's (code the model ran, or its result). */
export function isToolPart(part: JsonObject): boolean {
  return TOOL_PARTS.some((field) => isJsonObject(part[field]));
}

/**
 * The `extra_content` of a candidate's message (or delta): its tool parts and metadata,
 * undefined when it has none (every answer without built-in tools). It runs on every
 * stream event, so it allocates nothing then.
 */
export function toolAnswerExtras(
  candidate: JsonObject | undefined,
  toolParts: readonly ToolPart[],
): JsonObject | undefined {
  let google: JsonObject | undefined;
  if (toolParts.length > 0)
    google = { tool_parts: toolParts.map(({ at, part }) => ({ at, part })) };
  for (const [field, name] of CANDIDATE_METADATA) {
    const value = candidate?.[field];
    if (isJsonObject(value)) (google ??= {})[name] = value;
  }
  return google === undefined ? undefined : { google };
}

/** The tool-use prompt tokens a usageMetadata reports (0 without). */
export function toolUsePromptTokens(metadata: unknown): number {
  return isJsonObject(metadata) ? reportedTokens(metadata.toolUsePromptTokenCount) : 0;
}

/** Adds `extras` to a message or delta (merged with any `extra_content` it has). */
export function withToolAnswerExtras(target: JsonObject, extras: JsonObject | undefined): void {
  if (!extras) return;
  const existing = isJsonObject(target.extra_content) ? target.extra_content : {};
  const google = isJsonObject(existing.google) ? existing.google : {};
  target.extra_content = {
    ...existing,
    google: { ...google, ...(extras.google as JsonObject) },
  };
}

/** Marks an OpenAI usage body with the tool-use prompt tokens counted in its prompt_tokens. */
export function withToolUseTokens(usage: JsonObject, tokens: number): JsonObject {
  return tokens > 0
    ? { ...usage, extra_content: { google: { tool_use_prompt_token_count: tokens } } }
    : usage;
}
