import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ApiError, GoogleGenAI } from '@google/genai';
import { FakeGeminiUpstream } from '@aigw/testing/fake-provider';
import type { AppProcess } from '@aigw/testing/processes';
import { startOnGeminiBackend } from './gemini-backend';

// Google's SDK naming a tuned model (`model: 'tunedModels/my-tuned'`) calls
// `/v1beta/tunedModels/my-tuned:generateContent`, which the gateway answered with a 404 for
// the path whatever its routes. A route whose virtual model is that name serves it (its
// Gemini backend called at the tuned model's own path); any other is the unknown model's 404.

const TUNED = 'tunedModels/my-tuned';

describe('Gemini API: a tuned model by its tunedModels/ name', () => {
  const gemini = new FakeGeminiUpstream();
  let gateway: AppProcess;
  let client: GoogleGenAI;

  before(async () => {
    await gemini.start();
    gateway = await startOnGeminiBackend(gemini, TUNED, TUNED);
    client = new GoogleGenAI({ apiKey: 'client-key', httpOptions: { baseUrl: gateway.baseUrl } });
  });
  after(async () => {
    await gateway.stop();
    await gemini.stop();
  });

  it('is served by the route of that name, at the tuned model path of its backend', async () => {
    const answer = await client.models.generateContent({ model: TUNED, contents: 'Hello' });
    assert.ok(answer.text !== undefined && answer.text.length > 0);
    assert.equal(answer.modelVersion, TUNED);
    assert.equal(gemini.calls.at(-1)!.path, `/v1beta/${TUNED}:generateContent`);
    // Streamed, and counted, alike.
    let streamed = '';
    for await (const chunk of await client.models.generateContentStream({
      model: TUNED,
      contents: 'Hello',
    })) {
      streamed += chunk.text ?? '';
    }
    assert.ok(streamed.length > 0);
    assert.equal(gemini.calls.at(-1)!.path, `/v1beta/${TUNED}:streamGenerateContent`);
    const counted = await client.models.countTokens({ model: TUNED, contents: 'Hello' });
    assert.ok((counted.totalTokens ?? 0) > 0);
  });

  it("answers a tuned model no route serves with Google's 404 naming the model", async () => {
    const calls = gemini.calls.length;
    await assert.rejects(
      client.models.generateContent({ model: 'tunedModels/not-here', contents: 'Hello' }),
      (error: unknown) =>
        error instanceof ApiError &&
        error.status === 404 &&
        error.message.includes('NOT_FOUND') &&
        error.message.includes('tunedModels/not-here'),
    );
    assert.equal(gemini.calls.length, calls);
  });
});
