import type { JsonObject } from '@aigw/contracts/data-plane';
import { isJsonObject } from '../core/json-shape';
import type { ChatPrompt } from '../core/chat-request';

// Log probabilities on Gemini and Vertex Gemini: OpenAI's `logprobs` and `top_logprobs`
// are generationConfig's `responseLogprobs` and `logprobs`, and a candidate's
// `logprobsResult` (the chosen token at each step, and that step's top candidates) is the
// choice's `logprobs.content`, in a JSON answer and in each streamed event alike.

/** generationConfig's fields for the log probabilities asked for ({} for none). */
export function logprobsConfig(logprobs: ChatPrompt['logprobs']): JsonObject {
  if (!logprobs) return {};
  return logprobs.top > 0
    ? { responseLogprobs: true, logprobs: logprobs.top }
    : { responseLogprobs: true };
}

/**
 * A Gemini candidate ({token, logProbability}) as OpenAI's entry. proto3's JSON leaves a
 * zero out, so a token without logProbability is certain (0), not malformed.
 */
function tokenEntry(candidate: unknown): JsonObject | undefined {
  if (!isJsonObject(candidate) || typeof candidate.token !== 'string') return undefined;
  const logprob = candidate.logProbability ?? 0;
  if (typeof logprob !== 'number' || !Number.isFinite(logprob)) return undefined;
  const { token } = candidate;
  return { token, logprob, bytes: [...Buffer.from(token, 'utf8')] };
}

/** The top candidates of one step, as OpenAI's top_logprobs. */
function alternatives(step: unknown): JsonObject[] {
  if (!isJsonObject(step) || !Array.isArray(step.candidates)) return [];
  return (step.candidates as unknown[]).flatMap((candidate) => {
    const entry = tokenEntry(candidate);
    return entry ? [entry] : [];
  });
}

/** A candidate's logprobsResult as OpenAI's choice logprobs; undefined without one. */
export function choiceLogprobs(candidate: JsonObject | undefined): JsonObject | undefined {
  const result = candidate?.logprobsResult;
  if (!isJsonObject(result) || !Array.isArray(result.chosenCandidates)) return undefined;
  const top = Array.isArray(result.topCandidates) ? (result.topCandidates as unknown[]) : [];
  const content = (result.chosenCandidates as unknown[]).flatMap((chosen, step) => {
    const entry = tokenEntry(chosen);
    return entry ? [{ ...entry, top_logprobs: alternatives(top[step]) }] : [];
  });
  return content.length === 0 ? undefined : { content, refusal: null };
}
