/**
 * Most choices one request may ask for (`n`, a Gemini client's `candidateCount`): OpenAI's
 * own limit. Each choice is generated, held against the budget and written out, so an
 * unbounded count lets one small request ask a backend (or the built-in local model) for
 * an answer of any size.
 */
export const MAX_CHOICES = 128;

/** Most completions a legacy completion's `best_of` generates upstream: OpenAI's limit. */
export const MAX_BEST_OF = 20;
