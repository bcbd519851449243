import type { JsonObject, TokenUsage } from '@aigw/contracts/data-plane';
import { isJsonObject } from '../core/json-shape';

// Grounding with Google Search is billed beside the tokens: Gemini 3 by the search query,
// Gemini 2.x by the grounded prompt (google-search-prices.ts). A candidate's
// `groundingMetadata.webSearchQueries` lists the queries the model ran; the usage counts
// them as web searches (`serverToolRequests.web_search`), as Anthropic's are, so the cost,
// the server-tool metric and the usage rows all see them.

/** The Google Search queries one candidate ran (its `groundingMetadata.webSearchQueries`). */
export function candidateSearchQueries(candidate: unknown): number {
  if (!isJsonObject(candidate)) return 0;
  const grounding = candidate.groundingMetadata;
  if (!isJsonObject(grounding) || !Array.isArray(grounding.webSearchQueries)) return 0;
  return grounding.webSearchQueries.filter((query) => typeof query === 'string').length;
}

/** The Google Search queries an answer's candidates ran, added up. */
export function answerSearchQueries(body: JsonObject): number {
  const candidates = body.candidates;
  if (!Array.isArray(candidates)) return 0;
  let queries = 0;
  for (const candidate of candidates) queries += candidateSearchQueries(candidate);
  return queries;
}

/** `usage` with the web searches counted, when any ran. */
export function withSearchQueries(usage: TokenUsage, queries: number): TokenUsage {
  if (!(queries > 0)) return usage;
  return {
    ...usage,
    serverToolRequests: { ...usage.serverToolRequests, web_search: queries },
  };
}

/**
 * A stream's queries so far, per candidate index: a candidate's grounding metadata may
 * come again in a later event (cumulative, as the usage is), so the most each reported.
 */
export class StreamSearchQueries {
  private readonly byCandidate = new Map<number, number>();

  read(event: JsonObject): void {
    const candidates = event.candidates;
    if (!Array.isArray(candidates)) return;
    for (const candidate of candidates) {
      const queries = candidateSearchQueries(candidate);
      if (queries === 0) continue;
      const index =
        isJsonObject(candidate) && typeof candidate.index === 'number' ? candidate.index : 0;
      this.byCandidate.set(index, Math.max(this.byCandidate.get(index) ?? 0, queries));
    }
  }

  total(): number {
    let queries = 0;
    for (const count of this.byCandidate.values()) queries += count;
    return queries;
  }
}
