import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { gatewayChatRequest } from '@aigw/testing/fake-provider';
import { useFakeVertexEndpoints } from '../testing/fake-vertex-endpoints';

const PLACE = { project: 'proj-1', location: 'us-central1' };

describe('VertexAdapter: an answer Model Armor blocked', () => {
  const { gemini, target, invoke } = useFakeVertexEndpoints(PLACE);

  it('is a content_filter stop naming MODEL_ARMOR, not a finished answer', async () => {
    // Vertex's Candidate.FinishReason MODEL_ARMOR (10): "The model response was blocked
    // by Model Armor", a project's screening of Gemini's answers (Vertex only).
    gemini.next({
      kind: 'json',
      body: {
        candidates: [{ content: { role: 'model', parts: [] }, finishReason: 'MODEL_ARMOR' }],
        usageMetadata: { promptTokenCount: 9, candidatesTokenCount: 0, totalTokenCount: 9 },
        modelVersion: 'gemini-2.5-flash',
      },
    });
    const answer = await invoke(gatewayChatRequest(), target('gemini-2.5-flash', gemini.baseUrl));
    assert.equal(answer.kind, 'json');
    if (answer.kind !== 'json') return;
    const [choice] = answer.body.choices as {
      finish_reason: string;
      message: { extra_content?: { google?: { finish_reason?: string } } };
    }[];
    assert.equal(choice.finish_reason, 'content_filter');
    assert.equal(choice.message.extra_content?.google?.finish_reason, 'MODEL_ARMOR');
  });
});
