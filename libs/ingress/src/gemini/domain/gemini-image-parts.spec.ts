import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { JsonObject, TokenUsage } from '@aigw/contracts/data-plane';
import { toGeminiResponse } from './gemini-response';
import { GeminiStreamTranslator } from './gemini-stream';

// An image model's images (gemini-2.5-flash-image through a Gemini or Vertex backend) come
// in the canonical answer as message.images / delta.images; a Gemini client got the text
// alone, the images it was billed for left out without a word.

const facts = { model: 'my-virtual', stream: false, includeThoughts: false };
const usage: TokenUsage = {
  inputTokens: 5,
  outputTokens: 1290,
  cachedInputTokens: 0,
  source: 'reported',
};
const PNG =
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==';
const IMAGE = { type: 'image_url', image_url: { url: `data:image/png;base64,${PNG}` } };

function partsOf(events: JsonObject[]): JsonObject[] {
  return events.flatMap((event) =>
    (event.candidates as JsonObject[]).flatMap(
      (candidate) => ((candidate.content as JsonObject | undefined)?.parts as JsonObject[]) ?? [],
    ),
  );
}

describe('Gemini answers with the images an image model made', () => {
  it('gives them as inlineData parts after the text', () => {
    const answer = toGeminiResponse(
      {
        choices: [
          {
            index: 0,
            message: { role: 'assistant', content: 'A cat:', images: [IMAGE] },
            finish_reason: 'stop',
          },
        ],
      },
      usage,
      facts,
      'req-1',
    );
    assert.deepEqual(partsOf([answer]), [
      { text: 'A cat:' },
      { inlineData: { mimeType: 'image/png', data: PNG } },
    ]);
  });

  it('streams them on the event that carried them', () => {
    const translator = new GeminiStreamTranslator({ ...facts, stream: true }, 'req-1');
    const events = [
      ...translator.push({ choices: [{ index: 0, delta: { content: 'A cat:' } }] }),
      ...translator.push({ choices: [{ index: 0, delta: { images: [IMAGE] } }] }),
      ...translator.push({ choices: [{ index: 0, delta: {}, finish_reason: 'stop' }] }),
      ...translator.finish(usage),
    ];
    assert.deepEqual(partsOf(events), [
      { text: 'A cat:' },
      { inlineData: { mimeType: 'image/png', data: PNG } },
    ]);
  });
});
