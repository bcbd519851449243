import type { JsonObject } from '@aigw/contracts/data-plane';
import { isObject } from '../../redaction/copy-on-write';

// Log probabilities for a Gemini client: its generationConfig's `responseLogprobs` and
// `logprobs` (how many top candidates at each step) are OpenAI's `logprobs` and
// `top_logprobs`; an answer's `choice.logprobs.content` comes back as the candidate's
// `logprobsResult` (the chosen token at each step, and the top candidates when asked)
// and `avgLogprobs`. A backend that cannot return them refuses the ask (a 400 naming
// `logprobs`) rather than answer without them.

/** One OpenAI token entry ({token, logprob}) as Gemini's candidate ({token, logProbability}). */
function tokenCandidate(entry: JsonObject): JsonObject | undefined {
  const { token, logprob } = entry;
  if (typeof token !== 'string' || typeof logprob !== 'number' || !Number.isFinite(logprob)) {
    return undefined;
  }
  return { token, logProbability: logprob };
}

/** The token entries of a choice's (or a chunk's) `logprobs.content`, well-formed only. */
function tokenEntries(logprobs: unknown): JsonObject[] {
  if (!isObject(logprobs) || !Array.isArray(logprobs.content)) return [];
  return (logprobs.content as unknown[]).filter(isObject);
}

/** What a choice's logprobs make of one candidate: the steps and their sum. */
export interface CandidateLogprobs {
  readonly logprobsResult: JsonObject;
  /** The chosen tokens' log probabilities, summed, and how many: for `avgLogprobs`. */
  readonly sum: number;
  readonly steps: number;
}

/**
 * A choice's `logprobs` as Gemini's LogprobsResult, or undefined when it has none (not
 * asked, or the answer was redacted and its log probabilities withheld).
 */
export function candidateLogprobs(logprobs: unknown): CandidateLogprobs | undefined {
  // Not asked (null on each chunk): no work on the answers that did not ask.
  if (logprobs === null || logprobs === undefined) return undefined;
  const chosen: JsonObject[] = [];
  const top: JsonObject[] = [];
  let sum = 0;
  let listsTop = false;
  for (const entry of tokenEntries(logprobs)) {
    const candidate = tokenCandidate(entry);
    if (!candidate) continue;
    chosen.push(candidate);
    sum += candidate.logProbability as number;
    const alternatives = Array.isArray(entry.top_logprobs)
      ? (entry.top_logprobs as unknown[]).filter(isObject).flatMap((alt) => {
          const made = tokenCandidate(alt);
          return made ? [made] : [];
        })
      : [];
    if (alternatives.length > 0) listsTop = true;
    top.push({ candidates: alternatives });
  }
  if (chosen.length === 0) return undefined;
  const logprobsResult: JsonObject = listsTop
    ? { topCandidates: top, chosenCandidates: chosen }
    : { chosenCandidates: chosen };
  return { logprobsResult, sum, steps: chosen.length };
}

/** A candidate's `logprobsResult` and `avgLogprobs` fields for a JSON answer ({} without). */
export function logprobsFields(logprobs: unknown): JsonObject {
  const made = candidateLogprobs(logprobs);
  return made ? { logprobsResult: made.logprobsResult, avgLogprobs: made.sum / made.steps } : {};
}
