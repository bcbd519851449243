// Grounding with Google Search bills beside the tokens (Gemini 3 per query, 2.x per grounded
// prompt), but nothing read the answer's groundingMetadata: the usage had no searches, so a
// grounded call cost its tokens alone in budgets, metrics and the cost header.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fromGeminiResponse } from './gemini-response';
import { GeminiStreamTranslation } from './gemini-stream';

const USAGE = { promptTokenCount: 30, candidatesTokenCount: 12, totalTokenCount: 42 };
const grounded = (queries: unknown[]) => ({
  groundingMetadata: {
    webSearchQueries: queries,
    groundingChunks: [{ web: { uri: 'https://example.com', title: 'example.com' } }],
  },
});
const candidate = (text: string, extra: Record<string, unknown> = {}) => ({
  content: { role: 'model', parts: [{ text }] },
  ...extra,
});
const sse = (data: unknown) => ({ event: undefined, id: undefined, data: JSON.stringify(data) });

describe("Gemini's Google Search queries on the usage", () => {
  it("counts a JSON answer's webSearchQueries as web searches", () => {
    const body = {
      candidates: [
        candidate('Paris.', {
          finishReason: 'STOP',
          ...grounded(['weather paris', 'paris forecast', 7]),
        }),
      ],
      usageMetadata: USAGE,
    };
    const answer = fromGeminiResponse(body, 'gemini-3-flash-preview', 'gemini');
    assert.deepEqual(answer?.usage.serverToolRequests, { web_search: 2 });
    assert.equal(answer?.usage.inputTokens, 30);
  });

  it('counts none for an answer that did not search', () => {
    const body = { candidates: [candidate('Hi.', { finishReason: 'STOP' })], usageMetadata: USAGE };
    const answer = fromGeminiResponse(body, 'gemini-2.5-flash', 'gemini');
    assert.equal(answer?.usage.serverToolRequests, undefined);
    const empty = {
      ...body,
      candidates: [candidate('Hi.', { finishReason: 'STOP', ...grounded([]) })],
    };
    assert.equal(
      fromGeminiResponse(empty, 'gemini-2.5-flash', 'gemini')?.usage.serverToolRequests,
      undefined,
    );
  });

  it("counts a stream's queries once each, however often its metadata comes, and after the finish", () => {
    const translation = new GeminiStreamTranslation('gemini', 'gemini-3-flash-preview', 2);
    translation.translate(
      sse({ candidates: [candidate('Par', grounded(['weather paris']))], usageMetadata: USAGE }),
    );
    translation.translate(
      sse({
        candidates: [
          candidate('is.', { finishReason: 'STOP', ...grounded(['weather paris', 'forecast']) }),
          { ...candidate('Nice.', { finishReason: 'STOP' }), index: 1 },
        ],
        usageMetadata: USAGE,
      }),
    );
    assert.equal(translation.finished, true);
    assert.deepEqual(translation.reportedUsage()?.serverToolRequests, { web_search: 2 });
    // The second candidate's grounding, in an event after both finished.
    translation.translate(
      sse({ candidates: [{ index: 1, ...grounded(['nice weather']) }], usageMetadata: USAGE }),
    );
    assert.deepEqual(translation.reportedUsage()?.serverToolRequests, { web_search: 3 });
  });
});
