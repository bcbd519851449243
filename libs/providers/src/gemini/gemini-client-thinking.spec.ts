import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { DataPlaneError, type JsonObject } from '@aigw/contracts/data-plane';
import { gatewayChatRequest } from '@aigw/testing/fake-provider';
import { fakeGeminiBackend } from '../testing/fake-gemini-backend';

// A Gemini client's thinkingConfig reaches a Gemini backend as the client meant it: its
// thought summaries asked for alone (the model thinking as it would), and a budget under
// the canonical request's floor of 1,024 (which Gemini takes: 2.5 Flash from 1, Pro 128).

describe("Gemini: a Gemini client's own thinking settings", () => {
  const { upstream, invoke } = fakeGeminiBackend();
  const sent = async (body: JsonObject) => {
    await invoke(gatewayChatRequest(body));
    return upstream.calls.at(-1)?.body.generationConfig;
  };

  it('asks for the thought summaries alone, leaving the thinking to the model', async () => {
    assert.deepEqual(await sent({ provider_extras: { include_thoughts: true } }), {
      thinkingConfig: { includeThoughts: true },
    });
  });

  it("sends the client's budget under the canonical floor as it came", async () => {
    const thinking = { type: 'enabled', budget_tokens: 1024 };
    assert.deepEqual(
      await sent({ thinking, provider_extras: { thinking_budget: 512, include_thoughts: true } }),
      { thinkingConfig: { thinkingBudget: 512, includeThoughts: true } },
    );
  });

  it('keeps thinking off when it is asked off', async () => {
    assert.deepEqual(
      await sent({ thinking: { type: 'disabled' }, provider_extras: { include_thoughts: true } }),
      { thinkingConfig: { thinkingBudget: 0 } },
    );
  });

  it('refuses a malformed setting with a 400 naming it, the backend not called', async () => {
    for (const extras of [
      { include_thoughts: 'yes' },
      { thinking_budget: 1.5 },
      { thinking_budget: 0 },
      { thinking_budget: '512' },
      // At the floor and above, the canonical thinking says it (and the hold counts it).
      { thinking_budget: 1024 },
      { thinking_budget: 50_000 },
    ]) {
      await assert.rejects(
        invoke(gatewayChatRequest({ provider_extras: extras })),
        (error: unknown) =>
          error instanceof DataPlaneError &&
          error.httpStatus === 400 &&
          error.message.includes(Object.keys(extras)[0]),
        JSON.stringify(extras),
      );
    }
    assert.equal(upstream.calls.length, 0);
  });
});
