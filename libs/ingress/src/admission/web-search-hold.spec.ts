// A request letting Claude run Anthropic's web_search tool was held for its tokens alone,
// though each search bills $10 per 1,000 beside them: a dollar cap let through a call whose
// `max_uses: 50` could spend $0.50 on searches.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { GatewayRequest } from '@aigw/contracts/data-plane';
import { admissionOn, ask, refusalOf } from './admission-fixture';
import { webSearchHold } from './web-search-hold';

const BACKENDS = '    - {name: b, provider: anthropic, model: chat}';
/** Tokens free, searches at $10 per 1,000: the cap allows 30 searches. */
const POLICY = `  costControl:
    maxDailyCostPerUser: 0.3
    modelPricing: {chat: {inputPer1k: 0, outputPer1k: 0, webSearchPer1k: 10}}`;

function searching(userKey: string, tools: unknown[]): GatewayRequest {
  const request = ask(userKey);
  return {
    ...request,
    body: { ...request.body, provider_extras: { anthropic_server_tools: tools } },
  };
}

const webSearch = (maxUses?: number) => ({
  type: 'web_search_20250305',
  name: 'web_search',
  ...(maxUses === undefined ? {} : { max_uses: maxUses }),
});

describe("the budget hold of a request enabling Anthropic's web search", () => {
  it('holds the searches its max_uses allows at the per-search price', async () => {
    const { admission } = admissionOn(BACKENDS, POLICY);
    await admission.admit(searching('few', [webSearch(20)]));
    const error = await refusalOf(admission.admit(searching('many', [webSearch(50)])));
    assert.equal(error.httpStatus, 400);
    assert.match(error.message, /costControl\.maxDailyCostPerUser/);
  });

  it('adds up every web_search tool, and holds none for a tool without max_uses', () => {
    const body = (tools: unknown[]) => searching('u', tools).body;
    assert.deepEqual(
      webSearchHold(
        body([webSearch(3), { type: 'web_fetch_20250910', max_uses: 9 }, webSearch(4)]),
      ),
      { serverToolRequests: { web_search: 7 } },
    );
    assert.deepEqual(webSearchHold(body([webSearch()])), {});
    assert.deepEqual(webSearchHold(body([webSearch(-1), webSearch(1.5)])), {});
    assert.deepEqual(webSearchHold(ask('u').body), {});
  });

  it('holds one search for a Gemini request grounding with Google Search', async () => {
    const gemini = '    - {name: g, provider: google-gemini, model: chat}';
    // Tokens free, a grounded prompt at $35 per 1,000: past the whole day's cap.
    const policy = `  costControl:
    maxDailyCostPerUser: 0.03
    modelPricing: {chat: {inputPer1k: 0, outputPer1k: 0, groundedPromptPer1k: 35}}`;
    const { admission } = admissionOn(gemini, policy);
    const grounded = (userKey: string, tool: string): GatewayRequest => {
      const request = ask(userKey);
      return {
        ...request,
        body: { ...request.body, provider_extras: { gemini_tools: [{ [tool]: {} }] } },
      };
    };
    assert.deepEqual(webSearchHold(grounded('u', 'googleSearch').body), {
      serverToolRequests: { web_search: 1 },
    });
    assert.deepEqual(webSearchHold(grounded('u', 'googleSearchRetrieval').body), {
      serverToolRequests: { web_search: 1 },
    });
    assert.deepEqual(webSearchHold(grounded('u', 'codeExecution').body), {});
    // Free tokens alone fit; $0.035 held for the grounded prompt is more than the cap.
    await admission.admit(grounded('free', 'codeExecution'));
    const error = await refusalOf(admission.admit(grounded('grounded', 'googleSearch')));
    assert.equal(error.httpStatus, 400);
    assert.match(error.message, /costControl\.maxDailyCostPerUser/);
  });
});
