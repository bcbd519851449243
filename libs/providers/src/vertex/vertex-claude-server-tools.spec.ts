import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { DataPlaneError, DataPlaneErrorCode } from '@aigw/contracts/data-plane';
import { gatewayChatRequest } from '@aigw/testing/fake-provider';
import { useFakeVertexEndpoints } from '../testing/fake-vertex-endpoints';

// Claude on Vertex AI runs Anthropic's web search (Google's "Web search with Anthropic
// Claude models", behind the web-search-2025-03-05 beta) and no other server tool; Gemini
// on Vertex runs none of Anthropic's.

const PLACE = { project: 'proj-1', location: 'us-central1' };
const WEB_SEARCH = { type: 'web_search_20250305', name: 'web_search', max_uses: 2 };
const WEB_FETCH = { type: 'web_fetch_20250910', name: 'web_fetch' };

describe('VertexAdapter: Anthropic server tools', () => {
  const { gemini, claude, target, invoke } = useFakeVertexEndpoints(PLACE);
  const asking = (tools: object[], betas?: string) =>
    gatewayChatRequest(
      { max_tokens: 64, provider_extras: { anthropic_server_tools: tools } },
      betas === undefined ? {} : { forwardHeaders: { 'anthropic-beta': betas } },
    );
  const refusing = (tool: string) => (error: unknown) =>
    error instanceof DataPlaneError &&
    error.code === DataPlaneErrorCode.InvalidRequest &&
    new RegExp(`the ${tool} server tool is run by`).test(error.message);

  it('sends Claude web search as written, with the beta Vertex wants beside the kept ones', async () => {
    await invoke(
      asking([WEB_SEARCH], 'claude-code-20250219,interleaved-thinking-2025-05-14'),
      target('claude-sonnet-4-5@20250929', claude.baseUrl),
    );
    const [call] = claude.calls;
    assert.deepEqual(call.body.tools, [WEB_SEARCH]);
    assert.equal(
      call.headers['anthropic-beta'],
      'interleaved-thinking-2025-05-14,web-search-2025-03-05',
    );
  });

  it('refuses web fetch on Claude, and any server tool on Gemini, calling neither', async () => {
    await assert.rejects(
      invoke(asking([WEB_FETCH]), target('claude-sonnet-4-5@20250929', claude.baseUrl)),
      refusing('web_fetch'),
    );
    await assert.rejects(
      invoke(asking([WEB_SEARCH]), target('gemini-2.5-flash', gemini.baseUrl)),
      refusing('web_search'),
    );
    assert.equal(claude.calls.length + gemini.calls.length, 0);
  });
});
