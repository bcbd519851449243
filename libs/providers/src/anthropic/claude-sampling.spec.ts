import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseChatRequest } from '../core/chat-request';
import { claudeSampling, type SamplingDropReason, type SamplingSetting } from './claude-sampling';

const prompt = (fields: Record<string, unknown>) =>
  parseChatRequest({ model: 'm', messages: [{ role: 'user', content: 'hi' }], ...fields });

const ALL = { temperature: 0.3, top_p: 0.9, provider_extras: { top_k: 40 } };

/** What `claudeSampling` keeps of ALL for `model`, and what it told of leaving out. */
function sampled(model: string, thinking = false) {
  const dropped: [SamplingSetting, SamplingDropReason][] = [];
  const kept = claudeSampling(prompt(ALL), model, thinking, (setting, reason) =>
    dropped.push([setting, reason]),
  );
  return { kept, dropped };
}

// Which rule each model id gets is in claude-models.spec, with every naming.

describe('the sampling settings sent to a Claude model', () => {
  it('leaves out all three for Opus 4.7, each told once as the model refusing it', () => {
    assert.deepEqual(sampled('claude-opus-4-7'), {
      kept: {},
      dropped: [
        ['temperature', 'model'],
        ['top_p', 'model'],
        ['top_k', 'model'],
      ],
    });
    // Thinking on changes nothing there: each is still told once, as the model's.
    assert.equal(sampled('claude-opus-4-7', true).dropped.length, 3);
  });

  it('keeps the temperature and leaves out top_p beside it where only one is taken', () => {
    assert.deepEqual(sampled('claude-sonnet-4-5'), {
      kept: { temperature: 0.3, topK: 40 },
      dropped: [['top_p', 'model']],
    });
    // A top_p alone is taken.
    const alone = claudeSampling(prompt({ top_p: 0.9 }), 'claude-sonnet-4-5', false);
    assert.deepEqual(alone, { topP: 0.9 });
  });

  it('keeps a top_p of 0.95 to 1 with thinking on, where the temperature thinking refuses has gone', () => {
    const near = { ...ALL, top_p: 0.97 };
    for (const model of ['claude-sonnet-4-6', 'claude-3-7-sonnet-20250219']) {
      const dropped: [SamplingSetting, SamplingDropReason][] = [];
      const kept = claudeSampling(prompt(near), model, true, (setting, reason) =>
        dropped.push([setting, reason]),
      );
      assert.deepEqual(kept, { topP: 0.97 }, model);
      assert.deepEqual(dropped, [
        ['temperature', 'thinking'],
        ['top_k', 'thinking'],
      ]);
    }
  });

  it('leaves out a top_p under 0.95 with thinking on, which Claude refuses then', () => {
    for (const model of ['claude-sonnet-4-6', 'claude-3-7-sonnet-20250219', 'claude-opus-4-1']) {
      assert.deepEqual(
        sampled(model, true),
        {
          kept: {},
          dropped: [
            ['temperature', 'thinking'],
            ['top_k', 'thinking'],
            ['top_p', 'thinking'],
          ],
        },
        model,
      );
    }
    const alone = claudeSampling(prompt({ top_p: 0.5 }), 'claude-sonnet-4-20250514', true);
    assert.deepEqual(alone, {});
  });

  it('keeps all three on older models and models it does not judge', () => {
    for (const model of ['claude-3-7-sonnet-20250219', 'claude-sonnet-4-20250514', 'kimi-k2']) {
      assert.deepEqual(sampled(model), {
        kept: { temperature: 0.3, topP: 0.9, topK: 40 },
        dropped: [],
      });
    }
  });

  it('tells of nothing the client did not send', () => {
    const dropped: string[] = [];
    claudeSampling(prompt({}), 'claude-opus-4-7', true, (setting) => dropped.push(setting));
    assert.deepEqual(dropped, []);
  });
});
