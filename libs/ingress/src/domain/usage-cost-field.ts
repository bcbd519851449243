import type { JsonObject } from '@aigw/contracts/data-plane';

/**
 * A copy of an OpenAI-format answer or stream chunk whose `usage` also says what the call
 * cost, in US dollars (`usage.cost`, the field OpenRouter's answers carry and clients that
 * track spend read). The cost header says the same, but SDKs hide headers and a stream's
 * cost is known only after its headers went out. Unchanged when it has no usage object.
 * A copy: the answer may be shared (a cache entry, deduplicated callers).
 */
export function withUsageCost<T>(answer: T, dollars: number): T {
  if (typeof answer !== 'object' || answer === null) return answer;
  const usage = (answer as JsonObject).usage;
  if (typeof usage !== 'object' || usage === null || Array.isArray(usage)) return answer;
  return { ...answer, usage: { ...usage, cost: roundedDollars(dollars) } };
}

/**
 * The usage-only chunk a stream ends with when the client asked for usage
 * (`stream_options.include_usage`): no choices, only usage. Always the last chunk, so
 * holding it back until the stream's usage has settled reorders nothing.
 */
export function isUsageOnlyChunk(chunk: JsonObject): boolean {
  const { usage, choices } = chunk;
  return (
    typeof usage === 'object' && usage !== null && Array.isArray(choices) && choices.length === 0
  );
}

// To a tenth of a micro-dollar, as the cost header: no float noise (0.000005999999999999999).
function roundedDollars(dollars: number): number {
  return Math.round(dollars * 1e7) / 1e7;
}
