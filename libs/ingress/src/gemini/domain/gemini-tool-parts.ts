import { isGeminiPolicyStop, type JsonObject } from '@aigw/contracts/data-plane';

// What Gemini's built-in tools added to an answer, as a Gemini or Vertex Gemini backend's
// adapter carries it in the canonical answer (`extra_content.google` of a message or a
// delta; the providers' gemini-tool-answers): the code the model ran and its result, each
// where it stood in the text; the candidate's groundingMetadata and urlContextMetadata;
// the tool-use prompt tokens. They go back to the client as Gemini sent them.

/** The parts relayed: only a built-in tool's, whatever else an answer's extras hold. */
const TOOL_PART_FIELDS = ['executableCode', 'codeExecutionResult'];

/** Candidate metadata, by the canonical name and Gemini's. */
const METADATA_FIELDS = [
  ['grounding_metadata', 'groundingMetadata'],
  ['url_context_metadata', 'urlContextMetadata'],
] as const;

interface ToolPart {
  readonly at: number;
  readonly part: JsonObject;
}

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The `extra_content.google` of a message, delta or usage body, if it has one. */
function googleExtras(holder: unknown): JsonObject | undefined {
  if (!isObject(holder) || !isObject(holder.extra_content)) return undefined;
  const google = holder.extra_content.google;
  return isObject(google) ? google : undefined;
}

function toolPartsOf(google: JsonObject | undefined): ToolPart[] {
  const list = google?.tool_parts;
  if (!Array.isArray(list)) return [];
  return list.flatMap((entry: unknown) => {
    if (!isObject(entry) || !isObject(entry.part)) return [];
    const { at, part } = entry;
    const known = Object.keys(part).some((key) => TOOL_PART_FIELDS.includes(key));
    return known && typeof at === 'number' && Number.isFinite(at) ? [{ at, part }] : [];
  });
}

/**
 * A message's (or delta's) text as Gemini parts, with its built-in tools' parts back
 * where they stood: text, executableCode, codeExecutionResult, text. An empty text makes
 * no part.
 */
export function textAndToolParts(text: string, holder: unknown): JsonObject[] {
  const toolParts = toolPartsOf(googleExtras(holder));
  if (toolParts.length === 0) return text === '' ? [] : [{ text }];
  const parts: JsonObject[] = [];
  let from = 0;
  for (const { at, part } of toolParts) {
    const to = Math.min(Math.max(at, from), text.length);
    if (to > from) parts.push({ text: text.slice(from, to) });
    parts.push(part);
    from = to;
  }
  if (from < text.length) parts.push({ text: text.slice(from) });
  return parts;
}

/** A candidate's groundingMetadata and urlContextMetadata, as Gemini sent them (none: {}). */
export function candidateMetadata(holder: unknown): JsonObject {
  const google = googleExtras(holder);
  const metadata: JsonObject = {};
  for (const [name, field] of METADATA_FIELDS) {
    if (isObject(google?.[name])) metadata[field] = google[name];
  }
  return metadata;
}

/** The tool-use prompt tokens a usage body, message or delta reports (0 without). */
export function toolUseTokensOf(holder: unknown): number {
  const tokens = googleExtras(holder)?.tool_use_prompt_token_count;
  return typeof tokens === 'number' && Number.isSafeInteger(tokens) && tokens > 0 ? tokens : 0;
}

/**
 * The policy stop a Gemini backend named for a filtered answer (`extra_content.google.
 * finish_reason` of its message or finishing delta), if it is one of Gemini's: anything else
 * a backend put there is not relayed.
 */
export function policyStopOf(holder: unknown): string | undefined {
  const reason = googleExtras(holder)?.finish_reason;
  return isGeminiPolicyStop(reason) ? reason : undefined;
}
