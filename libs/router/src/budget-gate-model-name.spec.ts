import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { bindLimit, ExhaustionView, modelBudgetGate, modelLimits } from '@aigw/budget-core';
import { DataPlaneError } from '@aigw/contracts/data-plane';
import { configFromYaml as configFrom } from '@aigw/testing';
import { FailoverRouter } from './failover-router';
import { chatRequest, ScriptedProviders } from './testing/scripted-providers';

// The per-model gate keys its limits by the model a backend runs; its 429 reaches a client
// that asked for another name (modelNameOverride), which it must name instead.
const CONFIG = configFrom(`
kind: AIGatewayRoute
metadata: {name: r}
spec:
  backends:
  - {name: limited, priority: 0, provider: openai, model: gpt-4-turbo, modelNameOverride: chat}
  failover: {on: [error]}
  tokenRateLimit:
    perModel:
      gpt-4-turbo: {tokensPerMinute: 2000}
`);

describe("the per-model gate's refusal", () => {
  it('names the model the client asked for, not the one the backend runs', async () => {
    const now = Date.UTC(2026, 0, 1, 12, 0, 20);
    const view = new ExhaustionView();
    const [limit] = modelLimits(CONFIG.routes[0], 'gpt-4-turbo').map((l) => bindLimit(l, now));
    view.markExhausted(limit.subject, limit.kind, limit.windowRef.id, limit.windowRef.endsAt);
    const router = new FailoverRouter({
      config: () => CONFIG,
      providers: new ScriptedProviders({}),
      modelBudgetGate: modelBudgetGate(view, () => now),
    });
    const request = chatRequest({
      requestedModel: 'chat',
      body: { model: 'chat', messages: [{ role: 'user', content: 'hi' }] },
    });
    await assert.rejects(router.route(request, new AbortController().signal), (error) => {
      assert.ok(error instanceof DataPlaneError);
      assert.equal(error.httpStatus, 429);
      assert.equal(
        error.message,
        'The model "chat" has used its 2000 tokens of tokenRateLimit.perModel.tokensPerMinute for this minute',
      );
      return true;
    });
  });
});
