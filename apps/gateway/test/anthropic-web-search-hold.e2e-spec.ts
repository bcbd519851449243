// A Messages request letting Claude search the web through the all-in-one gateway is held
// for the searches its web_search tool's max_uses allows, at $10 per 1,000 (Anthropic's
// price), beside its tokens: a daily dollar cap refuses a request that could search past
// it before any search runs, and lets one through that fits.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import Anthropic from '@anthropic-ai/sdk';
import { startGatewayWithConfig, type AppProcess } from '@aigw/testing/processes';
import { FakeAnthropicWebSearch } from './fake-anthropic-web-search';

/** Room for about 30 searches beside a short call's tokens. */
const DAILY_CAP = 0.3;

const webSearch = (maxUses: number) => ({
  type: 'web_search_20250305' as const,
  name: 'web_search' as const,
  max_uses: maxUses,
});

describe("all-in-one gateway: a request's web searches are held against dollar caps", () => {
  const claude = new FakeAnthropicWebSearch();
  let gateway: AppProcess;
  let client: Anthropic;

  before(async () => {
    await claude.start();
    gateway = await startGatewayWithConfig(
      `kind: AIGatewayRoute
metadata: {name: search-hold}
spec:
  backends:
  - {name: claude, provider: anthropic, baseUrl: "${claude.origin}", model: claude-sonnet-4-5, modelNameOverride: claude-web, auth: {apiKeyRef: {name: anthropic-key}}}
  userIdentification: {header: x-user-id}
  costControl: {maxDailyCostPerUser: ${DAILY_CAP}}
`,
      { AI_GATEWAY_SECRET_ANTHROPIC_KEY_APIKEY: 'sk-ant-test' },
    );
    client = new Anthropic({ baseURL: gateway.baseUrl, apiKey: 'client-key', maxRetries: 0 });
  });
  after(async () => {
    await gateway?.stop();
    await claude.stop();
  });

  const ask = (user: string, maxUses: number) =>
    client.messages.create(
      {
        model: 'claude-web',
        max_tokens: 256,
        messages: [{ role: 'user', content: 'What happened today?' }],
        tools: [webSearch(maxUses)],
      },
      { headers: { 'x-user-id': user } },
    );

  it('refuses, in Anthropic’s shape, a request whose max_uses could search past the cap', async () => {
    claude.reset();
    // 50 searches are $0.50: more than the whole day's $0.30.
    await assert.rejects(ask('many', 50), (error: unknown) => {
      assert.ok(error instanceof Anthropic.APIError, String(error));
      assert.equal(error.status, 400, error.message);
      assert.match(error.message, /costControl\.maxDailyCostPerUser/);
      return true;
    });
    assert.equal(claude.calls.length, 0, 'no search ran');
  });

  it('serves a request whose searches fit the cap', async () => {
    const message = await ask('few', 5);
    assert.equal(message.usage.server_tool_use?.web_search_requests, 1);
  });
});
