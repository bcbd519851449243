import {
  ANTHROPIC_SERVER_TOOLS_EXTRA,
  anthropicServerToolOf,
  type GatewayRequest,
} from '@aigw/contracts/data-plane';
import type { TokenCounts } from '@aigw/config';

/**
 * The web searches a request's Anthropic web_search tools allow at most (their `max_uses`,
 * added up), held at the model's per-search price (`webSearchPer1k`, else Anthropic's $10
 * per 1,000): a request letting Claude search 20 times may cost $0.20 beside its tokens.
 * A tool without `max_uses` has no bound, and adds nothing: its searches are charged when
 * the call settles.
 */
export function webSearchHold(
  body: GatewayRequest['body'],
): Pick<TokenCounts, 'serverToolRequests'> {
  const extras = body.provider_extras;
  if (typeof extras !== 'object' || extras === null || Array.isArray(extras)) return {};
  const tools = (extras as Record<string, unknown>)[ANTHROPIC_SERVER_TOOLS_EXTRA];
  if (!Array.isArray(tools)) return {};
  let searches = 0;
  for (const tool of tools) {
    if (typeof tool !== 'object' || tool === null) continue;
    const { type, max_uses: maxUses } = tool as Record<string, unknown>;
    if (anthropicServerToolOf(type) !== 'web_search') continue;
    if (typeof maxUses === 'number' && Number.isInteger(maxUses) && maxUses > 0) {
      searches += maxUses;
    }
  }
  return searches > 0 ? { serverToolRequests: { web_search: searches } } : {};
}
