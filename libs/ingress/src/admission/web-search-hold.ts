import {
  anthropicServerToolObjects,
  anthropicServerToolOf,
  geminiToolsAsked,
  type GatewayRequest,
} from '@aigw/contracts/data-plane';
import type { TokenCounts } from '@aigw/config';

/** Gemini's built-in tools that ground the answer with Google Search, billed beside tokens. */
const GOOGLE_SEARCH_TOOLS: ReadonlySet<string> = new Set(['googleSearch', 'googleSearchRetrieval']);

/**
 * The web searches a request may be billed for, held at the model's per-search price
 * (`webSearchPer1k`, else Anthropic's $10 per 1,000) beside its tokens:
 *
 * - Anthropic's web_search tools: the searches their `max_uses` allows, added up (a
 *   request letting Claude search 20 times may cost $0.20). A tool without `max_uses` has
 *   no bound, and adds nothing: its searches are charged when the call settles.
 * - Gemini's Google Search grounding: one search. Gemini 2.x bills the grounded prompt
 *   once however many queries it ran (`groundedPromptPer1k`: $35 per 1,000), so that is
 *   its whole fee; Gemini 3 bills each query ($14 per 1,000) and no request field bounds
 *   how many the model runs, so one is held and any more are charged at settlement.
 */
export function webSearchHold(
  body: GatewayRequest['body'],
): Pick<TokenCounts, 'serverToolRequests'> {
  const searches = anthropicSearchesAllowed(body) + googleSearchesHeld(body);
  return searches > 0 ? { serverToolRequests: { web_search: searches } } : {};
}

function anthropicSearchesAllowed(body: GatewayRequest['body']): number {
  let searches = 0;
  for (const { type, max_uses: maxUses } of anthropicServerToolObjects(body)) {
    if (anthropicServerToolOf(type) !== 'web_search') continue;
    if (typeof maxUses === 'number' && Number.isInteger(maxUses) && maxUses > 0) {
      searches += maxUses;
    }
  }
  return searches;
}

function googleSearchesHeld(body: GatewayRequest['body']): number {
  return geminiToolsAsked(body).some((tool) => GOOGLE_SEARCH_TOOLS.has(tool)) ? 1 : 0;
}
