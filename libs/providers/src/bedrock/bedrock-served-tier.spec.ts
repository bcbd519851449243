import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { NO_USAGE } from '../core/usage';
import { fromConverseResponse } from './bedrock-response';
import { BedrockStreamTranslation } from './bedrock-stream';

// The tier Bedrock served a call at (its `serviceTier`) rides on the call's usage, as an
// OpenAI-format backend's does: a route's serviceTierFactors price it (Bedrock bills
// priority above its standard price, flex below), and a tier its price has no factor for is
// counted as unpriced.

const usage = { inputTokens: 10, outputTokens: 5, totalTokens: 15 };

describe("a Converse answer's service tier on its usage", () => {
  it('rides on an answer', () => {
    const answer = fromConverseResponse(
      {
        output: { message: { role: 'assistant', content: [{ text: 'Hi.' }] } },
        stopReason: 'end_turn',
        usage,
        serviceTier: { type: 'priority' },
      },
      { id: 'id', model: 'claude', backendName: 'bedrock-1', estimateUsage: () => NO_USAGE },
    );
    assert.equal(answer?.usage.serviceTier, 'priority');
  });

  it("rides on a stream's, from its metadata event", () => {
    const translation = new BedrockStreamTranslation('bedrock-1', 'id', 'claude');
    const events = [
      { name: 'messageStart', payload: { role: 'assistant' } },
      { name: 'contentBlockDelta', payload: { contentBlockIndex: 0, delta: { text: 'Hi.' } } },
      { name: 'messageStop', payload: { stopReason: 'end_turn' } },
      { name: 'metadata', payload: { usage, serviceTier: { type: 'flex' } } },
    ];
    for (const event of events) translation.translate({ kind: 'event', ...event });
    assert.equal(translation.reportedUsage()?.serviceTier, 'flex');
  });
});
