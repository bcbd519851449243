import type { TokenCounts } from '@aigw/budget-core';
import {
  estimatePromptTokensUpperBound,
  rerankDocumentTexts,
  rerankSearchUnits,
  type GatewayRequest,
} from '@aigw/contracts/data-plane';

/**
 * What a moderation or rerank may cost at most: nothing generated, so input alone. A
 * moderation's text; a rerank's query with each document (the model reads them in pairs)
 * and the search units they may make, for per-search prices.
 */
export function scoringHoldCounts(request: GatewayRequest): TokenCounts {
  const { body } = request;
  if (request.operation !== 'rerank') {
    return { inputTokens: estimatePromptTokensUpperBound(body), outputTokens: 0 };
  }
  const bound = (text: string) => estimatePromptTokensUpperBound({ prompt: text });
  const query = bound(typeof body.query === 'string' ? body.query : '');
  const documents = (rerankDocumentTexts(body.documents) ?? []).map(bound);
  return {
    inputTokens: documents.reduce((sum, tokens) => sum + tokens + query, 0),
    outputTokens: 0,
    searches: rerankSearchUnits(documents, query),
  };
}
