import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { JsonObject } from '@aigw/contracts/data-plane';
import { fromAnthropicMessage } from './anthropic-response';
import { AnthropicStreamTranslation } from './anthropic-stream';

// The tier Anthropic served a call at (usage.service_tier) rides on the call's usage, in
// OpenAI's terms, as an OpenAI-format backend's does: a route's serviceTierFactors price it,
// and a tier its price has no factor for is counted as unpriced.

const usage = { input_tokens: 10, output_tokens: 5, service_tier: 'priority' };

describe("an Anthropic answer's service tier on its usage", () => {
  it('rides on a message', () => {
    const answer = fromAnthropicMessage(
      { type: 'message', content: [{ type: 'text', text: 'Hi.' }], usage },
      'claude',
    );
    assert.equal(answer?.usage.serviceTier, 'priority');
  });

  it("rides on a stream's, from message_start", () => {
    const translation = new AnthropicStreamTranslation('claude', 'claude');
    const events: JsonObject[] = [
      { type: 'message_start', message: { id: 'msg_1', usage: { ...usage, output_tokens: 1 } } },
      { type: 'message_delta', delta: { stop_reason: 'end_turn' }, usage: { output_tokens: 5 } },
      { type: 'message_stop' },
    ];
    for (const event of events) translation.translate({ event: '', data: JSON.stringify(event) });
    assert.equal(translation.reportedUsage()?.serviceTier, 'priority');
    assert.equal(translation.reportedUsage()?.outputTokens, 5);
  });
});
